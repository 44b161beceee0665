"""The life of a shipment: ALLOCATED (stock held) -> PACKED -> SHIPPED -> DELIVERED, or CANCELLED
(rejected by its place, or its order went unpaid). The order follows: SHIPPED when every parcel
has left, COMPLETED when every parcel arrived.

Staff of the shipping store act on its parcels; HQ admins act for the central warehouse (and may
act for any store). Every step locks the order first, then its shipment: two tablets pressing
the same button, or a step racing a rejection, queue on the order and the second sees the new
state.
"""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.accounts import permissions
from storelink.accounts.models import Staff
from storelink.catalog import service as catalog
from storelink.clock import utcnow
from storelink.errors import Code, DomainError, Forbidden, InvalidInput, NotFound
from storelink.fulfilment import routing
from storelink.fulfilment.models import Shipment, ShipmentLine, ShipmentStatus as S
from storelink.limits import clean_text
from storelink.live import bus as live
from storelink.orders.models import Order, OrderLine, OrderStatus
from storelink.returns import accounting
from storelink.returns.models import Refund
from storelink.webhooks import bodies, service as webhooks

MAX_PAGE = 100
LIVE = (S.ALLOCATED.value, S.PACKED.value, S.SHIPPED.value, S.DELIVERED.value)
UNPAID = (OrderStatus.PENDING_PAYMENT.value, OrderStatus.CANCELLED.value)


def may_act(staff: Staff, shipment: Shipment) -> bool:
    if shipment.from_store_id is None:
        return permissions.is_hq(staff)
    return permissions.can_see_store(staff, shipment.from_store_id)


def _address_point(order: Order) -> tuple[float, float] | None:
    if order.address_lat is None or order.address_lng is None:
        return None
    return order.address_lat, order.address_lng


async def place_order(session: AsyncSession, order: Order, lines: Sequence[OrderLine], *,
                      same_city_store_id: int | None = None) -> list[Shipment]:
    """At checkout: route every line and hold its stock where it ships; OUT_OF_STOCK otherwise."""
    near = _address_point(order)
    only = (lambda place: place.store_id == same_city_store_id) if same_city_store_id is not None else None
    shipments, unplaced = await routing.route(session, order_id=order.id, lines=lines, near=near, only=only)
    if unplaced:
        raise DomainError("Not enough stock online; lower the quantity", code=Code.OUT_OF_STOCK, field=["cart"])
    return shipments


def assigned(order_id: int):
    """SELECT (store, shipment) of an order's parcels a store must pack: announced when it is paid."""
    return select(Shipment.from_store_id, Shipment.id).where(
        Shipment.order_id == order_id, Shipment.status == S.ALLOCATED.value, Shipment.from_store_id.is_not(None))


async def announce(session: AsyncSession, parcels: Sequence[Shipment]) -> None:
    """Parcels of a paid order reach their stores' tablets (SHIPMENT_ASSIGNED, after the commit)."""
    for shipment in parcels:
        if shipment.from_store_id is not None and shipment.status == S.ALLOCATED.value:
            await live.publish(session, kind="SHIPMENT_ASSIGNED", store_id=shipment.from_store_id,
                               order=shipment.order_id, shipment=shipment.id)


async def lines_of(session: AsyncSession, shipment_ids: Sequence[int]) -> dict[int, list[ShipmentLine]]:
    found: dict[int, list[ShipmentLine]] = {s: [] for s in shipment_ids}
    rows = await session.execute(select(ShipmentLine).where(ShipmentLine.shipment_id.in_(shipment_ids))
                                 .order_by(ShipmentLine.shipment_id, ShipmentLine.order_line_id))
    for line in rows.scalars():
        found[line.shipment_id].append(line)
    return found


async def _give_back(session: AsyncSession, shipment: Shipment) -> None:
    lines = (await lines_of(session, [shipment.id]))[shipment.id]
    await catalog.return_stock(session, store_id=shipment.from_store_id,
                               returned={line.sku_id: line.quantity for line in lines})


async def cancel_unsent(session: AsyncSession, order_id: int) -> bool:
    """The order is off (unpaid, or refunded whole): parcels not yet sent give their stock back.
    False when the order has no shipments (a pickup order, or one from before routing)."""
    shipments = (await session.execute(select(Shipment).where(Shipment.order_id == order_id))).scalars().all()
    for shipment in shipments:
        if shipment.status in (S.ALLOCATED.value, S.PACKED.value):
            await _give_back(session, shipment)
            shipment.status, shipment.cancelled_at = S.CANCELLED.value, utcnow()
    return bool(shipments)


async def _locked(session: AsyncSession, shipment_id: int) -> tuple[Shipment, Order]:
    found = (await session.execute(select(Shipment.order_id).where(Shipment.id == shipment_id))).scalar()
    if found is None:
        raise NotFound("No such shipment", field=["id"])
    order = (await session.execute(select(Order).where(Order.id == found).with_for_update())).scalar_one()
    shipment = (await session.execute(select(Shipment).where(Shipment.id == shipment_id).with_for_update()
                                      .execution_options(populate_existing=True))).scalar_one()
    return shipment, order


async def _for_staff(session: AsyncSession, staff: Staff, shipment_id: int, *, was: Sequence[S]
                     ) -> tuple[Shipment, Order]:
    shipment, order = await _locked(session, shipment_id)
    if not may_act(staff, shipment):
        raise Forbidden("This shipment is sent by another store")
    _require(shipment, order, was=was)
    return shipment, order


