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

The segment is read from the PurchaseFacts the database keeps for each customer (migration
0025), not counted from the orders on each request.
"""
from __future__ import annotations

import datetime as dt
import functools
from contextlib import asynccontextmanager
from collections import Counter
from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import DateTime, Select, and_, bindparam, case, func, select, text, true
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.catalog.models import Product, Sku
from storelink.clock import utcnow
from storelink.members.models import Membership
from storelink.orders.models import PAID_STATUSES, Order, OrderLine, PurchaseFacts
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
    """The values of the parameters of segment_of() at `now`."""
    return {"active_since": now - dt.timedelta(days=settings.segment_active_days),
            "new_since": now - dt.timedelta(days=settings.segment_new_days)}


def with_facts(stmt: Select) -> tuple[Select, Any]:
    """`stmt` (over Membership) joined to the member's PurchaseFacts, and those facts (for
    segment_of()). A LATERAL of one row, found by key: as a plain join the planner hashed every
    customer's facts to serve a book of 2,000 (17 ms at 50,000 customers, more with more)."""
    facts = (select(PurchaseFacts).where(PurchaseFacts.customer_id == Membership.customer_id).limit(1)
             .lateral("facts"))
    return stmt.outerjoin(facts, true()), facts


def segment_of(facts):
    """The segment rule (module docstring) as one SQL expression over Membership and its
    PurchaseFacts (from with_facts()): the same rule for profiles, client books and audiences.
    Its statement needs the parameters windows() gives. An order paid in the window is a last
    one paid in it."""
    online = facts.c.last_online_paid_at >= _ACTIVE_SINCE
    store = facts.c.last_store_paid_at >= _ACTIVE_SINCE
    return case(
        (and_(Membership.joined_at > _NEW_SINCE, func.coalesce(facts.c.paid_orders, 0) <= 1), "NEW"),
        (and_(online, store), "OMNICHANNEL_ACTIVE"),
        (and_(online, Membership.join_store_id.is_not(None)), "ONLINE_REPURCHASE"),
        (online, "ONLINE_ACTIVE"),
        (store, "STORE_EXPERIENCE"),
        else_="DORMANT",
    )


@asynccontextmanager
async def facts_paused(session: AsyncSession, customers: str):
    """Around a bulk write of orders (an import, generated history): the triggers of migration
    0025 leave PurchaseFacts alone inside, and on the way out the facts of `customers` (a query
    of customer ids) are brought up to date in one statement, instead of a trigger's work per
    order; then the triggers work again for the rest of the transaction."""
    await session.execute(text("SELECT set_config('storelink.bulk_load', 'on', true)"))
    yield
    await session.execute(text(f"SELECT purchase_facts_refresh(CAST(ARRAY({customers}) AS int[]))"))
    await session.execute(text("SELECT set_config('storelink.bulk_load', 'off', true)"))


@functools.cache
def _activities():
    """Built once (a page of members asks on every request, and building it cost more than
    running it): the windows and the ids are parameters."""
    stmt, facts = with_facts(select(Membership.id).where(Membership.id.in_(bindparam("ids", expanding=True))))
    return stmt.add_columns(segment_of(facts), func.coalesce(facts.c.paid_orders, 0),
                            func.coalesce(facts.c.paid_fen, 0), facts.c.last_paid_at)


async def activities(session: AsyncSession, membership_ids: Sequence[int], settings: Settings,
                     now: dt.datetime | None = None) -> dict[int, Activity]:
    """membership id -> Activity, for many members in one statement."""
    if not membership_ids:
        return {}
    rows = await session.execute(_activities(),
                                 {"ids": list(membership_ids), **windows(now or utcnow(), settings)})
    return {m: Activity(*facts) for m, *facts in rows}


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
