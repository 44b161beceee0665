"""Training: read the brand's own omnichannel orders, build the model (recommend.ranking), and
replace the stored neighbours and popularity in one transaction. Serving only reads them."""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import time
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storelink.progress import Advance, quiet
from storelink.catalog import search
from storelink.catalog.models import Product, Sku
from storelink import db
from storelink.clock import utcnow
from storelink.orders.models import PAID_STATUSES, Order, OrderLine
from storelink.recommend import ranking as reco
from storelink.recommend.models import RecoModel, RecoNeighbour, RecoPopular

log = logging.getLogger(__name__)

HISTORY = dt.timedelta(days=365)
POPULAR_HALF_LIFE_DAYS = 30.0


@dataclass
class Purchase:
    order_id: int
    customer_id: int | None
    store_key: int  # the store whose shelf it came from, 0 for the online warehouse
    paid_at: dt.datetime
    products: dict[int, int]  # product -> units


async def load_purchases(session: AsyncSession, *, since: dt.datetime, until: dt.datetime | None = None) -> list[Purchase]:
    stmt = (
        select(Order.id, Order.customer_id, Order.stock_store_id, Order.paid_at, Sku.product_id,
               func.sum(OrderLine.quantity))
        .join(OrderLine, OrderLine.order_id == Order.id).join(Sku, Sku.id == OrderLine.sku_id)
        .where(Order.status.in_(PAID_STATUSES), Order.paid_at >= since)
        .group_by(Order.id, Sku.product_id)
    )
    if until is not None:
        stmt = stmt.where(Order.paid_at < until)
    found: dict[int, Purchase] = {}
    for order_id, customer_id, store_id, paid_at, product_id, units in await session.execute(stmt):
        purchase = found.get(order_id)
        if purchase is None:
            purchase = found[order_id] = Purchase(order_id, customer_id, store_id or 0, paid_at, {})
        purchase.products[product_id] = int(units)
    return sorted(found.values(), key=lambda p: (p.paid_at, p.order_id))


async def load_products(session: AsyncSession) -> dict[int, reco.ProductInfo]:
    rows = await session.execute(select(Product.id, Product.name, Product.category, Product.tags).where(Product.active))
    return {pid: product_info(pid, name, category, tags) for pid, name, category, tags in rows}


def product_info(pid: int, name: str, category: str, tags) -> reco.ProductInfo:
    # Name bigrams only: descriptions repeat marketing words that make everything look alike.
    grams = frozenset(g for g in search.grams(search.normalise(name)) if len(g) == 2)
    return reco.ProductInfo(pid, name, category, tuple(tags or ()), grams)


def build(purchases: list[Purchase], products: dict[int, reco.ProductInfo], now: dt.datetime) -> reco.Model:
    baskets = [list(p.products) for p in purchases]
    histories: dict[int, set[int]] = defaultdict(set)
    for p in purchases:
        if p.customer_id is not None:
            histories[p.customer_id].update(p.products)
    sales = []
    for p in purchases:
        age = max((now - p.paid_at).total_seconds() / 86400, 0.0)
        decay = math.exp(-age * math.log(2) / POPULAR_HALF_LIFE_DAYS)
        sales += [(p.store_key, product, units * decay) for product, units in p.products.items()]
    popular = reco.popular(sales)
    brand_popularity = dict(popular.get(0, []))
    return reco.Model(
        complements=reco.complements(baskets, [sorted(h) for h in histories.values() if len(h) > 1]),
        substitutes=reco.substitutes(list(products.values()), brand_popularity),
        popular=popular,
    )


async def store(session: AsyncSession, model: reco.Model) -> int:
    await session.execute(delete(RecoNeighbour))
    await session.execute(delete(RecoPopular))
    neighbours = [(p, "C", n, s) for p, found in model.complements.items() for n, s in found]
    neighbours += [(p, "S", n, s) for p, found in model.substitutes.items() for n, s in found]
    await db.copy_rows(session, "reco_neighbour", ["product_id", "kind", "neighbour_id", "score"], neighbours)
    await db.copy_rows(session, "reco_popular", ["store_key", "product_id", "score"],
                [(k, p, s) for k, found in model.popular.items() for p, s in found])
    return len(neighbours)


TRAIN_STEPS = 4


async def train(sessionmaker: async_sessionmaker, *, now: dt.datetime | None = None,
                unless_trained_since: dt.datetime | None = None, advance: Advance = quiet) -> RecoModel | None:
    """Rebuild the model from the last year of paid orders. Only one training runs at a time;
    with `unless_trained_since`, a training that another finished meanwhile is not repeated.
    `advance` hears of each of its TRAIN_STEPS steps."""
    now = now or utcnow()
    started = time.perf_counter()

    async def work(session: AsyncSession) -> RecoModel | None:
        # Serialise trainings (CLI and workers); readers keep the old model until the commit.
        await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended("recommender", 0))))
        if unless_trained_since is not None:
            last = (await session.execute(select(func.max(RecoModel.trained_at)))).scalar_one_or_none()
            if last is not None and last >= unless_trained_since:
                return None
        purchases = await load_purchases(session, since=now - HISTORY)
        advance("orders read")
        products = await load_products(session)
        advance("products read")
        # The arithmetic is pure CPU: off the event loop, so a server's worker keeps serving.
        model = await asyncio.to_thread(build, purchases, products, now)
        advance("model built")
        pairs = await store(session, model)
        advance("model stored")
        row = RecoModel(trained_at=utcnow(), orders=len(purchases), products=len(products), pairs=pairs,
                        seconds=round(time.perf_counter() - started, 3))
        session.add(row)
        return row

    row = await db.transaction(sessionmaker, work)
    if row is None:
        return None
    log.info("recommender trained: %d orders, %d products, %d neighbour pairs in %.1f s",
             row.orders, row.products, row.pairs, row.seconds)
    return row


async def retrain_if_due(sessionmaker: async_sessionmaker, *, every: dt.timedelta) -> bool:
    """The worker's schedule: train when the last model is older than `every` (or missing)."""
    async with sessionmaker() as session:
        last = (await session.execute(select(func.max(RecoModel.trained_at)))).scalar_one_or_none()
    if last is not None and utcnow() - last < every:
        return False
    return await train(sessionmaker, unless_trained_since=utcnow() - every) is not None
