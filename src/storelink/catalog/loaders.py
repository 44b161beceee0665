"""DataLoaders for products, SKUs and stock."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from storelink.catalog import service
from storelink.catalog.models import Product, Sku
from storelink.graphql.dataloaders import RequestLoader, RowsByKey


class ProductById(RowsByKey):
    model = Product


class SkuById(RowsByKey):
    model = Sku


class SkusOfProduct(RequestLoader[int, list[Sku]]):
    async def fetch(self, session: AsyncSession, product_ids: Sequence[int]) -> list[list[Sku]]:
        found = await service.skus_by_product(session, product_ids)
        return [found.get(p, []) for p in product_ids]


class StoreStock(RequestLoader[tuple[int, int], int]):
    """Key: (SKU id, store id); units on hand."""

    async def fetch(self, session: AsyncSession, keys: Sequence[tuple[int, int]]) -> list[int]:
        found = await service.store_stock_of(session, keys)
        return [found.get(k, 0) for k in keys]
