"""`products`: product_code, name, category, sku_code, sku_title, price_fen, description?, tags?,
image_url?; one row per SKU. Rows of one product must agree on the product's fields. Product and
SKU codes are the business keys; SKUs not in the file are left as they are (an import adds and
updates, it does not retire). Counts are of rows: a row is updated when its SKU or its product changed."""
from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.bulk import fields
from storelink.bulk.common import duplicates
from storelink.bulk.kind import Counts, Kind, Row, Setting
from storelink.catalog import search
from storelink.catalog.models import Product, Sku
from storelink.catalog.service import MAX_PRICE_FEN, MAX_TAGS


def _tags(value: str) -> list[str]:
    tags: list[str] = []
    for tag in value.split("|"):
        tag = fields.text(tag, max_len=30)
        if tag and tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise fields.Bad(f"at most {MAX_TAGS} tags")
    return tags


def _url(value: str) -> str:
    value = fields.text(value, max_len=500)
    if not value.startswith(("https://", "http://")):
        raise fields.Bad("an http(s) URL")
    return value


def record(row: Row, s: Setting) -> tuple:
    name = row.get("name", fields.text, required=True, max_len=100)
    description = row.get("description", fields.text, max_len=2000)
    tags = row.get("tags", _tags) or []
    searchable = search.search_text(name or "", description, tags)
    return (
        row.get("product_code", fields.code, required=True), name,
        row.get("category", fields.text, required=True, max_len=50), description, tags,
        row.get("image_url", _url),
        row.get("sku_code", fields.code, required=True),
        row.get("sku_title", fields.text, required=True, max_len=100),
        row.get("price_fen", fields.whole, required=True, low=1, high=MAX_PRICE_FEN, what="number of fen"),
        searchable, search.grams(searchable),
    )


_PRODUCT = ("name", "category", "description", "tags", "image_url")
_DISAGREE = " OR ".join(f"r.{c} IS DISTINCT FROM f.{c}" for c in _PRODUCT)

CHECKS = (
    duplicates("sku_code", "sku_code"),
    # Every row of a product repeats its fields; a row that differs from the product's first is wrong.
    "SELECT r.line, 'product_code', 'differs from line ' || f.line || ' of the same product in ' || "
    "concat_ws(', ', " + ", ".join(f"CASE WHEN r.{c} IS DISTINCT FROM f.{c} THEN '{c}' END" for c in _PRODUCT) + ") "
    "FROM import_rows r JOIN (SELECT DISTINCT ON (product_code) * FROM import_rows ORDER BY product_code, line) f "
    f"ON f.product_code = r.product_code WHERE r.line > f.line AND ({_DISAGREE})",
    "SELECT r.line, 'sku_code', 'belongs to another product (' || p.code || ')' FROM import_rows r "
    "JOIN sku ON sku.code = r.sku_code JOIN product p ON p.id = sku.product_id WHERE p.code <> r.product_code",
)


async def load(session: AsyncSession, s: Setting) -> Counts:
    changed_products = {code for code, in await session.execute(text(
        "INSERT INTO product (code, name, category, description, tags, image_url, search_text, search_grams, "
        "active, created_at, updated_at) "
        "SELECT DISTINCT ON (product_code) product_code, name, category, description, tags, image_url, "
        "search_text, search_grams, true, now(), now() FROM import_rows ORDER BY product_code, line "
        "ON CONFLICT (code) DO UPDATE SET name = excluded.name, category = excluded.category, "
        "description = excluded.description, tags = excluded.tags, image_url = excluded.image_url, "
        "search_text = excluded.search_text, search_grams = excluded.search_grams, active = true, updated_at = now() "
        "WHERE (product.name, product.category, product.description, product.tags, product.image_url, product.active) "
        "IS DISTINCT FROM (excluded.name, excluded.category, excluded.description, excluded.tags, "
        "excluded.image_url, true) RETURNING code"))}
    skus: dict[str, bool] = dict((await session.execute(text(
        "INSERT INTO sku (product_id, code, title, price_fen, online_stock, active, created_at) "
        "SELECT p.id, r.sku_code, r.sku_title, r.price_fen, 0, true, now() FROM import_rows r "
        "JOIN product p ON p.code = r.product_code "
        "ON CONFLICT (code) DO UPDATE SET title = excluded.title, price_fen = excluded.price_fen, active = true "
        "WHERE (sku.title, sku.price_fen, sku.active) IS DISTINCT FROM (excluded.title, excluded.price_fen, true) "
        "RETURNING code, xmax = 0"))).all())
    counts = Counts()
    for sku_code, product_code in await session.execute(text("SELECT sku_code, product_code FROM import_rows")):
        if skus.get(sku_code):
            counts.inserted += 1
        elif sku_code in skus or product_code in changed_products:
            counts.updated += 1
        else:
            counts.unchanged += 1
    return counts


async def export(session: AsyncSession, s: Setting):
    yield ["product_code", "name", "category", "sku_code", "sku_title", "price_fen", "description", "tags",
           "image_url"]
    rows = await session.stream(select(Product, Sku).join(Sku, Sku.product_id == Product.id)
                                .where(Sku.active).order_by(Product.code, Sku.code))
    async for product, sku in rows:
        yield [product.code, product.name, product.category, sku.code, sku.title, str(sku.price_fen),
               product.description or "", "|".join(product.tags), product.image_url or ""]


KIND = Kind(
    name="products",
    required=("product_code", "name", "category", "sku_code", "sku_title", "price_fen"),
    optional=("description", "tags", "image_url"),
    staging=(("product_code", "text"), ("name", "text"), ("category", "text"), ("description", "text"),
             ("tags", "text[]"), ("image_url", "text"), ("sku_code", "text"), ("sku_title", "text"),
             ("price_fen", "int"), ("search_text", "text"), ("search_grams", "text[]")),
    record=record,
    checks=CHECKS,
    load=load,
    export=export,
)
