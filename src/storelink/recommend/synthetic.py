"""Order history with real structure, for the demo brand, the recommender's evaluation and the
benchmark: products come in outfits (complements, "搭配": a coat, a scarf, gloves…), each member
has favourite outfits and categories (tastes), and baskets are drawn from them, with noise.

Rows go in with COPY, so a benchmark's millions of order lines take seconds.
"""
from __future__ import annotations

import datetime as dt
import itertools
import random
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.catalog import search
from storelink import db
from storelink.clock import utcnow
from storelink.loyalty.models import PointsReason
from storelink.loyalty.service import points_for

CATEGORIES = {
    "外套": ["大衣", "羽绒服", "风衣"], "针织": ["毛衣", "开衫"], "上衣": ["衬衫", "T恤"], "裤装": ["西裤", "牛仔裤"],
    "配饰": ["围巾", "手套", "帽子"], "鞋履": ["靴子", "乐福鞋"], "包袋": ["托特包", "斜挎包"], "护肤": ["面霜", "精华"],
}
STYLES = ["通勤", "休闲", "户外", "复古", "极简", "运动", "度假", "礼服"]
MATERIALS = ["羊毛", "羊绒", "纯棉", "真丝", "皮革", "亚麻"]


@dataclass
class Catalog:
    products: list[int] = field(default_factory=list)
    sku_of: dict[int, int] = field(default_factory=dict)
    price_of: dict[int, int] = field(default_factory=dict)
    outfits: list[list[int]] = field(default_factory=list)


async def _next_id(session: AsyncSession, table: str) -> int:
    return int((await session.execute(text(f'SELECT coalesce(max(id), 0) + 1 FROM "{table}"'))).scalar_one())


async def _sync_sequence(session: AsyncSession, table: str) -> None:
    await session.execute(text(
        f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), (SELECT coalesce(max(id), 1) FROM \"{table}\"))"))


async def make_catalog(session: AsyncSession, *, products: int, rng: random.Random, online_stock: int = 1000,
                       stores: list[int] = (), store_stock: int = 20) -> Catalog:
    """Products in outfits of 3-5 items from different categories, one style each."""
    now = utcnow()
    first_product, first_sku = await _next_id(session, "product"), await _next_id(session, "sku")
    catalog = Catalog()
    product_rows, sku_rows, stock_rows = [], [], []
    categories = list(CATEGORIES)
    pid, sid = first_product, first_sku
    while len(catalog.products) < products:
        style = rng.choice(STYLES)
        outfit = []
        for category in rng.sample(categories, rng.randint(3, 5)):
            if len(catalog.products) >= products:
                break
            noun, material = rng.choice(CATEGORIES[category]), rng.choice(MATERIALS)
            name = f"{style}{material}{noun} {pid}"
            tags = [style, material]
            blob = search.search_text(name, None, tags)
            price = rng.randrange(50, 3000) * 100
            product_rows.append((pid, f"G{pid}", name, category, tags, blob, search.grams(blob), True, now, now))
            sku_rows.append((sid, pid, f"G{pid}-1", "均码", price, online_stock, True, now))
            stock_rows += [(sid, store, store_stock, now) for store in stores]
            catalog.products.append(pid)
            catalog.sku_of[pid], catalog.price_of[pid] = sid, price
            outfit.append(pid)
            pid, sid = pid + 1, sid + 1
        if len(outfit) > 1:
            catalog.outfits.append(outfit)
    await db.copy_rows(session, "product", ["id", "code", "name", "category", "tags", "search_text", "search_grams",
                                     "active", "created_at", "updated_at"], product_rows)
    await db.copy_rows(session, "sku", ["id", "product_id", "code", "title", "price_fen", "online_stock", "active",
                                 "created_at"], sku_rows)
    if stock_rows:
        await db.copy_rows(session, "store_stock", ["sku_id", "store_id", "quantity", "updated_at"], stock_rows)
    for table in ("product", "sku"):
        await _sync_sequence(session, table)
    return catalog


