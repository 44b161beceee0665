"""Serving: recommendations for a context from the stored model, never training in a request.

The member's history (the products they bought before `now`: how often and how long ago), their
cart and the product looked at are the evidence; recommend.ranking scores it with the weights
the last training chose. Only SKUs in stock where they will be used are offered (the store's
shelf for STORE_VISIT, the online warehouse otherwise), never what is in the cart or being
looked at. Each recommendation shown is recorded (its id is the Recommendation's).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storelink import i18n
from storelink.catalog.models import Product, Sku, StoreStock
from storelink.clock import utcnow
from storelink.errors import InvalidInput
from storelink.orders.models import PAID_STATUSES, CartLine, Order, OrderLine
from storelink.recommend import ranking as reco
from storelink.recommend.models import RecoModel, RecoNeighbour, RecoPopular, RecoRepeat, RecoShown
from storelink.stores.models import Store

MAX_FIRST = 50
# Catalog facts (stock, category) are looked up for this many best candidates only.
SHORTLIST = 150


@dataclass(frozen=True)
class Shown:
    row: RecoShown
    product: Product
    sku: Sku


async def _member_signals(session: AsyncSession, customer_id: int, now: dt.datetime
                          ) -> tuple[list[int], list[reco.Bought]]:
    """(cart product ids, the recently bought products as of `now`)."""
    cart = sorted(set((await session.execute(
        select(Sku.product_id).join(CartLine, CartLine.sku_id == Sku.id).where(CartLine.customer_id == customer_id)
    )).scalars()))

    def paid_before(order) -> tuple:
        return order.customer_id == customer_id, order.status.in_(PAID_STATUSES), order.paid_at < now

    counted = aliased(Order)
    orders = select(func.count()).select_from(counted).where(*paid_before(counted)).scalar_subquery()
    last = func.max(Order.paid_at)
    bought = (await session.execute(
        select(Sku.product_id, func.count(func.distinct(Order.id)), last, func.min(Order.paid_at), orders)
        .join(OrderLine, OrderLine.sku_id == Sku.id).join(Order, Order.id == OrderLine.order_id)
        .where(*paid_before(Order))
        .group_by(Sku.product_id).order_by(last.desc(), Sku.product_id).limit(reco.HISTORY_ITEMS)
    )).all()

    def days(at: dt.datetime) -> float:
        return max((now - at).total_seconds() / 86400, 0.0)

    return cart, [reco.Bought(p, times, days(at), days(first), n) for p, times, at, first, n in bought]


async def load_model(session: AsyncSession, seeds: list[int], repeat_for: list[int], store_key: int
                     ) -> tuple[reco.Model, list[tuple[int, float]]]:
    """The stored model's part these seeds need, and the popular products here."""
    model = reco.Model(weights=reco.Weights.from_json((await session.execute(
        select(RecoModel.weights).order_by(RecoModel.id.desc()).limit(1))).scalar_one_or_none()))
    tables = {"C": model.complements, "E": model.collaborative, "S": model.substitutes}
    if seeds:
        for pid, kind, other, score in await session.execute(
            select(RecoNeighbour.product_id, RecoNeighbour.kind, RecoNeighbour.neighbour_id, RecoNeighbour.score)
            .where(RecoNeighbour.product_id.in_(seeds))
        ):
            tables[kind].setdefault(pid, []).append((other, score))
    if repeat_for:
        for pid, rate, interval in await session.execute(
            select(RecoRepeat.product_id, RecoRepeat.rate, RecoRepeat.interval_days)
            .where(RecoRepeat.product_id.in_(repeat_for))
        ):
            model.repeat[pid] = reco.Repeat(rate, interval)
    popular = (await session.execute(
        select(RecoPopular.product_id, RecoPopular.score).where(RecoPopular.store_key == store_key)
        .order_by(RecoPopular.score.desc(), RecoPopular.product_id).limit(200)
    )).all()
    if not popular and store_key:  # a store with no sales yet: what sells brand-wide
        popular = (await session.execute(
            select(RecoPopular.product_id, RecoPopular.score).where(RecoPopular.store_key == 0)
            .order_by(RecoPopular.score.desc(), RecoPopular.product_id).limit(200)
        )).all()
    return model, [(p, s) for p, s in popular]


