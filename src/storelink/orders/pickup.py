"""Store pickup: the customer shows the pickup code, the store scans it and hands the order over."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.scanning import scanner
from storelink.accounts import permissions
from storelink.accounts.models import Staff
from storelink.clock import utcnow
from storelink.errors import Code, DomainError, Forbidden, NotFound
from storelink.scanning import codes
from storelink.orders.models import Order, OrderStatus


@dataclass(frozen=True)
class PickupScanned:
    order: Order


@scanner.handles(codes.PICKUP)
async def scan_pickup(session: AsyncSession, request: scanner.ScanRequest) -> PickupScanned:
    """Shows the order to hand over; completePickup then completes it."""
    order = (await session.execute(select(Order).where(Order.pickup_token == request.token))).scalar_one_or_none()
    if order is None:
        raise DomainError("Unknown pickup code", code=Code.CODE_INVALID, field=["code"])
    if order.pickup_store_id != request.store_id:
        raise DomainError("This order is to be picked up at another store", code=Code.INVALID_STATE, field=["code"])
    if order.status == OrderStatus.COMPLETED.value:
        raise DomainError("This order has been picked up", code=Code.CODE_USED_UP, field=["code"])
    if order.status != OrderStatus.READY_FOR_PICKUP.value:
        raise DomainError("This order cannot be picked up: it is {status}", status=order.status, code=Code.CODE_EXPIRED, field=["code"])
    return PickupScanned(order)


async def complete(session: AsyncSession, *, staff: Staff, order_id: int) -> Order:
    """Hand a ready order over; of two tablets completing it at once, one succeeds."""
    order = await session.get(Order, order_id)
    if order is None or order.pickup_store_id is None:
        raise NotFound("No such pickup order", field=["orderId"])
    if not permissions.can_see_store(staff, order.pickup_store_id):
        raise Forbidden("This order is picked up at another store")
    done = (await session.execute(
        update(Order).where(Order.id == order_id, Order.status == OrderStatus.READY_FOR_PICKUP.value)
        .values(status=OrderStatus.COMPLETED.value, completed_at=utcnow()).returning(Order.id)
    )).first()
    if done is None:
        await session.refresh(order)
        raise DomainError("This order is {status}, not ready for pickup", status=order.status, code=Code.INVALID_STATE,
                          field=["orderId"])
    await session.refresh(order)
    return order
