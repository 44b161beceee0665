"""DataLoaders for products, SKUs and stock."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker
from strawberry.dataloader import DataLoader

from storelink.catalog import service
from storelink.catalog.models import Product, Sku


def _by_id(sessionmaker: async_sessionmaker, model) -> DataLoader:
    async def load(ids: Sequence[int]) -> list:
        async with sessionmaker() as session:
            rows = (await session.execute(select(model).where(model.id.in_(ids)))).scalars()
            found = {r.id: r for r in rows}
        return [found.get(i) for i in ids]

    return DataLoader(load_fn=load)


def product_loader(sessionmaker: async_sessionmaker) -> DataLoader[int, Product | None]:
    return _by_id(sessionmaker, Product)


def sku_loader(sessionmaker: async_sessionmaker) -> DataLoader[int, Sku | None]:
    return _by_id(sessionmaker, Sku)


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
