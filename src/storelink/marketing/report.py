"""A campaign's report: what happened to its messages, and what it caused, measured against its
control group (API-NOTES "Marketing"; README "Campaigns").

Conversion is intent-to-treat: every treated member counts, reached or not, against every held-out
member, each from the moment they met the trigger (eligibleAt; a treated member's message goes
then, or when quiet hours end). Comparing only the members a message reached with the whole
control group would credit the campaign with the difference between reachable members (consent,
a credit) and the rest.

The lift is the difference of the two conversion rates; its 95% interval is Newcombe's hybrid
score interval (his method 10), built from the Wilson interval of each rate: it stays inside
[-1, 1] and behaves with small groups and rates near 0, where the textbook Wald interval does not.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.loyalty.models import Coupon
from storelink.marketing.models import MarketingMessage
from storelink.orders.models import PAID_STATUSES, Order

Z95 = 1.959963984540054
MAX_ATTRIBUTION_DAYS = 90


@dataclass(frozen=True)
class Report:
    eligible: int
    control: int
    sent: int
    unreachable: int
    suppressed: int
    failed: int
    coupons_issued: int
    coupons_redeemed_online: int
    coupons_redeemed_in_store: int
    treated_converted: int
    control_converted: int
    treated_conversion_rate: float
    control_conversion_rate: float
    lift: float
    lift_low: float
    lift_high: float
    gmv_fen: int


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion; (0, 1) when there is nothing to go on."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def lift_interval(treated_converted: int, treated: int, control_converted: int, control: int
                  ) -> tuple[float, float, float]:
    """(p1 - p0, low, high): Newcombe's hybrid score interval for the difference of two proportions."""
    p1 = treated_converted / treated if treated else 0.0
    p0 = control_converted / control if control else 0.0
    l1, u1 = wilson(treated_converted, treated)
    l0, u0 = wilson(control_converted, control)
    d = p1 - p0
    low = d - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    return d, max(-1.0, low), min(1.0, high)


async def of(session: AsyncSession, campaign_id: int, attribution_days: int) -> Report:
    m = MarketingMessage
    window = dt.timedelta(days=attribution_days)
    in_window = (Order.customer_id == m.customer_id, Order.status.in_(PAID_STATUSES),
                 Order.paid_at >= m.eligible_at, Order.paid_at < m.eligible_at + window)
    converted = select(Order.id).where(*in_window).exists()
    spent = select(func.coalesce(func.sum(Order.total_fen), 0)).where(*in_window).scalar_subquery()
    redeemed = (select(Order.channel).join(Coupon, Coupon.order_id == Order.id)
                .where(Coupon.id == m.coupon_id, Coupon.status == "REDEEMED").scalar_subquery())
    row = (await session.execute(select(
        func.count(), func.count().filter(~m.treated), func.count().filter(m.status == "SENT"),
        func.count().filter(m.status == "UNREACHABLE"), func.count().filter(m.status == "SUPPRESSED"),
        func.count().filter(m.status == "FAILED"), func.count(m.coupon_id),
        func.count().filter(redeemed == "ONLINE"), func.count().filter(redeemed == "STORE"),
        func.count().filter(m.treated, converted), func.count().filter(~m.treated, converted),
        func.coalesce(func.sum(spent).filter(m.treated), 0),
    ).where(m.campaign_id == campaign_id))).one()
    (eligible, control, sent, unreachable, suppressed, failed, issued, online, in_store, treated_converted,
     control_converted, gmv) = row
    treated = eligible - control
    lift, low, high = lift_interval(treated_converted, treated, control_converted, control)
    return Report(
        eligible=eligible, control=control, sent=sent, unreachable=unreachable, suppressed=suppressed,
        failed=failed, coupons_issued=issued, coupons_redeemed_online=online, coupons_redeemed_in_store=in_store,
        treated_converted=treated_converted, control_converted=control_converted,
        treated_conversion_rate=treated_converted / treated if treated else 0.0,
        control_conversion_rate=control_converted / control if control else 0.0,
        lift=lift, lift_low=low, lift_high=high, gmv_fen=int(gmv))
