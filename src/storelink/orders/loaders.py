"""DataLoaders for carts, orders and their lines."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from storelink.catalog.models import Sku
from storelink.graphql.dataloaders import RequestLoader, RowsByKey
from storelink.orders import cart, service
from storelink.orders.models import CartLine, Order, OrderLine


class OrderById(RowsByKey):
    model = Order


class OrderLineById(RowsByKey):
    model = OrderLine


class CartOf(RequestLoader[int, list[tuple[CartLine, Sku]]]):
    """Key: customer id."""

    async def fetch(self, session: AsyncSession, customer_ids: Sequence[int]) -> list:
        found = await cart.lines_of(session, customer_ids)
        return [found[c] for c in customer_ids]


class LinesOfOrder(RequestLoader[int, list[OrderLine]]):
    async def fetch(self, session: AsyncSession, order_ids: Sequence[int]) -> list:
        found = await service.lines_by_order(session, order_ids)
        return [found[o] for o in order_ids]


class RecentOrders(RequestLoader[tuple[int, int], list[Order]]):
    """Key: (customer id, how many)."""

    async def fetch(self, session: AsyncSession, keys: Sequence[tuple[int, int]]) -> list:
        limit = max(n for _, n in keys)
        found = await service.recent_orders(session, sorted({c for c, _ in keys}), limit)
        return [found[c][:n] for c, n in keys]


class OrdersPage(RequestLoader[tuple[int, int, int | None], tuple[list[Order], bool]]):
    """Key: (customer id, page size, before this order id); (orders newest first, more after)."""

    async def fetch(self, session: AsyncSession, keys: Sequence[tuple[int, int, int | None]]) -> list:
        return [await service.customer_orders(session, customer_id=c, first=first, before_id=before)
                for c, first, before in keys]
