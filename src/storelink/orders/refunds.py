"""Refunds: a store manager (of the credited or the stock-giving store) or HQ refunds a paid order
in full. Stock goes back where it came from, points earned are reversed (the balance may go
negative), points redeemed come back, and the coupon is usable again while its campaign runs.
KPIs leave the order out from then on.

The money itself goes back through the payment provider's merchant tools; calling a provider's
refund API is not part of this flow yet.
"""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storelink.accounts import permissions
from storelink.accounts.models import Staff, StaffRole
from storelink.clock import utcnow
from storelink.live import bus as live
from storelink.webhooks import bodies, service as webhooks
from storelink.errors import Code, DomainError, Forbidden, InvalidInput, NotFound
from storelink.loyalty import service as loyalty
from storelink.loyalty.models import PointsReason
from storelink.members.joining import membership_of
from storelink.orders.checkout import release
from storelink.orders.models import PAID_STATUSES, Order, OrderStatus

MAX_REASON = 200


def _may_refund(staff: Staff, order: Order) -> bool:
    if permissions.is_hq(staff):
        return True
    return staff.role == StaffRole.STORE_MANAGER and staff.store_id in (order.store_id, order.stock_store_id)


async def refund(session: AsyncSession, *, staff: Staff, order_id: int, reason: str) -> Order:
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_REASON:
        raise InvalidInput("Give a reason of 1 to {n} characters", n=MAX_REASON, field=["reason"])
    order = await session.get(Order, order_id, with_for_update=True)
    if order is None:
        raise NotFound("No such order", field=["id"])
    if not _may_refund(staff, order):
        raise Forbidden("Only HQ or the store's manager may refund this order")
    if order.status not in PAID_STATUSES:
        raise DomainError("This order is {status}; only paid orders can be refunded", status=order.status,
                          code=Code.INVALID_STATE, field=["id"])
    await release(session, order)
    if order.points_earned and order.customer_id is not None:
        membership = await membership_of(session, order.customer_id)
        if membership is not None:
            await loyalty.add_points(session, membership_id=membership.id, delta=-order.points_earned,
                                     reason=PointsReason.REVERSE_EARN, order_id=order.id)
    order.status = OrderStatus.REFUNDED.value
    order.refunded_at = utcnow()
    order.refunded_by_id = staff.id
    order.refund_reason = reason
    await session.flush()
    await live.publish(session, kind="REFUNDED", customer_id=order.customer_id, order=order.id)
    await webhooks.emit(session, "order.refunded", lambda: bodies.order(session, order))
    return order
