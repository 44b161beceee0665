"""Order history with the properties real shops have, for the demo brand, the recommender's
evaluation and the benchmark. Two kinds of shop:

- "fashion" (durable goods): products come in outfits (complements, "搭配": a coat, a scarf,
  gloves…); each member has favourite outfits; coats and knitwear sell in winter, shirts in
  summer; skincare is a consumable that its users buy again on a cycle; some basics are bought
  again.
- "grocery" (consumables): every product has a buying cycle (milk weekly, detergent monthly);
  each member has staples bought again when due, plus popular items and their companions
  (bread and butter).

Both have a long tail of popularity (Zipf), products launched during the year, members who shop
often and rarely, and a few bulk buyers (large baskets, large quantities).

Rows go in with COPY, so a benchmark's millions of order lines take seconds.
"""
from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.catalog import search
from storelink import db
from storelink.clock import utcnow
from storelink.kpi import segments
from storelink.loyalty.models import PointsReason
from storelink.loyalty.service import points_for

CATEGORIES = {
    "外套": ["大衣", "羽绒服", "风衣"], "针织": ["毛衣", "开衫"], "上衣": ["衬衫", "T恤"], "裤装": ["西裤", "牛仔裤"],
    "配饰": ["围巾", "手套", "帽子"], "鞋履": ["靴子", "乐福鞋"], "包袋": ["托特包", "斜挎包"], "护肤": ["面霜", "精华"],
}
STYLES = ["通勤", "休闲", "户外", "复古", "极简", "运动", "度假", "礼服"]
MATERIALS = ["羊毛", "羊绒", "纯棉", "真丝", "皮革", "亚麻"]
CARE_CYCLES = (30, 45, 60)  # days a jar of face cream or serum lasts
IN_SEASON = {"外套": (11, 12, 1, 2), "针织": (10, 11, 12, 1, 2, 3), "上衣": (5, 6, 7, 8), "饮料": (6, 7, 8, 9)}

GROCERY = {
    "生鲜": (["苹果", "香蕉", "番茄", "青菜", "鸡蛋", "土豆"], 7), "乳品": (["牛奶", "酸奶", "奶酪", "黄油"], 7),
    "烘焙": (["吐司", "面包", "蛋糕", "贝果"], 5), "零食": (["薯片", "饼干", "坚果", "巧克力"], 14),
    "饮料": (["矿泉水", "果汁", "咖啡", "茶"], 10), "日用": (["纸巾", "洗衣液", "牙膏", "洗发水"], 30),
}
BRANDS = ["田园", "晨光", "良品", "优选", "鲜丰", "家悦", "山泉", "北欧", "禾木", "青柠"]
SHOPS = ("fashion", "grocery")


@dataclass
class Catalog:
    products: list[int] = field(default_factory=list)
    sku_of: dict[int, int] = field(default_factory=dict)
    price_of: dict[int, int] = field(default_factory=dict)
    outfits: list[list[int]] = field(default_factory=list)  # bought together (an outfit, bread and butter)
    category_of: dict[int, str] = field(default_factory=dict)
    cycle_of: dict[int, float] = field(default_factory=dict)  # consumables: days one lasts
    launched_of: dict[int, float] = field(default_factory=dict)  # days into the history; absent: from the start


async def _next_id(session: AsyncSession, table: str) -> int:
    return int((await session.execute(text(f'SELECT coalesce(max(id), 0) + 1 FROM "{table}"'))).scalar_one())


async def _sync_sequence(session: AsyncSession, table: str) -> None:
    await session.execute(text(
        f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), (SELECT coalesce(max(id), 1) FROM \"{table}\"))"))


