"""Returns (API-NOTES "Fulfilment and returns"): the customer asks (requestReturn), any store
takes the goods back (receiveReturn), restocks them and refunds.

The window: RETURN_DAYS after the goods reached the customer: delivery of the last parcel, the
pickup, or the store sale itself. Units are counted per order line: never more back than were
bought, refunded already, or asked for in another open request. Every step locks the order row,
so the same line returned at two tills at once is taken once and the second till is told how
many are left.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.accounts import permissions
from storelink.accounts.models import Staff
from storelink.catalog import service as catalog
from storelink.clock import utcnow
from storelink.errors import Code, DomainError, Forbidden, InvalidInput, NotFound
from storelink.fulfilment.models import Shipment, ShipmentStatus
from storelink.live import bus as live
from storelink.orders.models import PAID_STATUSES, Order, OrderLine
from storelink.returns import accounting
from storelink.returns.models import Refund, RefundStatus, ReturnLine, ReturnRequest, ReturnStatus
from storelink.settings import Settings
from storelink.stores.service import require_store
from storelink.webhooks import bodies, service as webhooks

MAX_LINES = 100


def _giving(lines: Sequence[tuple[int, int]]) -> dict[int, int]:
    if not 0 < len(lines) <= MAX_LINES:
        raise InvalidInput("Return 1 to {n} lines", n=MAX_LINES, field=["lines"])
    giving: dict[int, int] = {}
    for i, (line_id, units) in enumerate(lines):
        if line_id in giving:
            raise InvalidInput("Name each line once", field=["lines", str(i), "orderLineId"])
        if units <= 0:
            raise InvalidInput("Return at least one unit", field=["lines", str(i), "quantity"])
        giving[line_id] = units
    return giving


async def goods_received_at(session: AsyncSession, order: Order) -> dt.datetime | None:
    """When the goods reached the customer; None while some are still on the way."""
    if order.channel == "STORE":
        return order.paid_at
    if order.fulfilment == "STORE_PICKUP":
        return order.completed_at
    parcels = (await session.execute(select(Shipment.status, Shipment.delivered_at).where(
        Shipment.order_id == order.id, Shipment.status != ShipmentStatus.CANCELLED.value))).all()
    if not parcels:
        return order.completed_at  # an order from before routing, completed by hand
    if any(status != ShipmentStatus.DELIVERED.value for status, _ in parcels):
        return None
    return max((at for _, at in parcels if at is not None), default=None)


async def _check_returnable(session: AsyncSession, order: Order, settings: Settings, now: dt.datetime) -> None:
    if order.status not in PAID_STATUSES:
        raise DomainError("This order is {status}; it cannot be returned", status=order.status,
                          code=Code.INVALID_STATE, field=["orderId"])
    received = await goods_received_at(session, order)
    if received is None:
        raise DomainError("The goods have not reached you yet; return them once they arrive",
                          code=Code.INVALID_STATE, field=["orderId"])
    if now > received + dt.timedelta(days=settings.return_days):
        raise DomainError("Returns close {days} days after delivery, pickup or purchase", days=settings.return_days,
                          code=Code.RETURN_WINDOW_CLOSED, field=["orderId"])


async def _lock_order(session: AsyncSession, order_id: int) -> Order:
    order = await session.get(Order, order_id, with_for_update=True)
    if order is None:
        raise NotFound("No such order", field=["orderId"])
    return order


async def _order_lines(session: AsyncSession, order_id: int) -> list[OrderLine]:
    return list((await session.execute(
        select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.id))).scalars())


async def _asked(session: AsyncSession, order_id: int, *, besides: int | None = None) -> dict[int, int]:
    """Units named by the order's open (REQUESTED) requests, per line."""
    stmt = (select(ReturnLine.order_line_id, func.sum(ReturnLine.quantity))
            .join(ReturnRequest, ReturnRequest.id == ReturnLine.return_id)
            .where(ReturnRequest.order_id == order_id, ReturnRequest.status == ReturnStatus.REQUESTED.value)
            .group_by(ReturnLine.order_line_id))
    if besides is not None:
        stmt = stmt.where(ReturnRequest.id != besides)
    return {line_id: int(units) for line_id, units in await session.execute(stmt)}


