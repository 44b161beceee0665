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
import functools
from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import DateTime, and_, bindparam, case, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.catalog.models import Product, Sku
from storelink.clock import utcnow
from storelink.members.models import Membership
from storelink.orders.models import PAID_STATUSES, Order, OrderLine
from storelink.settings import Settings

TAG_WINDOW = dt.timedelta(days=365)


class Activity(NamedTuple):
    """What a member's profile shows of their paid, not refunded orders in both channels: the
    segment (module docstring), and their orders ever, what those came to, and the last one."""

    segment: str = "NEW"
    orders: int = 0
    spend_fen: int = 0
    last_paid_at: dt.datetime | None = None


# The windows' starts are named parameters, so a statement with the rule in it is the same
# statement every day (built once, cached compiled): windows() gives their values.
_ACTIVE_SINCE = bindparam("active_since", type_=DateTime(timezone=True))
_NEW_SINCE = bindparam("new_since", type_=DateTime(timezone=True))


def windows(now: dt.datetime, settings: Settings) -> dict[str, dt.datetime]:
    """The values of the parameters of segment_of() and activity_of_each() at `now`."""
    return {"active_since": now - dt.timedelta(days=settings.segment_active_days),
            "new_since": now - dt.timedelta(days=settings.segment_new_days)}


def _counts():
    return (func.count().filter(Order.channel == "ONLINE", Order.paid_at >= _ACTIVE_SINCE).label("online"),
            func.count().filter(Order.channel == "STORE", Order.paid_at >= _ACTIVE_SINCE).label("store"),
            func.count().label("total"),
            func.sum(Order.total_fen).label("spend"),
            func.max(Order.paid_at).label("last_paid_at"))


def activity_of_each():
    """The counts for each Membership row of the enclosing query (LATERAL): one index range of
    ix_order_customer_id per member, never a scan of every order."""
    return (
        select(Order.customer_id.label("customer_id"), *_counts())
        .where(Order.customer_id == Membership.customer_id, Order.status.in_(PAID_STATUSES))
        .group_by(Order.customer_id)
        .lateral()
    )


def segment_of(found):
    """The segment rule (module docstring) as one SQL expression over Membership and `found`, an
    activity_of_each() outer-joined to it: the same rule for profiles, client books and audiences.
    Its statement needs the parameters windows() gives."""
    online, store, total = (func.coalesce(c, 0) for c in (found.c.online, found.c.store, found.c.total))
    return case(
        (and_(Membership.joined_at > _NEW_SINCE, total <= 1), "NEW"),
        (and_(online == 0, store == 0), "DORMANT"),
        (and_(online > 0, store > 0), "OMNICHANNEL_ACTIVE"),
        (and_(online > 0, Membership.join_store_id.is_not(None)), "ONLINE_REPURCHASE"),
        (online > 0, "ONLINE_ACTIVE"),
        else_="STORE_EXPERIENCE",
    )


@functools.cache
def _activities():
    """Built once (a page of members asks on every request, and building it cost more than
    running it): the windows and the ids are parameters."""
    found = activity_of_each()
    return (select(Membership.id, segment_of(found), found.c.total, found.c.spend,
                   found.c.last_paid_at)
            .select_from(Membership).outerjoin(found, true())
            .where(Membership.id.in_(bindparam("ids", expanding=True))))


async def activities(session: AsyncSession, membership_ids: Sequence[int], settings: Settings,
                     now: dt.datetime | None = None) -> dict[int, Activity]:
    """membership id -> Activity, for many members in one statement."""
    if not membership_ids:
        return {}
    rows = await session.execute(_activities(),
                                 {"ids": list(membership_ids), **windows(now or utcnow(), settings)})
    return {m: Activity(segment, total or 0, int(spend or 0), last) for m, segment, total, spend, last in rows}


@functools.cache
def _bought():
    return (select(Order.customer_id, Product.category, Product.tags, func.sum(OrderLine.quantity))
            .join(OrderLine, OrderLine.order_id == Order.id).join(Sku, Sku.id == OrderLine.sku_id)
            .join(Product, Product.id == Sku.product_id)
            .where(Order.customer_id.in_(bindparam("customers", expanding=True)),
                   Order.status.in_(PAID_STATUSES), Order.paid_at >= bindparam("since", type_=DateTime(timezone=True)))
            .group_by(Order.customer_id, Product.category, Product.tags))


async def tags(session: AsyncSession, customer_ids: Sequence[int], settings: Settings,
               now: dt.datetime | None = None) -> dict[int, list[str]]:
    """customer id -> tags (module docstring), for many members in one statement."""
    if not customer_ids:
        return {}
    since = (now or utcnow()) - TAG_WINDOW
    bought = await session.execute(_bought(), {"customers": list(customer_ids), "since": since})
    tallies: dict[int, Counter] = {}
    for customer_id, category, product_tags, units in bought:
        tally = tallies.setdefault(customer_id, Counter())
        for word in (category, *product_tags):
            tally[word] += int(units)
    return {c: [word for word, _ in sorted(tally.items(), key=lambda kv: (-kv[1], kv[0]))][:settings.member_tags_max]
            for c, tally in tallies.items()}
