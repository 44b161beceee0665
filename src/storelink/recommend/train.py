"""Training: read the brand's own omnichannel orders of the training window, fit the model and
choose its weights (recommend.learn), and replace the stored model in one transaction. Serving
only reads it.

A training set that is empty or tiny is refused loudly (TrainingTooSmall: the CLI exits non-zero,
the worker logs a warning) and the previous model stays.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storelink import db
from storelink.catalog.models import Product, Sku
from storelink.clock import utcnow
from storelink.orders.models import PAID_STATUSES, Order, OrderLine
from storelink.progress import Advance, quiet
from storelink.recommend import learn
from storelink.recommend import ranking as reco
from storelink.recommend.learn import Purchase
from storelink.recommend.models import RecoModel, RecoNeighbour, RecoPopular, RecoRepeat

log = logging.getLogger(__name__)

WINDOW_DAYS = 365  # RECOMMENDER_WINDOW_DAYS: the orders a training (and the evaluation) reads
MIN_ORDERS = 50  # RECOMMENDER_MIN_ORDERS: fewer paid orders in the window is refused


class TrainingTooSmall(Exception):
    def __init__(self, orders: int, needed: int, window_days: int):
        super().__init__(f"the recommender was not trained: {orders} paid orders in the last {window_days} days, "
                         f"at least {needed} needed (RECOMMENDER_WINDOW_DAYS, RECOMMENDER_MIN_ORDERS); "
                         f"the previous model is kept")
        self.orders, self.needed, self.window_days = orders, needed, window_days


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
            assert paid_at is not None  # paid orders only
            purchase = found[order_id] = Purchase(order_id, customer_id, store_id or 0, paid_at, {})
        purchase.products[product_id] = int(units)
    return sorted(found.values(), key=lambda p: (p.paid_at, p.order_id))


async def load_products(session: AsyncSession) -> dict[int, reco.ProductInfo]:
    rows = await session.execute(select(Product.id, Product.name, Product.category, Product.tags).where(Product.active))
    return {pid: product_info(pid, name, category, tags) for pid, name, category, tags in rows}


def product_info(pid: int, name: str, category: str, tags) -> reco.ProductInfo:
    tags = tuple(tags or ())
    return reco.ProductInfo(pid, name, category, tags, learn.name_words(name, tags))


async def store(session: AsyncSession, model: reco.Model) -> int:
    await session.execute(delete(RecoNeighbour))
    await session.execute(delete(RecoPopular))
    await session.execute(delete(RecoRepeat))
    neighbours = [(p, kind, n, s) for kind, table in (("C", model.complements), ("E", model.collaborative),
                                                      ("S", model.substitutes))
                  for p, found in table.items() for n, s in found]
    await db.copy_rows(session, "reco_neighbour", ["product_id", "kind", "neighbour_id", "score"], neighbours)
    await db.copy_rows(session, "reco_popular", ["store_key", "product_id", "score"],
                       [(k, p, s) for k, found in model.popular.items() for p, s in found])
    await db.copy_rows(session, "reco_repeat", ["product_id", "rate", "interval_days"],
                       [(p, r.rate, r.interval_days) for p, r in model.repeat.items()])
    return len(neighbours)


TRAIN_STEPS = 4


async def train_in(session: AsyncSession, *, now: dt.datetime, window_days: int = WINDOW_DAYS,
                   min_orders: int = MIN_ORDERS, advance: Advance = quiet) -> RecoModel:
    """Fit on the paid orders of the `window_days` before `now` and store the model in this
    session's transaction (the caller commits; the evaluation rolls back)."""
    started = time.perf_counter()
    purchases = await load_purchases(session, since=now - dt.timedelta(days=window_days), until=now)
    advance("orders read")
    if len(purchases) < max(min_orders, 1):
        raise TrainingTooSmall(len(purchases), max(min_orders, 1), window_days)
    products = await load_products(session)
    advance("products read")
    # The arithmetic is pure CPU: off the event loop, so a server's worker keeps serving.
    model, tuning = await asyncio.to_thread(learn.build, purchases, products, now)
    advance("model built")
    pairs = await store(session, model)
    advance("model stored")
    row = RecoModel(trained_at=utcnow(), orders=len(purchases), products=len(products), pairs=pairs,
                    seconds=round(time.perf_counter() - started, 3), window_days=window_days,
                    weights=model.weights.as_json())
    session.add(row)
    await session.flush()
    log.info("recommender trained: %d orders, %d products, %d neighbour pairs in %.1f s; weights %s "
             "(validation: %d members, score %.3f against %.3f by default)", row.orders, row.products, row.pairs,
             row.seconds, row.weights, tuning.members, tuning.score, tuning.default_score)
    return row


async def train(sessionmaker: async_sessionmaker, *, now: dt.datetime | None = None, window_days: int = WINDOW_DAYS,
                min_orders: int = MIN_ORDERS, unless_trained_since: dt.datetime | None = None,
                advance: Advance = quiet) -> RecoModel | None:
    """Rebuild the model. Only one training runs at a time; with `unless_trained_since`, a
    training that another finished meanwhile is not repeated. `advance` hears of each of its
    TRAIN_STEPS steps. Raises TrainingTooSmall (and keeps the previous model)."""
    now = now or utcnow()

    async def work(session: AsyncSession) -> RecoModel | None:
        # Serialise trainings (CLI and workers); readers keep the old model until the commit.
        await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended("recommender", 0))))
        if unless_trained_since is not None:
            last = (await session.execute(select(func.max(RecoModel.trained_at)))).scalar_one_or_none()
            if last is not None and last >= unless_trained_since:
                return None
        return await train_in(session, now=now, window_days=window_days, min_orders=min_orders, advance=advance)

    return await db.transaction(sessionmaker, work)


_refused_at: dt.datetime | None = None  # the worker's last refused training: not retried until due again


async def retrain_if_due(sessionmaker: async_sessionmaker, *, every: dt.timedelta, window_days: int = WINDOW_DAYS,
                         min_orders: int = MIN_ORDERS) -> bool:
    """The worker's schedule: train when the last model is older than `every` (or missing). A
    training set too small is a warning in the log, retried when `every` has passed again."""
    global _refused_at
    if _refused_at is not None and utcnow() - _refused_at < every:
        return False
    async with sessionmaker() as session:
        last = (await session.execute(select(func.max(RecoModel.trained_at)))).scalar_one_or_none()
    if last is not None and utcnow() - last < every:
        return False
    try:
        return await train(sessionmaker, unless_trained_since=utcnow() - every, window_days=window_days,
                           min_orders=min_orders) is not None
    except TrainingTooSmall as refused:
        _refused_at = utcnow()
        log.warning("%s", refused)
        return False