async def make_history(session: AsyncSession, *, catalog: Catalog, stores: list[int], members: int, orders: int,
                       rng: random.Random, days: int = 365, now: dt.datetime | None = None,
                       guides: dict[int, list[int]] | None = None) -> int:
    """Members with tastes and their paid orders over the last `days`; returns order lines made.

    Credit follows the attribution rules: a store sale to its store and (with `guides`, store id
    -> guide ids) a serving guide of it; an online order to the store the member joined at."""
    now = now or utcnow()
    first_customer, first_member = await _next_id(session, "customer"), await _next_id(session, "membership")
    first_order, first_line = await _next_id(session, "sales_order"), await _next_id(session, "order_line")
    customers, memberships, tastes, channel_of = [], [], [], {}
    for i in range(members):
        cid = first_customer + i
        home = rng.choice(stores) if stores and rng.random() < 0.85 else None
        joined = now - dt.timedelta(days=days + 30) + dt.timedelta(minutes=rng.randrange(30 * 1440))
        customers.append((cid, f"syn-{cid}", joined))
        channel_of[cid] = "STORE_QR" if home else "ONLINE"
        memberships.append((first_member + i, cid, f"7{cid:09d}", channel_of[cid], home, joined))
        favourites = rng.sample(range(len(catalog.outfits)), min(3, len(catalog.outfits)))
        tastes.append((cid, home, favourites))
    await db.copy_rows(session, "customer", ["id", "openid", "created_at"], customers)
    await db.copy_rows(session, "membership", ["id", "customer_id", "member_no", "join_channel", "join_store_id",
                                        "joined_at"], memberships)
    # Popular products are popular everywhere: a Zipf-like draw for the noise in every basket.
    cumulative = list(itertools.accumulate(1 / (r + 1) ** 0.8 for r in range(len(catalog.products))))
    by_popularity = catalog.products[:]
    rng.shuffle(by_popularity)
    member_of = {cid: mid for mid, cid, *_ in memberships}
    order_rows, line_rows, points_rows = [], [], []
    oid, lid = first_order, first_line
    for n in range(orders):
        cid, home, favourites = tastes[rng.randrange(len(tastes))] if n >= len(tastes) else tastes[n]
        outfit = catalog.outfits[rng.choice(favourites) if rng.random() < 0.85 else rng.randrange(len(catalog.outfits))]
        basket = {rng.choice(outfit)}
        basket |= {p for p in outfit if rng.random() < 0.45}
        if rng.random() < 0.3:
            basket.add(rng.choices(by_popularity, cum_weights=cumulative)[0])
        paid = now - dt.timedelta(minutes=rng.randrange(days * 1440))
        in_store = home is not None and rng.random() < 0.5
        serving = rng.choice(guides[home]) if in_store and guides and guides.get(home) else None
        total = 0
        for p in sorted(basket):
            quantity = 1 if rng.random() < 0.9 else 2
            price = catalog.price_of[p]
            line_rows.append((lid, oid, catalog.sku_of[p], quantity, price, quantity * price))
            total += quantity * price
            lid += 1
        earned = points_for(total)
        order_rows.append((oid, f"SYN{oid}", cid, channel_of[cid], "STORE" if in_store else "ONLINE", "COMPLETED",
                           home, home if in_store else None, serving, total, 0, total, 0, earned, paid, paid))
        if earned:  # the EARN entry a paid order adds to the ledger (loyalty.service.add_points): balances add up
            points_rows.append((member_of[cid], earned, PointsReason.EARN.value, oid, paid))
        oid += 1
    await db.copy_rows(session, "sales_order", [
        "id", "order_no", "customer_id", "member_channel", "channel", "status", "store_id", "stock_store_id",
        "guide_id", "subtotal_fen", "discount_fen", "total_fen", "points_redeemed", "points_earned", "created_at", "paid_at",
    ], order_rows)
    await db.copy_rows(session, "order_line", ["id", "order_id", "sku_id", "quantity", "unit_price_fen", "line_total_fen"],
                line_rows)
    await db.copy_rows(session, "points_entry", ["membership_id", "delta", "reason", "order_id", "created_at"],
                       points_rows)
    for table in ("customer", "membership", "sales_order", "order_line"):
        await _sync_sequence(session, table)
    return len(line_rows)
