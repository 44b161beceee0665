"""The catalog (HQ sets up products and SKUs) and stock (HQ and store managers count it)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.accounts import permissions
from storelink.accounts.models import Staff
from storelink.catalog import search
from storelink.catalog.models import Product, Sku, StoreStock
from storelink.clock import utcnow
from storelink.errors import Code, Conflict, DomainError, InvalidInput, NotFound
from storelink.stores import service as store_service

MAX_PRICE_FEN = 100_000_000  # one million yuan: anything above is a typo
MAX_STOCK = 1_000_000
MAX_SKUS = 100
MAX_TAGS = 20
MAX_PAGE = 100


@dataclass(frozen=True)
class SkuSpec:
    code: str
    title: str
    price_fen: int


def _tags(tags: Sequence[str]) -> list[str]:
    cleaned: list[str] = []
    for i, tag in enumerate(tags):
        tag = store_service.clean_text(tag, ["input", "tags", str(i)], max_len=30)
        if tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > MAX_TAGS:
        raise InvalidInput("At most {n} tags; remove some", n=MAX_TAGS, field=["input", "tags"])
    return cleaned


def _check_skus(skus: Sequence[SkuSpec]) -> list[SkuSpec]:
    if not skus:
        raise InvalidInput("A product needs at least one SKU", field=["input", "skus"])
    if len(skus) > MAX_SKUS:
        raise InvalidInput("At most {n} SKUs per product", n=MAX_SKUS, field=["input", "skus"])
    checked, seen = [], set()
    for i, sku in enumerate(skus):
        f = ["input", "skus", str(i)]
        code = store_service.check_code(sku.code, f + ["code"])
        if code in seen:
            raise InvalidInput("Two SKUs share this code", field=f + ["code"])
        seen.add(code)
        if not 0 < sku.price_fen <= MAX_PRICE_FEN:
            raise InvalidInput("Price must be 1 to {n} fen", n=MAX_PRICE_FEN, field=f + ["priceFen"])
        checked.append(SkuSpec(code, store_service.clean_text(sku.title, f + ["title"], max_len=100), sku.price_fen))
    return checked


async def upsert_product(
    session: AsyncSession,
    *,
    actor: Staff,
    code: str,
    name: str,
    description: str | None,
    category: str,
    tags: Sequence[str],
    image_url: str | None,
    skus: Sequence[SkuSpec],
) -> Product:
    """Create or update a product by code; its SKUs are matched by code. SKUs left out of the
    input stop being sold (they stay for the orders that name them)."""
    permissions.ensure_hq(actor)
    f = ["input"]
    code = store_service.check_code(code, f + ["code"])
    name = store_service.clean_text(name, f + ["name"], max_len=100)
    description = store_service.clean_text(description, f + ["description"], max_len=2000, required=False)
    category = store_service.clean_text(category, f + ["category"], max_len=50)
    cleaned_tags = _tags(tags)
    image_url = store_service.clean_text(image_url, f + ["imageUrl"], max_len=500, required=False)
    if image_url and not image_url.startswith(("https://", "http://")):
        raise InvalidInput("imageUrl must be an http(s) URL", field=f + ["imageUrl"])
    checked = _check_skus(skus)
    text = search.search_text(name, description, cleaned_tags)
    values = {"code": code, "name": name, "description": description, "category": category, "tags": cleaned_tags,
              "image_url": image_url, "active": True, "search_text": text, "search_grams": search.grams(text)}
    now = utcnow()
    product_id = (
        await session.execute(
            insert(Product).values(**values, created_at=now, updated_at=now)
            .on_conflict_do_update(index_elements=[Product.code], set_={**values, "updated_at": now})
            .returning(Product.id)
        )
    ).scalar_one()
    taken = (
        await session.execute(
            select(Sku.code).where(Sku.code.in_([s.code for s in checked]), Sku.product_id != product_id)
        )
    ).scalars().first()
    if taken is not None:
        index = [s.code for s in checked].index(taken)
        raise Conflict("This SKU code belongs to another product", field=["input", "skus", str(index), "code"])
    for sku in checked:
        fields = {"title": sku.title, "price_fen": sku.price_fen, "active": True}
        await session.execute(
            insert(Sku).values(product_id=product_id, code=sku.code, online_stock=0, created_at=now, **fields)
            .on_conflict_do_update(index_elements=[Sku.code], set_=fields)
        )
    await session.execute(
        update(Sku).where(Sku.product_id == product_id, Sku.code.not_in([s.code for s in checked]))
        .values(active=False)
    )
    product = await session.get(Product, product_id, populate_existing=True)
    assert product is not None
    return product


async def require_sku(session: AsyncSession, sku_id: int, field: list[str], *, for_sale: bool = True) -> Sku:
    return _found(await session.get(Sku, sku_id), field, for_sale)


def _found(sku: Sku | None, field: list[str], for_sale: bool) -> Sku:
    """The SKU asked for: NOT_FOUND when missing, or withdrawn where it must be for sale."""
    if sku is None or (for_sale and not sku.active):
        raise NotFound("No such product", field=field)
    return sku


async def set_stock(
    session: AsyncSession, *, actor: Staff, sku_id: int, store_id: int | None, quantity: int
) -> Sku:
    """Set the counted stock: a store's (HQ or its manager) or the online warehouse's (HQ)."""
    sku = await require_sku(session, sku_id, ["input", "skuId"], for_sale=False)
    if store_id is None:
        permissions.ensure_hq(actor)
    else:
        await store_service.require_store(session, store_id, ["input", "storeId"])
        permissions.ensure_manages_store(actor, store_id)
    if not 0 <= quantity <= MAX_STOCK:
        raise InvalidInput("Quantity must be 0 to {n}", n=MAX_STOCK, field=["input", "quantity"])
    now = utcnow()
    if store_id is None:
        await session.execute(update(Sku).where(Sku.id == sku_id).values(online_stock=quantity))
        await session.refresh(sku)
    else:
        await session.execute(
            insert(StoreStock).values(sku_id=sku_id, store_id=store_id, quantity=quantity, updated_at=now)
            .on_conflict_do_update(index_elements=[StoreStock.sku_id, StoreStock.store_id],
                                   set_={"quantity": quantity, "updated_at": now})
        )
    return sku


# ------------------------------------------------------------------ holding and returning stock

async def take_stock(session: AsyncSession, *, store_id: int | None, wanted: dict[int, int],
                     field_of: dict[int, list[str]] | None = None) -> None:
    """Take units off a store's stock (or the online warehouse's when store_id is None).

    All SKUs in one statement whose rows are locked in SKU order (no deadlock between two orders
    sharing SKUs); a SKU short of stock is left alone and missing from the result, and the
    database refuses to go below zero, so concurrent buyers of the last unit get exactly one
    success. Short of any: OUT_OF_STOCK on the first such SKU (the caller's transaction rolls
    the others back)."""
    skus = sorted(wanted)
    values = {"sku_ids": skus, "quantities": [wanted[s] for s in skus]}
    if store_id is None:
        taken = (await session.execute(_TAKE_ONLINE, values)).scalars().all()
    else:
        taken = (await session.execute(_TAKE_IN_STORE, {**values, "store_id": store_id, "now": utcnow()})
                 ).scalars().all()
    taken_ids = set(taken)
    short = [s for s in skus if s not in taken_ids]
    if short:
        raise DomainError("Not enough stock at this store; lower the quantity" if store_id is not None
                          else "Not enough stock online; lower the quantity", code=Code.OUT_OF_STOCK,
                          field=(field_of or {}).get(short[0]))


# take_stock's statements, built once: the wanted (sku, quantity) pairs as two arrays; the rows
# locked in SKU order first (`locked` emits them sorted, and a row is updated only once emitted).
# NO KEY UPDATE, the lock an UPDATE of these columns takes anyway: the order lines inserted just
# before hold KEY SHARE locks on the same SKUs (their foreign keys), which FOR UPDATE would wait on.
_WANTED = "unnest(CAST(:sku_ids AS integer[]), CAST(:quantities AS integer[])) AS w(sku_id, quantity)"
_TAKE_ONLINE = text(f"""
    WITH w AS (SELECT * FROM {_WANTED}),
    locked AS (SELECT sku.id FROM sku JOIN w ON w.sku_id = sku.id ORDER BY sku.id FOR NO KEY UPDATE OF sku)
    UPDATE sku SET online_stock = sku.online_stock - w.quantity
    FROM w WHERE sku.id = w.sku_id AND sku.id IN (SELECT id FROM locked) AND sku.online_stock >= w.quantity
    RETURNING sku.id""")
_TAKE_IN_STORE = text(f"""
    WITH w AS (SELECT * FROM {_WANTED}),
    locked AS (SELECT s.sku_id FROM store_stock s JOIN w ON w.sku_id = s.sku_id WHERE s.store_id = :store_id
               ORDER BY s.sku_id FOR NO KEY UPDATE OF s)
    UPDATE store_stock SET quantity = store_stock.quantity - w.quantity, updated_at = :now
    FROM w WHERE store_stock.store_id = :store_id AND store_stock.sku_id = w.sku_id
      AND store_stock.sku_id IN (SELECT sku_id FROM locked) AND store_stock.quantity >= w.quantity
    RETURNING store_stock.sku_id""")


async def return_stock(session: AsyncSession, *, store_id: int | None, returned: dict[int, int]) -> None:
    for sku_id in sorted(returned):
        quantity = returned[sku_id]
        if store_id is None:
            await session.execute(update(Sku).where(Sku.id == sku_id)
                                  .values(online_stock=Sku.online_stock + quantity))
        else:
            await session.execute(
                insert(StoreStock).values(sku_id=sku_id, store_id=store_id, quantity=quantity, updated_at=utcnow())
                .on_conflict_do_update(index_elements=[StoreStock.sku_id, StoreStock.store_id],
                                       set_={"quantity": StoreStock.quantity + quantity, "updated_at": utcnow()})
            )


async def sku_and_most_held(session: AsyncSession, sku_id: int, field: list[str], *,
                            for_sale: bool = True) -> tuple[Sku, int]:
    """require_sku, with the most one place holds of it (the warehouse, or the best-stocked
    single store): one statement."""
    found = (await session.execute(_SKU_AND_MOST_HELD, {"sku_id": sku_id})).first()
    sku = _found(found[0] if found else None, field, for_sale)  # raises when there is none
    assert found is not None
    return sku, found[1]


_SKU_AND_MOST_HELD = select(Sku, func.greatest(Sku.online_stock, select(func.max(StoreStock.quantity)).where(
    StoreStock.sku_id == Sku.id).scalar_subquery())).where(Sku.id == bindparam("sku_id"))


# ------------------------------------------------------------------ browsing

async def list_products(
    session: AsyncSession, *, query: str | None, category: str | None, first: int, after_id: int | None
) -> tuple[list[Product], bool]:
    """Active products in id order after the cursor; (page, has_next_page)."""
    if not 0 < first <= MAX_PAGE:
        raise InvalidInput("first must be 1 to {n}", n=MAX_PAGE, field=["first"])
    stmt = select(Product).where(Product.active)
    if category:
        stmt = stmt.where(Product.category == category.strip())
    if query is not None:
        q = search.normalise(query)[:100]
        if q:
            stmt = stmt.where(
                Product.search_grams.contains(search.query_grams(q)),
                Product.search_text.contains(q, autoescape=True),
            )
    if after_id is not None:
        stmt = stmt.where(Product.id > after_id)
    rows = list((await session.execute(stmt.order_by(Product.id).limit(first + 1))).scalars())
    return rows[:first], len(rows) > first


async def skus_by_product(session: AsyncSession, product_ids: Sequence[int]) -> dict[int, list[Sku]]:
    found: dict[int, list[Sku]] = {p: [] for p in product_ids}
    rows = await session.execute(
        select(Sku).where(Sku.product_id.in_(product_ids), Sku.active).order_by(Sku.product_id, Sku.id)
    )
    for sku in rows.scalars():
        found[sku.product_id].append(sku)
    return found


async def store_stock_of(session: AsyncSession, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """(sku_id, store_id) -> units on hand, for many pairs in one statement."""
    if not keys:
        return {}
    # The cross product of the two id sets is a superset of the pairs; the lookup picks them.
    rows = await session.execute(
        select(StoreStock.sku_id, StoreStock.store_id, StoreStock.quantity).where(
            StoreStock.sku_id.in_({k[0] for k in keys}), StoreStock.store_id.in_({k[1] for k in keys})
        )
    )
    return {(sku, store): qty for sku, store, qty in rows}
