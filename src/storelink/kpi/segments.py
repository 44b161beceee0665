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

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.catalog.models import Product, Sku
from storelink.clock import utcnow
from storelink.members.models import Membership
from storelink.orders.models import PAID_STATUSES, Order, OrderLine
from storelink.settings import Settings

TAG_WINDOW = dt.timedelta(days=365)


def segment_for(membership: Membership, *, online: int, store: int, total: int, now: dt.datetime,
                settings: Settings) -> str:
    if now - membership.joined_at < dt.timedelta(days=settings.segment_new_days) and total <= 1:
        return "NEW"
    if online == 0 and store == 0:
        return "DORMANT"
    if online and store:
        return "OMNICHANNEL_ACTIVE"
    if online:
        return "ONLINE_REPURCHASE" if membership.join_store_id is not None else "ONLINE_ACTIVE"
    return "STORE_EXPERIENCE"


async def insights(session: AsyncSession, memberships: Sequence[Membership], settings: Settings,
                   now: dt.datetime | None = None) -> dict[int, tuple[str, list[str]]]:
    """membership id -> (segment, tags), for many members in two statements."""
    now = now or utcnow()
    if not memberships:
        return {}
    customers = [m.customer_id for m in memberships]
    active_since = now - dt.timedelta(days=settings.segment_active_days)
    paid = Order.status.in_(PAID_STATUSES)
    rows = await session.execute(
        select(Order.customer_id,
               func.count().filter(Order.channel == "ONLINE", Order.paid_at >= active_since),
               func.count().filter(Order.channel == "STORE", Order.paid_at >= active_since),
               func.count())
        .where(Order.customer_id.in_(customers), paid).group_by(Order.customer_id)
    )
    counts = {c: (online, store, total) for c, online, store, total in rows}
    bought = await session.execute(
        select(Order.customer_id, Product.category, Product.tags, func.sum(OrderLine.quantity))
        .join(OrderLine, OrderLine.order_id == Order.id).join(Sku, Sku.id == OrderLine.sku_id)
        .join(Product, Product.id == Sku.product_id)
        .where(Order.customer_id.in_(customers), paid, Order.paid_at >= now - TAG_WINDOW)
        .group_by(Order.customer_id, Product.category, Product.tags)
    )
    tallies: dict[int, Counter] = {}
    for customer_id, category, tags, units in bought:
        tally = tallies.setdefault(customer_id, Counter())
        for word in (category, *tags):
            tally[word] += int(units)
    found = {}
    for m in memberships:
        online, store, total = counts.get(m.customer_id, (0, 0, 0))
        tally = tallies.get(m.customer_id, Counter())
        tags = [word for word, _ in sorted(tally.items(), key=lambda kv: (-kv[1], kv[0]))][:settings.member_tags_max]
        found[m.id] = (segment_for(m, online=online, store=store, total=total, now=now, settings=settings), tags)
    return found
