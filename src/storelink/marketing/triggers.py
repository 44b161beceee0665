"""When members meet a campaign's trigger, each gets one row in marketing_message: treated (a
message PENDING for the sender) or held out (CONTROL). The unique (campaign, member) index makes
this at most once per member per campaign, however many workers or reports race.

The worker queues BROADCASTs (the whole audience, once, when the campaign starts) and the
delayed triggers (below); STORE_NEARBY is queued by reportLocation (marketing/nearby.py).
"""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from sqlalchemy import ColumnElement, Select, case, exists, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storelink.appointments.models import Appointment
from storelink.catalog.models import Sku
from storelink.db import transaction
from storelink.marketing import audience as audiences
from storelink.marketing.campaigns import running, treated_sql
from storelink.marketing.models import Activity, CampaignTrigger, MarketingCampaign, MarketingMessage
from storelink.members.models import Membership
from storelink.orders.models import PAID_STATUSES, CartLine, Order, OrderLine
from storelink.settings import Settings

# Events older than this before they became due are not looked at again: the worker runs every
# few seconds, so this only matters after a long outage (those members are simply not reached).
LOOKBACK = dt.timedelta(days=2)


def enrol(campaign: MarketingCampaign | SimpleNamespace, matched: Select, now: dt.datetime | ColumnElement[dt.datetime],
          **extra):
    """INSERT one row per member of `matched` (a select with a customer_id column), treated or
    control by the campaign's hash; members already in the campaign are skipped. `campaign` may
    be a row with the campaign's id, control_share and template_id; any value may be a bind
    parameter instead (reportLocation builds its statement once)."""
    found = matched.subquery()
    treated = treated_sql(_sql(campaign.id), found.c.customer_id, campaign.control_share)
    columns = {
        "campaign_id": _sql(campaign.id), "customer_id": found.c.customer_id, "treated": treated,
        "status": case((treated, "PENDING"), else_="CONTROL"), "template_id": _sql(campaign.template_id),
        "eligible_at": _sql(now), "due_at": _sql(now), "attempts": literal(0),
        **{name: _sql(value) for name, value in extra.items()}}
    messages = MarketingMessage.__table__  # Core, not the ORM's bulk insert: this runs on every nearby report
    return (insert(messages)
            .from_select(list(columns), select(*columns.values()))
            .on_conflict_do_nothing(index_elements=["campaign_id", "customer_id"],
                                    index_where=messages.c.campaign_id.isnot(None)))


def _sql(value):
    return value if isinstance(value, ColumnElement) else literal(value)


def _fired(trigger: CampaignTrigger, since: dt.datetime, until: dt.datetime):
    """Customer ids whose trigger event happened in [since, until] and was not followed up."""
    if trigger == CampaignTrigger.BROWSE_ABANDONED:
        in_cart = exists().where(CartLine.customer_id == Activity.customer_id, CartLine.sku_id == Sku.id,
                                 Sku.product_id == Activity.product_id)
        ordered = (select(Order.id).join(OrderLine, OrderLine.order_id == Order.id)
                   .join(Sku, Sku.id == OrderLine.sku_id)
                   .where(Order.customer_id == Activity.customer_id, Order.created_at >= Activity.at,
                          Sku.product_id == Activity.product_id).exists())
        return select(Activity.customer_id).where(
            Activity.kind == "PRODUCT_VIEW", Activity.at.between(since, until), ~in_cart, ~ordered)
    if trigger == CampaignTrigger.CART_ABANDONED:
        changed = func.max(func.greatest(CartLine.created_at, func.coalesce(CartLine.pushed_at, CartLine.created_at)))
        carts = (select(CartLine.customer_id, changed.label("changed")).group_by(CartLine.customer_id)
                 .having(changed.between(since, until)).subquery())
        ordered = exists().where(Order.customer_id == carts.c.customer_id, Order.created_at >= carts.c.changed)
        return select(carts.c.customer_id).where(~ordered)
    if trigger == CampaignTrigger.AFTER_STORE_PURCHASE:
        later = Order.__table__.alias("later")
        online_after = exists().where(later.c.customer_id == Order.customer_id, later.c.channel == "ONLINE",
                                      later.c.created_at >= Order.paid_at)
        return select(Order.customer_id).where(
            Order.channel == "STORE", Order.status.in_(PAID_STATUSES), Order.customer_id.isnot(None),
            Order.paid_at.between(since, until), ~online_after)
    if trigger == CampaignTrigger.AFTER_APPOINTMENT:
        return select(Appointment.customer_id).where(
            Appointment.status.in_(("CHECKED_IN", "COMPLETED")), Appointment.checked_in_at.between(since, until))
    raise ValueError(trigger)


async def _queue(session: AsyncSession, campaign: MarketingCampaign, now: dt.datetime, settings: Settings) -> None:
    rule = audiences.Rule.from_json(campaign.audience)
    matched = audiences.members(rule, now, settings)
    trigger = CampaignTrigger(campaign.trigger)
    if trigger == CampaignTrigger.BROADCAST:
        claimed = (await session.execute(
            update(MarketingCampaign).where(MarketingCampaign.id == campaign.id,
                                            MarketingCampaign.broadcast_at.is_(None))
            .values(broadcast_at=now).returning(MarketingCampaign.id))).first()
        if claimed is None:
            return  # another worker queued it
    else:
        until = now - dt.timedelta(minutes=campaign.delay_minutes or 0)
        since = max(campaign.starts_at, until - LOOKBACK)
        if since > until:
            return
        matched = matched.where(Membership.customer_id.in_(_fired(trigger, since, until)))
    await session.execute(enrol(campaign, matched, now))


async def queue_due(sessionmaker: async_sessionmaker, settings: Settings, *, now: dt.datetime) -> int:
    """Queue what the running campaigns' triggers call for; returns how many campaigns were looked at."""
    async def work(session: AsyncSession) -> int:
        campaigns = (await session.execute(select(MarketingCampaign).where(
            *running(now), MarketingCampaign.trigger != CampaignTrigger.STORE_NEARBY.value,
            or_(MarketingCampaign.trigger != CampaignTrigger.BROADCAST.value,
                MarketingCampaign.broadcast_at.is_(None))))).scalars().all()
        for campaign in campaigns:
            await _queue(session, campaign, now, settings)
        return len(campaigns)

    return await transaction(sessionmaker, work)