async def make_catalog(session: AsyncSession, *, products: int, rng: random.Random, online_stock: int = 1000,
                       stores: Sequence[int] = (), store_stock: int = 20, shop: str = "fashion",
                       days: int = 365) -> Catalog:
    """A `shop` ("fashion" or "grocery") of `products`; a fifth of them launch during the `days`
    of history to come."""
    if shop not in SHOPS:
        raise ValueError(f"shop must be one of {SHOPS}")
    now = utcnow()
    first_product, first_sku = await _next_id(session, "product"), await _next_id(session, "sku")
    catalog = Catalog()
    product_rows: list[tuple] = []
    sku_rows: list[tuple] = []
    stock_rows: list[tuple] = []
    pid, sid = first_product, first_sku

    def add(name: str, category: str, tags: list[str], price: int) -> int:
        nonlocal pid, sid
        blob = search.search_text(name, None, tags)
        product_rows.append((pid, f"G{pid}", name, category, tags, blob, search.grams(blob), True, now, now))
        sku_rows.append((sid, pid, f"G{pid}-1", "均码", price, online_stock, True, now))
        stock_rows.extend((sid, store, store_stock, now) for store in stores)
        catalog.products.append(pid)
        catalog.sku_of[pid], catalog.price_of[pid], catalog.category_of[pid] = sid, price, category
        if rng.random() < 0.2:
            catalog.launched_of[pid] = rng.uniform(0, days * 0.9)
        pid, sid = pid + 1, sid + 1
        return pid - 1

    if shop == "fashion":
        categories = list(CATEGORIES)
        while len(catalog.products) < products:
            style = rng.choice(STYLES)
            outfit = []
            for category in rng.sample(categories, rng.randint(3, 5)):
                if len(catalog.products) >= products:
                    break
                noun, material = rng.choice(CATEGORIES[category]), rng.choice(MATERIALS)
                made = add(f"{style}{material}{noun} {pid}", category, [style, material], rng.randrange(50, 3000) * 100)
                if category == "护肤":
                    catalog.cycle_of[made] = float(rng.choice(CARE_CYCLES))
                outfit.append(made)
            if len(outfit) > 1:
                catalog.outfits.append(outfit)
    else:
        kinds = [(category, noun, cycle) for category, (nouns, cycle) in GROCERY.items() for noun in nouns]
        while len(catalog.products) < products:
            category, noun, cycle = kinds[len(catalog.products) % len(kinds)]
            brand = rng.choice(BRANDS)
            made = add(f"{brand}{noun} {pid}", category, [brand], rng.randrange(3, 120) * 100)
            catalog.cycle_of[made] = cycle * rng.uniform(0.7, 1.4)
        # companions: a product and one or two from other aisles that go with it
        for p in catalog.products:
            if rng.random() < 0.5:
                others = [q for q in rng.sample(catalog.products, 3) if catalog.category_of[q] != catalog.category_of[p]]
                if others:
                    catalog.outfits.append([p, *others[: rng.randint(1, 2)]])
    await db.copy_rows(session, "product", ["id", "code", "name", "category", "tags", "search_text", "search_grams",
                                     "active", "created_at", "updated_at"], product_rows)
    await db.copy_rows(session, "sku", ["id", "product_id", "code", "title", "price_fen", "online_stock", "active",
                                 "created_at"], sku_rows)
    if stock_rows:
        await db.copy_rows(session, "store_stock", ["sku_id", "store_id", "quantity", "updated_at"], stock_rows)
    for table in ("product", "sku"):
        await _sync_sequence(session, table)
    return catalog


@dataclass
class _Shopper:
    customer_id: int
    home: int | None
    favourites: list[int]  # outfits
    staples: dict[int, float]  # consumable -> the member's own cycle in days
    bulk: bool
    last: dict[int, float] = field(default_factory=dict)  # product -> day last bought


class _Shelf:
    """Draws products by popularity (a long tail), among those launched by a given day."""

    def __init__(self, catalog: Catalog, rng: random.Random):
        self.catalog, self.rng = catalog, rng
        self.order = catalog.products[:]
        rng.shuffle(self.order)
        # new products sell well after launch: a launched one ranks as if a third as far down
        rank = {p: i * (0.33 if p in catalog.launched_of else 1.0) for i, p in enumerate(self.order)}
        self.order.sort(key=rank.__getitem__)
        self.cumulative = list(itertools.accumulate(1 / (r + 1) for r in range(len(self.order))))
        self.groups_of: dict[int, list[list[int]]] = {}
        for group in catalog.outfits:
            self.groups_of.setdefault(group[0], []).append(group)

    def on_sale(self, product: int, day: float) -> bool:
        return self.catalog.launched_of.get(product, 0) <= day

    def draw(self, day: float, tries: int = 4) -> int | None:
        for _ in range(tries):
            p = self.rng.choices(self.order, cum_weights=self.cumulative)[0]
            if self.on_sale(p, day):
                return p
        return None


