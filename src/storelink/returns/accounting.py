"""What a refund of some of an order's units gives back, and writing it down (API-NOTES
"Fulfilment and returns").

The goods' paid share after discounts: with V the list value of every unit refunded so far and
S the subtotal, the goods refunded so far are floor((S - discount) * V / S); a refund is the
increase it brings. Points earned are reversed and points redeemed given back the same way. The
delivery fee and the coupon come back only with the last unit, so a whole return (however many
steps it took) gives back exactly what was paid and puts the points balance back where it was.
"""
from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.clock import utcnow
from storelink.errors import Code, DomainError, InvalidInput
from storelink.limits import clean_text
from storelink.live import bus as live
from storelink.loyalty import service as loyalty
from storelink.loyalty.models import PointsReason
from storelink.members.joining import membership_of
from storelink.orders.models import Order, OrderLine, OrderStatus
from storelink.returns.models import Refund, RefundStatus
from storelink.webhooks import bodies, service as webhooks

MAX_REASON = 200

# Orders paid with nothing to collect (coupon and points) have no provider to ask, and a store
# sale's money goes back at the till ("store").
NO_PROVIDER = (None, "none", "store")


@dataclass(frozen=True)
class Due:
    amount_fen: int
    points_earned_back: int  # to take off the balance
    points_redeemed_back: int  # to add to it
    whole: bool  # the last units of the order: fee and coupon come back too


def _share(total: int, part: int, whole: int) -> int:
    return total * part // whole


def due(order: Order, lines: Sequence[OrderLine], giving: Mapping[int, int]) -> Due:
    """`giving`: order line id -> units refunded now (already checked against what is left)."""
    before = sum(line.unit_price_fen * line.returned_quantity for line in lines)
    now = sum(line.unit_price_fen * giving.get(line.id, 0) for line in lines)
    after, subtotal = before + now, order.subtotal_fen
    goods_paid = order.subtotal_fen - order.discount_fen

    def step(total: int) -> int:
        return _share(total, after, subtotal) - _share(total, before, subtotal)

    whole = after == subtotal
    return Due(amount_fen=step(goods_paid) + (order.delivery_fee_fen if whole else 0),
               points_earned_back=step(order.points_earned), points_redeemed_back=step(order.points_redeemed),
               whole=whole)


def check_quantities(lines: Sequence[OrderLine], giving: Mapping[int, int], *, field: list[str],
                     pending: Mapping[int, int] | None = None) -> None:
    """Each line exists in the order and has that many units left (minus `pending`: units already
    asked for by an open request)."""
    by_id = {line.id: line for line in lines}
    for i, (line_id, units) in enumerate(giving.items()):
        line = by_id.get(line_id)
        if line is None:
            raise DomainError("No such line in this order", code=Code.NOT_FOUND, field=[*field, str(i), "orderLineId"])
        left = line.quantity - line.returned_quantity - (pending or {}).get(line_id, 0)
        if not 0 < units <= left:
            raise DomainError("At most {n} of this line can be returned", n=max(left, 0), code=Code.INVALID_INPUT,
                              field=[*field, str(i), "quantity"])


def reason_given(reason: str) -> str:
    """A refund's or a return's reason: 1-200 characters (refundOrder, requestReturn, receiveReturn)."""
    reason = (reason or "").strip()
    if not 0 < len(reason) <= MAX_REASON or not clean_text(reason):
        raise InvalidInput("Give a reason of 1 to {n} characters", n=MAX_REASON, field=["reason"])
    return reason


def new_refund_no() -> str:
    return "RF" + utcnow().strftime("%Y%m%d%H%M%S") + f"{secrets.randbelow(10**10):010d}"


async def record(session: AsyncSession, *, order: Order, giving: Mapping[int, int], reason: str,
                 return_id: int | None = None) -> Refund:
    """Write a refund of these units down (the caller holds the order's row lock): the lines'
    returned units, the order's refunded amount and status, points and coupon, and a PENDING
    refund for the provider (SUCCEEDED at once when there is no money to move)."""
    lines = (await session.execute(
        select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id))).scalars().all()
    owed = due(order, lines, giving)
    for line in lines:
        line.returned_quantity += giving.get(line.id, 0)
    now = utcnow()
    order.refunded_fen += owed.amount_fen
    order.refunded_at = now
    order.status = (OrderStatus.REFUNDED if owed.whole else OrderStatus.PARTIALLY_REFUNDED).value
    if order.customer_id is not None and (owed.points_earned_back or owed.points_redeemed_back):
        membership = await membership_of(session, order.customer_id)
        if membership is not None:
            await loyalty.add_points(session, membership_id=membership.id, delta=-owed.points_earned_back,
                                     reason=PointsReason.REVERSE_EARN, order_id=order.id)
            await loyalty.add_points(session, membership_id=membership.id, delta=owed.points_redeemed_back,
                                     reason=PointsReason.RETURN_REDEEM, order_id=order.id)
    if owed.whole and order.coupon_id is not None:
        await loyalty.give_back(session, coupon_id=order.coupon_id)
    nothing_to_move = owed.amount_fen == 0 or order.payment_provider in NO_PROVIDER
    refund = Refund(refund_no=new_refund_no(), order_id=order.id, return_id=return_id, amount_fen=owed.amount_fen,
                    reason=reason, provider=order.payment_provider, created_at=now,
                    status=(RefundStatus.SUCCEEDED if nothing_to_move else RefundStatus.PENDING).value,
                    succeeded_at=now if nothing_to_move else None)
    session.add(refund)
    await session.flush()
    await live.publish(session, kind="REFUNDED", customer_id=order.customer_id, order=order.id)
    await webhooks.emit(session, "order.refunded", lambda: bodies.order(session, order))
    return refund