async def request(session: AsyncSession, *, customer_id: int, order_id: int, lines: Sequence[tuple[int, int]],
                  reason: str, settings: Settings) -> ReturnRequest:
    reason, giving = accounting.reason_given(reason), _giving(lines)
    order = await _lock_order(session, order_id)
    if order.customer_id != customer_id:
        raise NotFound("No such order", field=["orderId"])  # someone else's reads as missing
    now = utcnow()
    await _check_returnable(session, order, settings, now)
    accounting.check_quantities(await _order_lines(session, order.id), giving, field=["lines"],
                                pending=await _asked(session, order.id))
    asked = ReturnRequest(order_id=order.id, status=ReturnStatus.REQUESTED.value, reason=reason, created_at=now)
    session.add(asked)
    await session.flush()
    session.add_all([ReturnLine(return_id=asked.id, order_line_id=line_id, quantity=units)
                     for line_id, units in giving.items()])
    await session.flush()
    # The credited store's tablets: the member's own store hears that something is coming back.
    await live.publish(session, kind="RETURN_REQUESTED", store_id=order.store_id, order=order.id)
    return asked


async def _open_request_covering(session: AsyncSession, order_id: int, giving: dict[int, int]) -> ReturnRequest | None:
    """The oldest open request that names every received line with at least as many units."""
    rows = (await session.execute(
        select(ReturnRequest, ReturnLine).join(ReturnLine, ReturnLine.return_id == ReturnRequest.id)
        .where(ReturnRequest.order_id == order_id, ReturnRequest.status == ReturnStatus.REQUESTED.value)
        .order_by(ReturnRequest.id))).all()
    named: dict[int, tuple[ReturnRequest, dict[int, int]]] = {}
    for asked, line in rows:
        named.setdefault(asked.id, (asked, {}))[1][line.order_line_id] = line.quantity
    for asked, units in named.values():
        if all(units.get(line_id, 0) >= n for line_id, n in giving.items()):
            return asked
    return None


async def receive(session: AsyncSession, *, staff: Staff, order_id: int, store_id: int,
                  lines: Sequence[tuple[int, int]], reason: str, settings: Settings) -> tuple[ReturnRequest, Refund]:
    """The goods are back at `store_id`: restock there, refund, and complete the customer's open
    request for those lines (or record a walk-in return)."""
    reason, giving = accounting.reason_given(reason), _giving(lines)
    if not permissions.can_see_store(staff, store_id):
        raise Forbidden("You may only receive returns at your own store")
    await require_store(session, store_id, ["storeId"])
    order = await _lock_order(session, order_id)
    now = utcnow()
    await _check_returnable(session, order, settings, now)
    order_lines = await _order_lines(session, order.id)
    asked = await _open_request_covering(session, order.id, giving)
    accounting.check_quantities(order_lines, giving, field=["lines"],
                                pending=await _asked(session, order.id, besides=asked.id if asked else None))
    if asked is None:
        asked = ReturnRequest(order_id=order.id, status=ReturnStatus.RECEIVED.value, reason=reason, created_at=now)
        session.add(asked)
        await session.flush()
    else:  # what came back is what the request now says
        await session.execute(delete(ReturnLine).where(ReturnLine.return_id == asked.id))
    session.add_all([ReturnLine(return_id=asked.id, order_line_id=line_id, quantity=units)
                     for line_id, units in giving.items()])
    sku_of = {line.id: line.sku_id for line in order_lines}
    restock: dict[int, int] = {}
    for line_id, units in giving.items():
        restock[sku_of[line_id]] = restock.get(sku_of[line_id], 0) + units
    await catalog.return_stock(session, store_id=store_id, returned=restock)
    await session.flush()
    refund = await accounting.record(session, order=order, giving=giving, reason=reason, return_id=asked.id)
    asked.status = (ReturnStatus.REFUNDED if refund.status == RefundStatus.SUCCEEDED.value
                    else ReturnStatus.RECEIVED).value
    asked.refund_fen, asked.received_store_id, asked.received_by_id = refund.amount_fen, store_id, staff.id
    asked.received_at = now
    asked.refunded_at = now if asked.status == ReturnStatus.REFUNDED.value else None
    await session.flush()
    await webhooks.emit(session, "return.received", lambda: bodies.returned(session, order, asked))
    return asked, refund