def _in_season(category: str, when: dt.datetime) -> bool:
    months = IN_SEASON.get(category)
    return months is None or when.month in months


def _draws(shelf: _Shelf, day: float, times: int) -> set[int]:
    """The products of `times` draws from the shelf (a draw may find nothing on sale)."""
    return {p for p in (shelf.draw(day) for _ in range(times)) if p is not None}


def _basket(shopper: _Shopper, day: float, when: dt.datetime, catalog: Catalog, shelf: _Shelf,
            rng: random.Random) -> dict[int, int]:
    """One order's products and units."""
    if shopper.bulk and rng.random() < 0.5:  # a bulk buyer's order: many products, many units
        return {p: rng.randint(5, 200) for p in _draws(shelf, day, rng.randint(20, 60))}
    due = [p for p, cycle in shopper.staples.items()
           if day - shopper.last.get(p, -1e9) >= cycle * rng.uniform(0.75, 1.25) and shelf.on_sale(p, day)]
    basket: set[int] = set()
    grocery = bool(catalog.cycle_of) and len(catalog.cycle_of) == len(catalog.products)
    if grocery:
        basket |= {p for p in due if rng.random() < 0.4}
        basket |= _draws(shelf, day, rng.randint(1, 3))
    elif due and rng.random() < 0.6:  # skincare running out
        basket |= {p for p in due if rng.random() < 0.85}
        if rng.random() < 0.5:
            return {p: 1 for p in basket}
    if not grocery or rng.random() < 0.25:
        favourite = shopper.favourites and rng.random() < 0.85
        outfit = catalog.outfits[rng.choice(shopper.favourites) if favourite else rng.randrange(len(catalog.outfits))] \
            if catalog.outfits else []
        look = {rng.choice(outfit)} | {p for p in outfit if rng.random() < 0.45} if outfit else set()
        look = {p for p in look if shelf.on_sale(p, day)
                and (_in_season(catalog.category_of.get(p, ""), when) or rng.random() < 0.4)
                # a durable once bought is rarely bought again (the basics below are)
                and (p not in shopper.last or p in catalog.cycle_of or rng.random() < 0.15)}
        basket |= look
    if grocery:
        for p in list(basket):  # what goes with it (bread and butter)
            for group in shelf.groups_of.get(p, ()):
                basket |= {q for q in group if q != p and shelf.on_sale(q, day) and rng.random() < 0.3}
    bought_before = [p for p in shopper.last if p not in shopper.staples]
    if bought_before and rng.random() < 0.12:  # a basic bought again
        basket.add(rng.choice(bought_before))
    if rng.random() < 0.5 or not basket:
        extra = shelf.draw(day)
        if extra is not None:
            basket.add(extra)
    return {p: (1 if rng.random() < 0.9 else 2) for p in basket}


