"""Member segments and tags from what members do in both channels (thresholds in settings).

Over the last SEGMENT_ACTIVE_DAYS (90) of paid, non-refunded orders:
- NEW: joined in the last SEGMENT_NEW_DAYS (30) with at most one paid order so far;
- DORMANT: no paid order in the active window;
- OMNICHANNEL_ACTIVE: bought both online and in a store;
- ONLINE_REPURCHASE: bought online only, and joined at a store (store, guide or campaign code);
- ONLINE_ACTIVE: bought online only, and joined online;
- STORE_EXPERIENCE: bought in stores only.
Tags: the categories and product tags of what the member bought in the last 365 days, most
units first, at most MEMBER_TAGS_MAX.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.catalog.models import Product, Sku
from storelink.clock import utcnow
from storelink.members.models import Membership
from storelink.orders.models import PAID_STATUSES, Order, OrderLine
from storelink.settings import Settings

TAG_WINDOW = dt.timedelta(days=365)


class Purchases(NamedTuple):
    """A member's paid, not refunded orders in both channels, ever."""

    orders: int = 0
    spend_fen: int = 0
    last_paid_at: dt.datetime | None = None


async def purchases(session: AsyncSession, customer_ids: Sequence[int]) -> dict[int | None, Purchases]:
    rows = await session.execute(
        select(Order.customer_id, func.count(), func.sum(Order.total_fen), func.max(Order.paid_at))
        .where(Order.customer_id.in_(customer_ids), Order.status.in_(PAID_STATUSES))
        .group_by(Order.customer_id)
    )
    return {c: Purchases(n, int(spend), last) for c, n, spend, last in rows}


def _counts(now: dt.datetime, settings: Settings):
    active_since = now - dt.timedelta(days=settings.segment_active_days)
    return (func.count().filter(Order.channel == "ONLINE", Order.paid_at >= active_since).label("online"),
            func.count().filter(Order.channel == "STORE", Order.paid_at >= active_since).label("store"),
            func.count().label("total"))


def activity(customers, now: dt.datetime, settings: Settings):
    """Per customer among `customers` (ids): paid orders online and in store in the active
    window, and paid orders ever."""
    return (
        select(Order.customer_id.label("customer_id"), *_counts(now, settings))
        .where(Order.customer_id.in_(customers), Order.status.in_(PAID_STATUSES))
        .group_by(Order.customer_id)
        .subquery()
    )


def activity_of_each(now: dt.datetime, settings: Settings):
    """The same counts for each Membership row of the enclosing query (LATERAL): one index-only
    range of ix_order_customer_id per member, never a scan of every order."""
    return (
        select(Order.customer_id.label("customer_id"), *_counts(now, settings))
        .where(Order.customer_id == Membership.customer_id, Order.status.in_(PAID_STATUSES))
        .group_by(Order.customer_id)
        .lateral()
    )


def segment_of(found, now: dt.datetime, settings: Settings):
    """The segment rule (module docstring) as one SQL expression over Membership and `found`, an
    activity() subquery outer-joined on the customer: the same rule for profiles and client books."""
    online, store, total = (func.coalesce(c, 0) for c in (found.c.online, found.c.store, found.c.total))
    return case(
        (and_(Membership.joined_at > now - dt.timedelta(days=settings.segment_new_days), total <= 1), "NEW"),
        (and_(online == 0, store == 0), "DORMANT"),
        (and_(online > 0, store > 0), "OMNICHANNEL_ACTIVE"),
        (and_(online > 0, Membership.join_store_id.is_not(None)), "ONLINE_REPURCHASE"),
        (online > 0, "ONLINE_ACTIVE"),
        else_="STORE_EXPERIENCE",
    )


async def insights(session: AsyncSession, memberships: Sequence[Membership], settings: Settings,
                   now: dt.datetime | None = None) -> dict[int, tuple[str, list[str]]]:
    """membership id -> (segment, tags), for many members in two statements."""
    now = now or utcnow()
    if not memberships:
        return {}
    customers = [m.customer_id for m in memberships]
    paid = Order.status.in_(PAID_STATUSES)
    found = activity(customers, now, settings)
    segment: dict[int, str] = dict((await session.execute(
        select(Membership.id, segment_of(found, now, settings))
        .outerjoin(found, found.c.customer_id == Membership.customer_id)
        .where(Membership.id.in_([m.id for m in memberships]))
    )).all())
    bought = await session.execute(
        select(Order.customer_id, Product.category, Product.tags, func.sum(OrderLine.quantity))
        .join(OrderLine, OrderLine.order_id == Order.id).join(Sku, Sku.id == OrderLine.sku_id)
        .join(Product, Product.id == Sku.product_id)
        .where(Order.customer_id.in_(customers), paid, Order.paid_at >= now - TAG_WINDOW)
        .group_by(Order.customer_id, Product.category, Product.tags)
    )
    tallies: dict[int | None, Counter] = {}
    for customer_id, category, tags, units in bought:
        tally = tallies.setdefault(customer_id, Counter())
        for word in (category, *tags):
            tally[word] += int(units)
    result = {}
    for m in memberships:
        tally = tallies.get(m.customer_id, Counter())
        tags = [word for word, _ in sorted(tally.items(), key=lambda kv: (-kv[1], kv[0]))][:settings.member_tags_max]
        result[m.id] = (segment[m.id], tags)
    return result
