"""DataLoaders for products, SKUs and stock."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import async_sessionmaker
from strawberry.dataloader import DataLoader

from storelink.catalog import service
from storelink.graphql.dataloaders import rows_by_key
from storelink.catalog.models import Product, Sku


def product_loader(sessionmaker: async_sessionmaker) -> DataLoader[int, Product | None]:
    return rows_by_key(sessionmaker, Product)


def sku_loader(sessionmaker: async_sessionmaker) -> DataLoader[int, Sku | None]:
    return rows_by_key(sessionmaker, Sku)


def skus_by_product_loader(sessionmaker: async_sessionmaker) -> DataLoader[int, list[Sku]]:
    async def load(product_ids: Sequence[int]) -> list[list[Sku]]:
        async with sessionmaker() as session:
            found = await service.skus_by_product(session, product_ids)
        return [found.get(p, []) for p in product_ids]

    return DataLoader(load_fn=load)


def store_stock_loader(sessionmaker: async_sessionmaker) -> DataLoader[tuple[int, int], int]:
    async def load(keys: Sequence[tuple[int, int]]) -> list[int]:
        async with sessionmaker() as session:
            found = await service.store_stock_of(session, keys)
        return [found.get(k, 0) for k in keys]

    return DataLoader(load_fn=load)