async def make_history(session: AsyncSession, *, catalog: Catalog, stores: list[int], members: int, orders: int,
                       rng: random.Random, days: int = 365, now: dt.datetime | None = None,
                       guides: dict[int, list[int]] | None = None) -> int:
    """Members and their paid orders over the last `days`; returns order lines made.

    Credit follows the attribution rules: a store sale to its store and (with `guides`, store id
    -> guide ids) a serving guide of it; an online order to the store the member joined at."""
    now = now or utcnow()
    start = now - dt.timedelta(days=days)
    first_customer, first_member = await _next_id(session, "customer"), await _next_id(session, "membership")
    first_order, first_line = await _next_id(session, "sales_order"), await _next_id(session, "order_line")
    shelf = _Shelf(catalog, rng)
    consumables = [p for p in shelf.order if p in catalog.cycle_of]  # the popular ones first
    grocery = bool(consumables) and len(consumables) == len(catalog.products)
    customers, memberships, shoppers, channel_of = [], [], [], {}
    for i in range(members):
        cid = first_customer + i
        home = rng.choice(stores) if stores and rng.random() < 0.85 else None
        joined = start - dt.timedelta(days=30) + dt.timedelta(minutes=rng.randrange(30 * 1440))
        customers.append((cid, f"syn-{cid}", joined))
        channel_of[cid] = "STORE_QR" if home else "ONLINE"
        memberships.append((first_member + i, cid, f"7{cid:09d}", channel_of[cid], home, joined))
        favourites = rng.sample(range(len(catalog.outfits)), min(3, len(catalog.outfits)))
        staples: dict[int, float] = {}
        if consumables and (grocery or rng.random() < 0.6):
            weights = [1 / (r + 1) ** 0.7 for r in range(len(consumables))]
            for p in rng.choices(consumables, weights=weights, k=rng.randint(1, 4) if grocery else rng.randint(1, 2)):
                staples[p] = catalog.cycle_of[p] * rng.lognormvariate(0, 0.25)
        shoppers.append(_Shopper(cid, home, favourites, staples, bulk=rng.random() < 0.03))
    await db.copy_rows(session, "customer", ["id", "openid", "created_at"], customers)
    await db.copy_rows(session, "membership", ["id", "customer_id", "member_no", "join_channel", "join_store_id",
                                        "joined_at"], memberships)
    # How often each member shops: everyone once, the rest by a skewed appetite.
    counts = [1] * members
    appetite = [rng.lognormvariate(0, 1) for _ in range(members)]
    for i in rng.choices(range(members), weights=appetite, k=max(orders - members, 0)):
        counts[i] += 1
    member_of = {cid: mid for mid, cid, *_ in memberships}
    order_rows, line_rows, points_rows = [], [], []
    oid, lid = first_order, first_line
    for shopper, count in zip(shoppers, counts):
        for day in sorted(rng.uniform(0, days) for _ in range(count)):
            paid = start + dt.timedelta(days=day)
            basket = _basket(shopper, day, paid, catalog, shelf, rng)
            if not basket:
                continue
            for p in basket:
                shopper.last[p] = day
            home = shopper.home
            in_store = home is not None and rng.random() < 0.5
            serving = rng.choice(guides[home]) if home is not None and in_store and guides and guides.get(home) else None
            total = 0
            for p, quantity in sorted(basket.items()):
                price = catalog.price_of[p]
                line_rows.append((lid, oid, catalog.sku_of[p], quantity, price, quantity * price))
                total += quantity * price
                lid += 1
            earned = points_for(total)
            cid = shopper.customer_id
            order_rows.append((oid, f"SYN{oid}", cid, channel_of[cid], "STORE" if in_store else "ONLINE",
                               "COMPLETED", home, home if in_store else None, serving, total, 0, total, 0, earned,
                               paid, paid))
            if earned:  # the EARN entry a paid order adds to the ledger (loyalty.service.add_points): balances add up
                points_rows.append((member_of[cid], earned, PointsReason.EARN.value, oid, paid))
            oid += 1
    async with segments.facts_paused(session, f"SELECT generate_series({first_customer}, {first_customer + members - 1})"):
        await db.copy_rows(session, "sales_order", [
            "id", "order_no", "customer_id", "member_channel", "channel", "status", "store_id", "stock_store_id",
            "guide_id", "subtotal_fen", "discount_fen", "total_fen", "points_redeemed", "points_earned", "created_at",
            "paid_at",
        ], order_rows)
    await db.copy_rows(session, "order_line", ["id", "order_id", "sku_id", "quantity", "unit_price_fen", "line_total_fen"],
                line_rows)
    await db.copy_rows(session, "points_entry", ["membership_id", "delta", "reason", "order_id", "created_at"],
                       points_rows)
    for table in ("customer", "membership", "sales_order", "order_line"):
        await _sync_sequence(session, table)
    return len(line_rows)
