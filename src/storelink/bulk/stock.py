"""`stock`: sku_code, store_code (empty: the central warehouse that ships online orders), quantity.
A row sets the count, as a stocktake does; (SKU, store) is the business key."""
from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.bulk import fields
from storelink.bulk.common import duplicates, staged_rows, unknown, upsert_counts
from storelink.bulk.kind import Counts, Kind, Row, Setting
from storelink.catalog.models import Sku, StoreStock
from storelink.stores.models import Store


def record(row: Row, s: Setting) -> tuple:
    return (row.get("sku_code", fields.code, required=True), row.get("store_code", fields.code),
            row.get("quantity", fields.whole, required=True, what="number of units"))


async def load(session: AsyncSession, s: Setting) -> Counts:
    in_stores = await upsert_counts(session, (
        "INSERT INTO store_stock (sku_id, store_id, quantity, updated_at) "
        "SELECT sku.id, st.id, r.quantity, now() FROM import_rows r "
        "JOIN sku ON sku.code = r.sku_code JOIN store st ON st.code = r.store_code "
        "ON CONFLICT (sku_id, store_id) DO UPDATE SET quantity = excluded.quantity, updated_at = now() "
        "WHERE store_stock.quantity <> excluded.quantity"),
        (await session.execute(text("SELECT count(*) FROM import_rows WHERE store_code IS NOT NULL"))).scalar_one())
    warehouse = (await session.execute(text(
        "WITH up AS (UPDATE sku SET online_stock = r.quantity FROM import_rows r "
        "WHERE r.store_code IS NULL AND sku.code = r.sku_code AND sku.online_stock <> r.quantity RETURNING 1) "
        "SELECT count(*) FROM up"))).scalar_one()
    total = await staged_rows(session)
    updated = in_stores.updated + warehouse
    return Counts(inserted=in_stores.inserted, updated=updated, unchanged=total - in_stores.inserted - updated)


async def export(session: AsyncSession, s: Setting):
    yield ["sku_code", "store_code", "quantity"]
    async for code, quantity in await session.stream(select(Sku.code, Sku.online_stock).order_by(Sku.code)):
        yield [code, "", str(quantity)]
    rows = await session.stream(select(Sku.code, Store.code, StoreStock.quantity)
                                .join(Sku, Sku.id == StoreStock.sku_id).join(Store, Store.id == StoreStock.store_id)
                                .order_by(Store.code, Sku.code))
    async for sku_code, store_code, quantity in rows:
        yield [sku_code, store_code, str(quantity)]


KIND = Kind(
    name="stock",
    required=("sku_code", "store_code", "quantity"),
    optional=(),
    staging=(("sku_code", "text"), ("store_code", "text"), ("quantity", "int")),
    record=record,
    checks=(duplicates("sku_code, coalesce(store_code, '')", "sku_code"),
            unknown("sku_code", "sku", "code", "unknown SKU code"),
            unknown("store_code", "store", "code", "unknown store code")),
    load=load,
    export=export,
)