async def recommend(session: AsyncSession, *, context: str, customer_id: int | None, staff_id: int | None,
                    store: Store | None, product_id: int | None, first: int, now: dt.datetime | None = None,
                    lang: str = i18n.DEFAULT, use_cart: bool = True) -> list[Shown]:
    """The recommendations shown (and recorded). `use_cart=False` leaves the cart out: the
    evaluation asks as of a past day, when today's cart did not exist."""
    if not 0 < first <= MAX_FIRST:
        raise InvalidInput("first must be 1 to {n}", n=MAX_FIRST, field=["first"])
    if context == "PRODUCT" and product_id is None:
        raise InvalidInput("A PRODUCT recommendation needs productId", field=["productId"])
    if context == "STORE_VISIT" and store is None:
        raise InvalidInput("A STORE_VISIT recommendation needs storeId", field=["storeId"])
    now = now or utcnow()
    at_store = store if context == "STORE_VISIT" else None
    cart, bought = (await _member_signals(session, customer_id, now)) if customer_id else ([], [])
    if not use_cart:
        cart = []
    mine = [b.product_id for b in bought]
    seed_ids = sorted({*cart, *mine, *([product_id] if product_id is not None else [])})
    model, popular = await load_model(session, seed_ids, mine, at_store.id if at_store else 0)
    if not popular and not any((model.complements, model.collaborative, model.substitutes)):
        # Cold start (no model, or a brand with no orders yet): the newest products on offer.
        newest = (await session.execute(
            select(Product.id).where(Product.active).order_by(Product.id.desc()).limit(SHORTLIST))).scalars().all()
        popular = [(p, 1.0 / (i + 1)) for i, p in enumerate(newest)]
    found = reco.evidence(model, popular_here=popular, bought=bought, cart=cart, viewed=product_id)
    reco.combine(found, model.weights, set(mine))
    # The best by evidence, what sells best here (likely on this shelf), and the seeds (for names).
    candidates = set(reco.shortlist(found, SHORTLIST)) | {p for p, _ in popular[:50]} | set(seed_ids)
    # Candidates and their best-stocked SKU where the recommendation will be used: plain columns
    # (hundreds of rows); whole rows are loaded only for the few that are shown.
    stock = StoreStock.quantity if at_store else Sku.online_stock
    stmt = (select(Product.id, Product.name, Product.category, Product.tags, Sku.id, stock)
            .join(Sku, Sku.product_id == Product.id)
            .where(Product.id.in_(candidates), Product.active, Sku.active))
    if at_store:
        stmt = stmt.join(StoreStock, (StoreStock.sku_id == Sku.id) & (StoreStock.store_id == at_store.id))
    info: dict[int, reco.ProductInfo] = {}
    best_sku: dict[int, tuple[int, int]] = {}
    for pid, name, category, tags, sku_id, units in await session.execute(stmt):
        if pid not in info:
            info[pid] = reco.ProductInfo(pid, name, category, tuple(tags or ()))
        if units > 0 and (pid not in best_sku or units > best_sku[pid][1]):
            best_sku[pid] = (sku_id, units)
    ranked = reco.choose(found, info=info, available=set(best_sku), per_category=model.weights.per_category,
                         first=first)
    if not ranked:
        return []
    store_name = at_store.name if at_store else None
    by_product_bought = {b.product_id: b for b in bought}
    rows = [
        {"customer_id": customer_id, "staff_id": staff_id, "context": context,
         "store_id": store.id if store else None, "product_id": c.product_id,
         "sku_id": best_sku[c.product_id][0], "score": round(c.score, 6),
         "reasons": reco.reasons_for(c, model.weights, info, store_name, by_product_bought, lang),
         "created_at": now}
        for c in ranked
    ]
    shown = (await session.execute(insert(RecoShown).returning(RecoShown), rows)).scalars().all()
    by_product = {s.product_id: s for s in shown}
    chosen = [c.product_id for c in ranked]
    products = {p.id: p for p in (await session.execute(select(Product).where(Product.id.in_(chosen)))).scalars()}
    skus = {k.id: k for k in (await session.execute(
        select(Sku).where(Sku.id.in_([best_sku[p][0] for p in chosen])))).scalars()}
    return [Shown(by_product[p], products[p], skus[best_sku[p][0]]) for p in chosen]
