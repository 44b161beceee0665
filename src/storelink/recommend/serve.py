"""Serving: recommendations for a context from the stored model, never training in a request.

Seeds are the cart, what the member bought (recent purchases weigh more) and the product looked
at. Only SKUs in stock where they will be used are offered (the store's shelf for STORE_VISIT,
the online warehouse otherwise), never what is in the cart or was bought in the last 30 days.
Each recommendation shown is recorded (its id is the Recommendation's).
"""
from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storelink import i18n
from storelink.catalog.models import Product, Sku, StoreStock
from storelink.clock import utcnow
from storelink.errors import InvalidInput
from storelink.orders.models import PAID_STATUSES, CartLine, Order, OrderLine
from storelink.recommend import ranking as reco
from storelink.recommend.models import RecoNeighbour, RecoPopular, RecoShown
from storelink.stores.models import Store

JUST_BOUGHT = dt.timedelta(days=30)
HISTORY_ITEMS = 30
HISTORY_HALF_LIFE_DAYS = 60.0
MAX_FIRST = 50
# Catalog facts (stock, category) are looked up for this many best candidates only.
SHORTLIST = 150


@dataclass(frozen=True)
class Shown:
    row: RecoShown
    product: Product
    sku: Sku


async def _member_signals(session: AsyncSession, customer_id: int, now: dt.datetime):
    """(cart product ids, [(product, paid_at)] most recent first)."""
    cart = set((await session.execute(
        select(Sku.product_id).join(CartLine, CartLine.sku_id == Sku.id).where(CartLine.customer_id == customer_id)
    )).scalars())
    bought = (await session.execute(
        select(Sku.product_id, func.max(Order.paid_at).label("last"))
        .join(OrderLine, OrderLine.sku_id == Sku.id).join(Order, Order.id == OrderLine.order_id)
        .where(Order.customer_id == customer_id, Order.status.in_(PAID_STATUSES))
        .group_by(Sku.product_id).order_by(func.max(Order.paid_at).desc()).limit(HISTORY_ITEMS)
    )).all()
    return cart, [(p, last) for p, last in bought]


async def recommend(session: AsyncSession, *, context: str, customer_id: int | None, staff_id: int | None,
                    store: Store | None, product_id: int | None, first: int, now: dt.datetime | None = None,
                    lang: str = i18n.DEFAULT) -> list[Shown]:
    if not 0 < first <= MAX_FIRST:
        raise InvalidInput("first must be 1 to {n}", n=MAX_FIRST, field=["first"])
    if context == "PRODUCT" and product_id is None:
        raise InvalidInput("A PRODUCT recommendation needs productId", field=["productId"])
    if context == "STORE_VISIT" and store is None:
        raise InvalidInput("A STORE_VISIT recommendation needs storeId", field=["storeId"])
    now = now or utcnow()
    at_store = store if context == "STORE_VISIT" else None
    cart, bought = (await _member_signals(session, customer_id, now)) if customer_id else (set(), [])
    seeds = [reco.Seed(p, 1.0, "cart") for p in sorted(cart)]
    history_weight = 0.4 if context == "CART" else 1.0
    for p, last in bought:
        age_days = max((now - last).total_seconds() / 86400, 0.0)
        seeds.append(reco.Seed(p, 0.6 * history_weight * math.exp(-age_days * math.log(2) / HISTORY_HALF_LIFE_DAYS),
                               "bought"))
    if product_id is not None:
        seeds.append(reco.Seed(product_id, 1.5, "viewed"))
    exclude = set(cart) | {p for p, last in bought if now - last < JUST_BOUGHT}
    if product_id is not None:
        exclude.add(product_id)

    seed_ids = sorted({s.product_id for s in seeds})
    complements: dict[int, list] = {}
    substitutes: dict[int, list] = {}
    if seed_ids:
        for pid, kind, other, score in await session.execute(
            select(RecoNeighbour.product_id, RecoNeighbour.kind, RecoNeighbour.neighbour_id, RecoNeighbour.score)
            .where(RecoNeighbour.product_id.in_(seed_ids))
        ):
            (complements if kind == "C" else substitutes).setdefault(pid, []).append((other, score))
    store_key = at_store.id if at_store else 0
    popular = (await session.execute(
        select(RecoPopular.product_id, RecoPopular.score).where(RecoPopular.store_key == store_key)
        .order_by(RecoPopular.score.desc(), RecoPopular.product_id).limit(200)
    )).all()
    if not popular and store_key:  # a store with no sales yet: what sells online
        popular = (await session.execute(
            select(RecoPopular.product_id, RecoPopular.score).where(RecoPopular.store_key == 0)
            .order_by(RecoPopular.score.desc(), RecoPopular.product_id).limit(200)
        )).all()
    if not popular and not complements and not substitutes:
        # Cold start (no model, or a brand with no orders yet): the newest products on offer.
        newest = (await session.execute(
            select(Product.id).where(Product.active).order_by(Product.id.desc()).limit(SHORTLIST))).scalars().all()
        popular = [(p, 1.0 / (i + 1)) for i, p in enumerate(newest)]
    found = reco.score(model_complements=complements, model_substitutes=substitutes, popular_here=popular,
                       seeds=seeds, exclude=exclude)
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
    info, best_sku = {}, {}
    for pid, name, category, tags, sku_id, units in await session.execute(stmt):
        if pid not in info:
            info[pid] = reco.ProductInfo(pid, name, category, tuple(tags or ()))
        if units > 0 and (pid not in best_sku or units > best_sku[pid][1]):
            best_sku[pid] = (sku_id, units)
    tastes: Counter = Counter()
    for p, _ in bought:
        if p in info:
            tastes[info[p].category] += 1
            for tag in info[p].tags:
                tastes[tag] += 1
    top_taste = max(tastes.values(), default=0)
    ranked = reco.choose(found, tastes={k: v / top_taste for k, v in tastes.items()} if top_taste else {},
                         info=info, available=set(best_sku), first=first)
    if not ranked:
        return []
    store_name = at_store.name if at_store else None
    rows = [
        {"customer_id": customer_id, "staff_id": staff_id, "context": context,
         "store_id": store.id if store else None, "product_id": c.product_id,
         "sku_id": best_sku[c.product_id][0], "score": round(c.score, 6),
         "reasons": reco.reasons_for(c, info, store_name, lang), "created_at": now}
        for c in ranked
    ]
    shown = (await session.execute(insert(RecoShown).returning(RecoShown), rows)).scalars().all()
    by_product = {s.product_id: s for s in shown}
    chosen = [c.product_id for c in ranked]
    products = {p.id: p for p in (await session.execute(select(Product).where(Product.id.in_(chosen)))).scalars()}
    skus = {k.id: k for k in (await session.execute(
        select(Sku).where(Sku.id.in_([best_sku[p][0] for p in chosen])))).scalars()}
    return [Shown(by_product[p], products[p], skus[best_sku[p][0]]) for p in chosen]
