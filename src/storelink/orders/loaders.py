"""DataLoaders for carts, orders and their lines."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import async_sessionmaker
from strawberry.dataloader import DataLoader

from storelink.catalog.models import Sku
from storelink.orders import cart, service
from storelink.orders.models import CartLine, Order, OrderLine


def cart_loader(sessionmaker: async_sessionmaker) -> DataLoader[int, list[tuple[CartLine, Sku]]]:
    async def load(customer_ids: Sequence[int]) -> list:
        async with sessionmaker() as session:
            found = await cart.lines_of(session, customer_ids)
        return [found[c] for c in customer_ids]

    return DataLoader(load_fn=load)


def order_lines_loader(sessionmaker: async_sessionmaker) -> DataLoader[int, list[OrderLine]]:
    async def load(order_ids: Sequence[int]) -> list:
        async with sessionmaker() as session:
            found = await service.lines_by_order(session, order_ids)
        return [found[o] for o in order_ids]

    return DataLoader(load_fn=load)


def recent_orders_loader(sessionmaker: async_sessionmaker) -> DataLoader[tuple[int, int], list[Order]]:
    """Key: (customer id, how many)."""
    async def load(keys: Sequence[tuple[int, int]]) -> list:
        limit = max(n for _, n in keys)
        async with sessionmaker() as session:
            found = await service.recent_orders(session, sorted({c for c, _ in keys}), limit)
        return [found[c][:n] for c, n in keys]

    return DataLoader(load_fn=load)
