"""trackActivity: product views, store views and searches, kept ACTIVITY_DAYS (180) for the
triggers and the member's profile, then pruned by the worker (API-NOTES "Marketing")."""
from __future__ import annotations

import datetime as dt
from typing import cast

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storelink.catalog.models import Product
from storelink.clock import utcnow
from storelink.db import transaction
from storelink.errors import InvalidInput, NotFound
from storelink.limits import clean_text
from storelink.marketing.models import Activity, ActivityKind
from storelink.stores.models import Store

ACTIVITY_DAYS = 180
MAX_QUERY = 100
PRUNE_BATCH = 10_000

# What each kind names: the one argument it needs.
_NEEDS = {ActivityKind.PRODUCT_VIEW: "productId", ActivityKind.STORE_VIEW: "storeId", ActivityKind.SEARCH: "query"}


async def track(session: AsyncSession, *, customer_id: int, kind: ActivityKind, product_id: int | None,
                store_id: int | None, query: str | None) -> None:
    given = {"productId": product_id, "storeId": store_id, "query": query}
    needed = _NEEDS[kind]
    if given[needed] is None or any(v is not None for name, v in given.items() if name != needed):
        raise InvalidInput("This kind of activity takes {name} and nothing else", name=needed, field=[needed])
    if query is not None:
        query = " ".join(query.split())
        if not 0 < len(query) <= MAX_QUERY or not clean_text(query):
            raise InvalidInput("A search is 1 to {n} characters", n=MAX_QUERY, field=["query"])
    if product_id is not None and (await session.execute(
            select(Product.id).where(Product.id == product_id, Product.active))).first() is None:
        raise NotFound("No such product", field=["productId"])
    if store_id is not None and await session.get(Store, store_id) is None:
        raise NotFound("No such store", field=["storeId"])
    session.add(Activity(customer_id=customer_id, kind=kind.value, product_id=product_id, store_id=store_id,
                         query=query, at=utcnow()))
    await session.flush()


async def prune(sessionmaker: async_sessionmaker, *, now: dt.datetime | None = None) -> int:
    """Forget activity older than ACTIVITY_DAYS, a batch at a time; returns how many rows went."""
    cutoff = (now or utcnow()) - dt.timedelta(days=ACTIVITY_DAYS)

    async def work(session: AsyncSession) -> int:
        old = select(Activity.id).where(Activity.at < cutoff).limit(PRUNE_BATCH).scalar_subquery()
        result = await session.execute(delete(Activity).where(Activity.id.in_(old)))
        return cast(CursorResult, result).rowcount  # a DELETE's result is a cursor's

    return await transaction(sessionmaker, work)
