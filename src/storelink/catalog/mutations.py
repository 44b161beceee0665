"""HQ sets up the catalog; HQ and store managers count stock."""
from __future__ import annotations

import strawberry

from storelink.api.context import Info
from storelink.catalog import service
from storelink.catalog.types import Product, ProductInput, ProductPayload, Sku, SkuPayload, StockInput
from storelink.graphql.errors import in_transaction
from storelink.graphql import caller
from storelink.graphql.relay import decode_id, decode_optional_id


@strawberry.type
class CatalogMutations:
    @strawberry.mutation(description="HQ admin.")
    async def upsert_product(self, info: Info, input: ProductInput) -> ProductPayload:
        async def work(session):
            actor = await caller.staff(info)
            row = await service.upsert_product(
                session, actor=actor, code=input.code, name=input.name, description=input.description,
                category=input.category, tags=input.tags, image_url=input.image_url,
                skus=[service.SkuSpec(s.code, s.title, s.price_fen) for s in input.skus],
            )
            return {"product": Product.from_model(row)}

        return await in_transaction(info, ProductPayload, work)

    @strawberry.mutation(description="HQ admin or the store's manager (own store only).")
    async def set_stock(self, info: Info, input: StockInput) -> SkuPayload:
        async def work(session):
            actor = await caller.staff(info)
            row = await service.set_stock(
                session, actor=actor, sku_id=decode_id(input.sku_id, "Sku", ["input", "skuId"]),
                store_id=decode_optional_id(input.store_id, "Store", ["input", "storeId"]),
                quantity=input.quantity,
            )
            return {"sku": Sku.from_model(row)}

        return await in_transaction(info, SkuPayload, work)