def _require(shipment: Shipment, order: Order, *, was: Sequence[S]) -> None:
    if order.status in UNPAID:
        raise DomainError("This order is not paid", code=Code.INVALID_STATE, field=["id"])
    if shipment.status not in [s.value for s in was]:
        raise DomainError("This shipment is {status}; that step is not possible now", status=shipment.status,
                          code=Code.INVALID_STATE, field=["id"])


async def _follow(session: AsyncSession, order: Order) -> None:
    """The order's status after a step of one of its parcels."""
    if order.status not in (OrderStatus.PAID.value, OrderStatus.SHIPPED.value):
        return  # refunded in part or whole: that status stays
    statuses = (await session.execute(select(Shipment.status).where(
        Shipment.order_id == order.id, Shipment.status.in_(LIVE)))).scalars().all()
    if statuses and all(s == S.DELIVERED.value for s in statuses):
        order.status, order.completed_at = OrderStatus.COMPLETED.value, utcnow()
        await live.publish(session, kind="ORDER_DELIVERED", customer_id=order.customer_id, order=order.id)
    elif statuses and all(s in (S.SHIPPED.value, S.DELIVERED.value) for s in statuses) \
            and order.status != OrderStatus.SHIPPED.value:
        order.status = OrderStatus.SHIPPED.value
        await live.publish(session, kind="ORDER_SHIPPED", customer_id=order.customer_id, order=order.id)
        await webhooks.emit(session, "order.shipped", lambda: bodies.order(session, order))


async def pack(session: AsyncSession, *, staff: Staff, shipment_id: int) -> Shipment:
    shipment, _ = await _for_staff(session, staff, shipment_id, was=[S.ALLOCATED])
    shipment.status, shipment.packed_at = S.PACKED.value, utcnow()
    await session.flush()
    return shipment


def _label(value: str, *, name: str, max_len: int) -> str:
    value = (value or "").strip()
    if not 0 < len(value) <= max_len or not clean_text(value):
        raise InvalidInput("Give 1 to {n} characters", n=max_len, field=[name])
    return value


async def ship(session: AsyncSession, *, staff: Staff, shipment_id: int, carrier: str, tracking_no: str) -> Shipment:
    carrier = _label(carrier, name="carrier", max_len=50)
    tracking_no = _label(tracking_no, name="trackingNo", max_len=64)
    shipment, order = await _for_staff(session, staff, shipment_id, was=[S.PACKED])
    shipment.status, shipment.shipped_at = S.SHIPPED.value, utcnow()
    shipment.carrier, shipment.tracking_no = carrier, tracking_no
    await session.flush()
    await _follow(session, order)
    return shipment


async def deliver(session: AsyncSession, *, staff: Staff | None, customer_id: int | None, shipment_id: int
                  ) -> Shipment:
    """The shipping store's staff (HQ for the warehouse), or the customer whose order it is."""
    shipment, order = await _locked(session, shipment_id)
    if customer_id is not None:
        if order.customer_id != customer_id:
            raise NotFound("No such shipment", field=["id"])  # someone else's reads as missing
    elif staff is None or not may_act(staff, shipment):
        raise Forbidden("This shipment is sent by another store")
    _require(shipment, order, was=[S.SHIPPED])
    shipment.status, shipment.delivered_at = S.DELIVERED.value, utcnow()
    await session.flush()
    await _follow(session, order)
    return shipment


async def reject(session: AsyncSession, *, staff: Staff, shipment_id: int, reason: str
                 ) -> tuple[Shipment, Refund | None]:
    """The place cannot ship after all: its stock hold goes back, its lines go to the next place
    (never one that rejected this order before); the lines no place can take are refunded."""
    reason = _label(reason, name="reason", max_len=200)
    shipment, order = await _for_staff(session, staff, shipment_id, was=[S.ALLOCATED, S.PACKED])
    await _give_back(session, shipment)
    shipment.status, shipment.cancelled_at, shipment.reject_reason = S.CANCELLED.value, utcnow(), reason
    await session.flush()
    rejected_by = (await session.execute(select(Shipment.from_store_id).where(
        Shipment.order_id == order.id, Shipment.reject_reason.is_not(None)))).scalars().all()
    moved = (await lines_of(session, [shipment.id]))[shipment.id]
    order_lines = (await session.execute(select(OrderLine).where(
        OrderLine.id.in_([m.order_line_id for m in moved])))).scalars().all()
    near = _address_point(order)
    placed, unplaced = await routing.route(session, order_id=order.id, lines=order_lines, near=near,
                                           excluded=rejected_by)
    await announce(session, placed)
    refund = None
    if unplaced:
        units = {m.order_line_id: m.quantity for m in moved}
        refund = await accounting.record(session, order=order, giving={ln.id: units[ln.id] for ln in unplaced},
                                         reason="无法发货 / could not be shipped: " + reason[:150])
    await _follow(session, order)
    return shipment, refund


async def queue(session: AsyncSession, *, store_id: int | None, status: str | None) -> list[Shipment]:
    """A place's parcels of paid orders, oldest first (the first MAX_PAGE)."""
    stmt = (select(Shipment).join(Order, Order.id == Shipment.order_id)
            .where(Shipment.from_store_id.is_(None) if store_id is None else Shipment.from_store_id == store_id,
                   Order.status.not_in(UNPAID)))
    if status is not None:
        stmt = stmt.where(Shipment.status == status)
    return list((await session.execute(stmt.order_by(Shipment.id).limit(MAX_PAGE))).scalars())
