"""Reading orders: a customer's history page by page, lines and recent orders for many at once,
and who may see an order."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.accounts import permissions
from storelink.accounts.models import Staff
from storelink.errors import InvalidInput
from storelink.orders.models import Order, OrderLine

MAX_PAGE = 100


async def customer_orders(session: AsyncSession, *, customer_id: int, first: int, before_id: int | None
                          ) -> tuple[list[Order], bool]:
    """Newest first; keyset pagination on the id."""
    if not 0 < first <= MAX_PAGE:
        raise InvalidInput("first must be 1 to {n}", n=MAX_PAGE, field=["first"])
    stmt = select(Order).where(Order.customer_id == customer_id)
    if before_id is not None:
        stmt = stmt.where(Order.id < before_id)
    rows = list((await session.execute(stmt.order_by(Order.id.desc()).limit(first + 1))).scalars())
    return rows[:first], len(rows) > first


async def lines_by_order(session: AsyncSession, order_ids: Sequence[int]) -> dict[int, list[OrderLine]]:
    found: dict[int, list[OrderLine]] = {o: [] for o in order_ids}
    rows = await session.execute(
        select(OrderLine).where(OrderLine.order_id.in_(order_ids)).order_by(OrderLine.order_id, OrderLine.id)
    )
    for line in rows.scalars():
        found[line.order_id].append(line)
    return found


async def recent_orders(session: AsyncSession, customer_ids: Sequence[int], limit: int) -> dict[int | None, list[Order]]:
    """The newest `limit` orders of each customer, in one statement."""
    ranked = (
        select(Order.id, func.row_number().over(partition_by=Order.customer_id, order_by=Order.id.desc()).label("n"))
        .where(Order.customer_id.in_(customer_ids)).subquery()
    )
    rows = await session.execute(
        select(Order).join(ranked, ranked.c.id == Order.id).where(ranked.c.n <= limit)
        .order_by(Order.customer_id, Order.id.desc())
    )
    found: dict[int | None, list[Order]] = {c: [] for c in customer_ids}
    for order in rows.scalars():
        found[order.customer_id].append(order)
    return found


def staff_may_see(staff: Staff, order: Order) -> bool:
    """HQ; or staff of the store credited with it, that sold it or hands it over."""
    return permissions.is_hq(staff) or staff.store_id in {order.store_id, order.stock_store_id, order.pickup_store_id}
