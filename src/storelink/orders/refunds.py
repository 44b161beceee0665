"""refundOrder: a store manager (of the credited or the stock-giving store) or HQ refunds what is
left of a paid order. Parcels not yet sent give their stock back, as does a pickup order's or a
store sale's stock store; goods already sent come back through receiveReturn. The money goes
back through the payment provider (returns.payouts, after the commit), and points and coupon
follow returns.accounting. KPIs count the refund on its day.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.accounts import permissions
from storelink.accounts.models import Staff, StaffRole
from storelink.catalog import service as catalog
from storelink.errors import Code, DomainError, Forbidden, NotFound
from storelink.fulfilment import shipments
from storelink.orders.models import PAID_STATUSES, Order, OrderLine
from storelink.returns import accounting
from storelink.returns.models import Refund

def _may_refund(staff: Staff, order: Order) -> bool:
    if permissions.is_hq(staff):
        return True
    return staff.role == StaffRole.STORE_MANAGER and staff.store_id in (order.store_id, order.stock_store_id)


async def refund(session: AsyncSession, *, staff: Staff, order_id: int, reason: str) -> tuple[Order, Refund]:
    reason = accounting.reason_given(reason)
    order = await session.get(Order, order_id, with_for_update=True)
    if order is None:
        raise NotFound("No such order", field=["id"])
    if not _may_refund(staff, order):
        raise Forbidden("Only HQ or the store's manager may refund this order")
    if order.status not in PAID_STATUSES:
        raise DomainError("This order is {status}; only paid orders can be refunded", status=order.status,
                          code=Code.INVALID_STATE, field=["id"])
    lines = (await session.execute(select(OrderLine).where(OrderLine.order_id == order.id))).scalars().all()
    left = {line.id: line.quantity - line.returned_quantity for line in lines if line.quantity > line.returned_quantity}
    if not await shipments.cancel_unsent(session, order.id):
        returned: dict[int, int] = {}
        for line in lines:
            if line.id in left:
                returned[line.sku_id] = returned.get(line.sku_id, 0) + left[line.id]
        await catalog.return_stock(session, store_id=order.stock_store_id, returned=returned)
    paid_back = await accounting.record(session, order=order, giving=left, reason=reason)
    order.refunded_by_id, order.refund_reason = staff.id, reason
    await session.flush()
    return order, paid_back
