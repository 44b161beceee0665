"""The `data` of each webhook event (README, "Webhooks"): codes and numbers a brand system can
match on (order number, member number, store and service codes); never a phone number."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.accounts.models import Staff
from storelink.appointments.models import Appointment, ServiceType
from storelink.ids import global_id
from storelink.members.models import Membership
from storelink.catalog.models import Sku
from storelink.orders.models import Order, OrderLine
from storelink.returns.models import ReturnLine, ReturnRequest
from storelink.stores.models import Store


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


async def _store_codes(session: AsyncSession, *ids: int | None) -> dict[int | None, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict((await session.execute(select(Store.id, Store.code).where(Store.id.in_(wanted)))).all())


async def _member_no(session: AsyncSession, customer_id: int | None) -> str | None:
    if customer_id is None:
        return None
    return (await session.execute(
        select(Membership.member_no).where(Membership.customer_id == customer_id))).scalar_one_or_none()


async def order(session: AsyncSession, row: Order) -> dict:
    codes = await _store_codes(session, row.store_id, row.pickup_store_id)
    return {
        "orderNo": row.order_no, "channel": row.channel, "fulfilment": row.fulfilment, "status": row.status,
        "subtotalFen": row.subtotal_fen, "discountFen": row.discount_fen, "deliveryFeeFen": row.delivery_fee_fen,
        "totalFen": row.total_fen, "refundedFen": row.refunded_fen,
        "storeCode": codes.get(row.store_id), "pickupStoreCode": codes.get(row.pickup_store_id),
        "receiptNo": row.receipt_no, "memberNo": await _member_no(session, row.customer_id),
        "paidAt": _iso(row.paid_at), "refundedAt": _iso(row.refunded_at),
    }


async def returned(session: AsyncSession, order_row: Order, request: ReturnRequest) -> dict:
    """return.received: which units of which order came back where, and the refund."""
    codes = await _store_codes(session, request.received_store_id)
    lines = (await session.execute(
        select(Sku.code, ReturnLine.quantity).join(OrderLine, OrderLine.id == ReturnLine.order_line_id)
        .join(Sku, Sku.id == OrderLine.sku_id).where(ReturnLine.return_id == request.id)
        .order_by(OrderLine.id))).all()
    return {
        "returnId": global_id("ReturnRequest", request.id), "orderNo": order_row.order_no,
        "storeCode": codes.get(request.received_store_id), "refundFen": request.refund_fen,
        "lines": [{"skuCode": code, "quantity": quantity} for code, quantity in lines],
        "receivedAt": _iso(request.received_at),
    }


async def member(session: AsyncSession, row: Membership) -> dict:
    codes = await _store_codes(session, row.join_store_id)
    guide = await session.get(Staff, row.guide_id) if row.guide_id else None
    return {
        "memberNo": row.member_no, "joinChannel": row.join_channel, "joinedAt": _iso(row.joined_at),
        "storeCode": codes.get(row.join_store_id), "guideUsername": guide.username if guide else None,
    }


async def appointment(session: AsyncSession, row: Appointment) -> dict:
    codes = await _store_codes(session, row.store_id)
    service = await session.get(ServiceType, row.service_id)
    return {
        "appointmentId": global_id("Appointment", row.id), "status": row.status,
        "storeCode": codes.get(row.store_id), "serviceCode": service.code if service else None,
        "startAt": _iso(row.start_at), "endAt": _iso(row.end_at),
        "memberNo": await _member_no(session, row.customer_id),
    }
