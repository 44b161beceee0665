"""Store and guide KPIs (API-NOTES, "Attribution and KPIs"), exact, over inclusive days in the
store's timezone.

Orders count when paid and not wholly refunded (a later whole refund removes them from every
period); refunds count on the day they are decided (refundedFen), credited like their order; each
order keeps the store and guides it was credited to when placed, so a later transfer or
rebinding never moves past credit. One set-based query per kind of fact, grouped by the scope's
key, serves one store, one guide, or every guide of a leaderboard alike; the indexes on
(store_id, paid_at), (guide_id, paid_at) and paid_at keep a month of one scope to its own rows.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.accounts.models import Staff, StaffRole
from storelink.appointments.models import Appointment
from storelink.errors import InvalidInput
from storelink.members.models import JoinChannel, JoinCode, JoinScan, Membership
from storelink.orders.models import PAID_STATUSES, Order
from storelink.returns.models import Refund, RefundStatus
from storelink.stores.models import Store

MAX_DAYS = 366
IN_STORE_CHANNELS = (JoinChannel.STORE_QR.value, JoinChannel.GUIDE_QR.value)
ATTENDED = ("CHECKED_IN", "COMPLETED")


@dataclass
class Figures:
    new_members: int = 0
    new_members_by_channel: dict[str, int] = field(default_factory=dict)
    purchasing_members: int = 0
    repurchasing_members: int = 0
    store_to_online_members: int = 0
    online_to_store_members: int = 0
    online_gmv_fen: int = 0
    store_gmv_fen: int = 0
    refunded_fen: int = 0
    appointments_booked: int = 0
    appointments_attended: int = 0
    join_scans: int = 0
    scan_joins: int = 0

    @property
    def repurchase_rate(self) -> float:
        return self.repurchasing_members / self.purchasing_members if self.purchasing_members else 0.0

    @property
    def gmv_fen(self) -> int:
        return self.online_gmv_fen + self.store_gmv_fen


@dataclass(frozen=True)
class Period:
    first: dt.date
    last: dt.date
    timezone: str

    @property
    def starts(self) -> dt.datetime:
        return dt.datetime.combine(self.first, dt.time(), ZoneInfo(self.timezone)).astimezone(dt.timezone.utc)

    @property
    def ends(self) -> dt.datetime:
        """Exclusive: the start of the day after the last."""
        nxt = self.last + dt.timedelta(days=1)
        return dt.datetime.combine(nxt, dt.time(), ZoneInfo(self.timezone)).astimezone(dt.timezone.utc)


def period(first: dt.date, last: dt.date, timezone: str) -> Period:
    if last < first:
        raise InvalidInput("`to` must not be before `from`", field=["to"])
    if (last - first).days >= MAX_DAYS:
        raise InvalidInput("A report covers at most {n} days; choose a shorter period", n=MAX_DAYS, field=["to"])
    return Period(first, last, timezone)


# What "credited here" means for each scope: (order column, join column, appointment column).
_SCOPES = {
    "store": (Order.store_id, Membership.join_store_id, Appointment.store_id),
    "guide": (Order.guide_id, Membership.recruited_by_id, Appointment.guide_id),
}


async def figures(session: AsyncSession, *, scope: str, keys: Sequence[int] | None, period: Period
                  ) -> dict[int, Figures]:
    """Figures for each key (store ids or guide ids); keys=None: every key with any activity."""
    order_key, join_key, appointment_key = _SCOPES[scope]
    found: dict[int, Figures] = {k: Figures() for k in keys or []}

    def get(key: int) -> Figures:
        return found.setdefault(key, Figures())

    def scoped(column):
        return column.in_(keys) if keys is not None else column.is_not(None)

    # Orders: per member first (guests and non-members form one row per key, counted in GMV
    # only), then per key. The buyer's join channel is on the order: no join, index-only scans.
    is_member = Order.member_channel.is_not(None)
    per_member = (
        select(
            order_key.label("key"), Order.customer_id, is_member.label("member"),
            Order.member_channel.label("join_channel"),
            func.count().label("orders"),
            func.count().filter(Order.channel == "ONLINE").label("online_orders"),
            func.count().filter(Order.channel == "STORE").label("store_orders"),
            func.coalesce(func.sum(Order.total_fen).filter(Order.channel == "ONLINE"), 0).label("online_gmv"),
            func.coalesce(func.sum(Order.total_fen).filter(Order.channel == "STORE"), 0).label("store_gmv"),
        )
        .where(scoped(order_key), Order.status.in_(PAID_STATUSES),
               Order.paid_at >= period.starts, Order.paid_at < period.ends)
        .group_by(order_key, Order.customer_id, Order.member_channel)
        .subquery()
    )
    pm = per_member.c
    rows = await session.execute(
        select(
            pm.key,
            func.count().filter(pm.member),
            func.count().filter(pm.member, pm.orders >= 2),
            func.count().filter(pm.member, pm.online_orders > 0, pm.join_channel.in_(IN_STORE_CHANNELS)),
            func.count().filter(pm.member, pm.store_orders > 0, pm.join_channel == JoinChannel.ONLINE.value),
            func.sum(pm.online_gmv), func.sum(pm.store_gmv),
        ).group_by(pm.key)
    )
    for key, purchasing, repurchasing, to_online, to_store, online_gmv, store_gmv in rows:
        f = get(key)
        f.purchasing_members, f.repurchasing_members = purchasing, repurchasing
        f.store_to_online_members, f.online_to_store_members = to_online, to_store
        f.online_gmv_fen, f.store_gmv_fen = int(online_gmv), int(store_gmv)

    # Refunds decided on the period's days (returns, unshippable lines, refundOrder), credited
    # like their order; a whole refund also takes the order out of GMV (above).
    rows = await session.execute(
        select(order_key, func.sum(Refund.amount_fen)).join(Order, Order.id == Refund.order_id)
        .where(scoped(order_key), Refund.status != RefundStatus.FAILED.value,
               Refund.created_at >= period.starts, Refund.created_at < period.ends)
        .group_by(order_key)
    )
    for key, refunded in rows:
        get(key).refunded_fen = int(refunded)

    # Joins credited here.
    rows = await session.execute(
        select(join_key, Membership.join_channel, func.count())
        .where(scoped(join_key), Membership.joined_at >= period.starts, Membership.joined_at < period.ends)
        .group_by(join_key, Membership.join_channel)
    )
    for key, channel, count in rows:
        f = get(key)
        f.new_members_by_channel[channel] = count
        f.new_members += count

    # Appointments on the period's days (booked: not cancelled; attended: checked in or done).
    rows = await session.execute(
        select(appointment_key, func.count().filter(Appointment.status != "CANCELLED"),
               func.count().filter(Appointment.status.in_(ATTENDED)))
        .where(scoped(appointment_key), Appointment.local_day >= period.first, Appointment.local_day <= period.last)
        .group_by(appointment_key)
    )
    for key, booked, attended in rows:
        f = get(key)
        f.appointments_booked, f.appointments_attended = booked, attended

    # The scan funnel: scans of the scope's join codes, and those that made a member.
    scan_key = JoinScan.store_id if scope == "store" else JoinCode.guide_id
    stmt = select(scan_key, func.count(), func.count().filter(JoinScan.outcome == "JOINED"))
    if scope == "guide":
        stmt = stmt.select_from(JoinScan).join(JoinCode, JoinCode.id == JoinScan.join_code_id)
    rows = await session.execute(
        stmt.where(scoped(scan_key), JoinScan.scanned_at >= period.starts, JoinScan.scanned_at < period.ends)
        .group_by(scan_key)
    )
    for key, scans, joins in rows:
        f = get(key)
        f.join_scans, f.scan_joins = scans, joins
    return found


def metric_value(f: Figures, metric: str) -> float:
    return {"NEW_MEMBERS": f.new_members, "REPURCHASE_RATE": f.repurchase_rate, "GMV": f.gmv_fen}[metric]


def rank(figures_by_key: dict[int, Figures], metric: str, first: int) -> list[tuple[int, int, Figures]]:
    """(rank, key, figures), best first; ties share a rank (1, 2, 2, 4) and list by GMV, then id."""
    ordered = sorted(figures_by_key.items(),
                     key=lambda kv: (-metric_value(kv[1], metric), -kv[1].gmv_fen, kv[0]))
    ranked, previous, position = [], None, 0
    for i, (key, f) in enumerate(ordered):
        value = metric_value(f, metric)
        if value != previous:
            position, previous = i + 1, value
        ranked.append((position, key, f))
    return ranked[:first]




async def leaderboard(session: AsyncSession, *, store: Store | None, first_day: dt.date, last_day: dt.date,
                      metric: str, first: int) -> list[tuple[int, Staff, Figures]]:
    """Guides of a store (or of every store) ranked by a metric; each guide's days in their
    store's timezone. Active guides always appear; a guide who has left appears while credited
    with something in the period."""
    if not 0 < first <= 100:
        raise InvalidInput("first must be 1..100", field=["first"])
    guide_rows = (await session.execute(
        select(Staff, Store.timezone).join(Store, Store.id == Staff.store_id)
        .where(Staff.role == StaffRole.GUIDE, *([Staff.store_id == store.id] if store else []))
    )).all()
    by_zone: dict[str, dict[int, Staff]] = {}
    for guide, zone in guide_rows:
        by_zone.setdefault(zone, {})[guide.id] = guide
    found: dict[int, Figures] = {}
    for zone, guides in by_zone.items():
        # One zone for the whole brand (the usual case): no key list, the paid_at index leads.
        keys = None if store is None and len(by_zone) == 1 else list(guides)
        counted = await figures(session, scope="guide", keys=keys, period=period(first_day, last_day, zone))
        for guide_id, guide in guides.items():
            if guide.active or guide_id in counted:
                found[guide_id] = counted.get(guide_id, Figures())
    staff = {g.id: g for g, _ in guide_rows}
    return [(position, staff[key], f) for position, key, f in rank(found, metric, first)]
