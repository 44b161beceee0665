"""Online checkout, payment settlement and the expiry of unpaid orders.

checkout turns the cart into a PENDING_PAYMENT order: prices fixed, coupon and points applied,
stock held (where the routing ships each parcel for DELIVERY, the nearby store for SAME_CITY, the
pickup store for STORE_PICKUP), cart emptied.
The provider's verified notification settles it exactly once; an order left unpaid past
ORDER_PAYMENT_MINUTES is cancelled and gives back what it held.
"""
from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass

from sqlalchemy import Integer, cast, delete, null, select, union_all
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storelink.catalog import service as catalog
from storelink.accounts.models import Staff
from storelink.clock import utcnow
from storelink.db import transaction
from storelink.fulfilment import delivery, shipments
from storelink.errors import Code, DomainError, InvalidInput, NotFound
from storelink.ids import global_id
from storelink.limits import MAX_INT
from storelink.live import bus as live
from storelink.webhooks import bodies, service as webhooks
from storelink.loyalty import service as loyalty
from storelink.marketing import referrals
from storelink.loyalty.models import Coupon, PointsReason
from storelink.scanning import codes
from storelink.members.joining import live_member, membership_of
from storelink.orders import attribution, cart
from storelink.orders.models import SHIPPED_FULFILMENTS, CartLine, Order, OrderLine, OrderStatus, PaymentNotice
from storelink.payments.base import PaidNotice
from storelink.recommend import feedback as reco_feedback
from storelink.settings import Settings
from storelink.stores import service as store_service

log = logging.getLogger(__name__)

MAX_ADDRESS = 300


def new_order_no(now: dt.datetime) -> str:
    # Sortable by time, 22 digits (WeChat's out_trade_no takes 6-32); 10^8 per second to collide.
    return now.strftime("%Y%m%d%H%M%S") + f"{secrets.randbelow(10**8):08d}"


@dataclass(frozen=True)
class Checkout:
    fulfilment: str
    pickup_store_id: int | None
    coupon_id: int | None
    points_to_redeem: int
    address: str | None
    # Where the address is (GCJ-02): required for SAME_CITY, lets routing ship from nearby.
    address_location: tuple[float, float] | None = None


def _check_request(request: Checkout, idempotency_key: str) -> str | None:
    if not 0 < len(idempotency_key) <= 64:
        raise InvalidInput("idempotencyKey: 1-64 characters", field=["idempotencyKey"])
    if request.points_to_redeem < 0:
        raise InvalidInput("Points to redeem cannot be negative", field=["input", "pointsToRedeem"])
    if request.fulfilment in SHIPPED_FULFILMENTS:
        if request.fulfilment == "SAME_CITY" and request.address_location is None:
            raise InvalidInput("Same-city delivery needs the address's location", field=["input", "addressLocation"])
        address = (request.address or "").strip()
        if not address:
            raise InvalidInput("A delivery needs an address", field=["input", "address"])
        if len(address) > MAX_ADDRESS:
            raise InvalidInput("At most {n} characters", n=MAX_ADDRESS, field=["input", "address"])
        if request.pickup_store_id is not None:
            raise InvalidInput("A delivery has no pickup store", field=["input", "pickupStoreId"])
        return address
    if request.pickup_store_id is None:
        raise InvalidInput("Choose the store to pick up from", field=["input", "pickupStoreId"])
    return None


async def checkout(session: AsyncSession, *, customer_id: int, request: Checkout, idempotency_key: str,
                   settings: Settings) -> tuple[Order, bool]:
    """(order, created). The same idempotency key returns the first order."""
    address = _check_request(request, idempotency_key)
    # Serialises one customer's checkouts: the key, the cart and the points balance.
    _, membership = await live_member(session, customer_id, lock=True)
    earlier = (await session.execute(select(Order).where(
        Order.customer_id == customer_id, Order.idempotency_key == idempotency_key))).scalar_one_or_none()
    if earlier is not None:
        return earlier, False
    if request.pickup_store_id is not None:
        await store_service.require_store(session, request.pickup_store_id, ["input", "pickupStoreId"])
    lines = (await cart.lines_of(session, [customer_id]))[customer_id]
    if not lines:
        raise DomainError("Your cart is empty; add something first", code=Code.INVALID_STATE)
    for line, sku in lines:
        if not sku.active:
            raise DomainError("{title} is no longer sold; remove it from your cart", title=sku.title,
                              code=Code.OUT_OF_STOCK, field=["cart", global_id("CartLine", line.id)])
    now = utcnow()
    same_city_store_id, delivery_fee = None, 0
    if request.fulfilment == "SAME_CITY":
        assert request.address_location is not None  # required with SAME_CITY (check_request)
        nearby = await delivery.same_city_store(session, {sku.id: line.quantity for line, sku in lines},
                                                request.address_location, now)
        if nearby is None:
            raise DomainError("Same-city delivery is not available to this address right now; choose delivery",
                              code=Code.NOT_ELIGIBLE, field=["input", "fulfilment"])
        same_city_store_id, delivery_fee = nearby[0].id, settings.same_city_fee_fen
    elif request.fulfilment == "DELIVERY":
        delivery_fee = settings.delivery_fee_fen
    if request.points_to_redeem and membership is None:
        raise DomainError("Join the membership to use points", code=Code.INSUFFICIENT_POINTS,
                          field=["input", "pointsToRedeem"])
    credit = await attribution.credit_online(session, membership=membership, lines=[ln for ln, _ in lines], now=now)
    subtotal = sum(line.quantity * sku.price_fen for line, sku in lines)
    if subtotal > MAX_INT:  # a price raised since the cart was filled
        raise InvalidInput("One order may come to at most {yuan} yuan; remove some items", yuan=f"{MAX_INT / 100:,.2f}", field=["cart"])
    order = Order(
        order_no=new_order_no(now), customer_id=customer_id, channel="ONLINE", fulfilment=request.fulfilment,
        member_channel=membership.join_channel if membership else None,
        status=OrderStatus.PENDING_PAYMENT.value, store_id=credit.store_id, guide_id=credit.guide_id,
        service_guide_id=credit.service_guide_id, stock_store_id=request.pickup_store_id,
        pickup_store_id=request.pickup_store_id, address=address, subtotal_fen=subtotal,
        delivery_fee_fen=delivery_fee, total_fen=subtotal + delivery_fee,
        address_lat=request.address_location[0] if request.address_location else None,
        address_lng=request.address_location[1] if request.address_location else None,
        idempotency_key=idempotency_key, created_at=now,
        expires_at=now + dt.timedelta(minutes=settings.order_payment_minutes),
    )
    session.add(order)
    await session.flush()
    order_lines = [
        OrderLine(order_id=order.id, sku_id=sku.id, quantity=line.quantity, unit_price_fen=sku.price_fen,
                  line_total_fen=line.quantity * sku.price_fen, pushed_by_guide_id=line.added_by_guide_id,
                  recommendation_id=line.recommendation_id)
        for line, sku in lines
    ]
    session.add_all(order_lines)
    discount = 0
    if request.coupon_id is not None:
        coupon = await session.get(Coupon, request.coupon_id)
        if coupon is None or coupon.customer_id != customer_id:
            raise NotFound("No such coupon", field=["input", "couponId"])
        discount = await loyalty.redeem(session, coupon=coupon, customer_id=customer_id, subtotal_fen=subtotal,
                                        order_id=order.id, field=["input", "couponId"], channel="ONLINE",
                                        store_id=request.pickup_store_id)
        order.coupon_id = coupon.id
    if request.points_to_redeem:
        assert membership is not None  # refused above without one
        if request.points_to_redeem > subtotal - discount:
            raise InvalidInput("More points than the order costs", field=["input", "pointsToRedeem"])
        await loyalty.redeem_points(session, membership=membership, points=request.points_to_redeem,
                                    order_id=order.id, field=["input", "pointsToRedeem"])
        discount += request.points_to_redeem  # 1 point = 1 fen
        order.points_redeemed = request.points_to_redeem
    order.discount_fen, order.total_fen = discount, subtotal - discount + delivery_fee
    await session.flush()
    # Stock last: the SKU rows are what concurrent buyers queue on, so hold their locks briefly.
    if request.fulfilment in SHIPPED_FULFILMENTS:
        await shipments.place_order(session, order, order_lines, same_city_store_id=same_city_store_id)
    else:
        await catalog.take_stock(
            session, store_id=request.pickup_store_id,
            wanted={sku.id: line.quantity for line, sku in lines},
            field_of={sku.id: ["cart", global_id("CartLine", line.id)] for line, sku in lines},
        )
    await session.execute(delete(CartLine).where(CartLine.customer_id == customer_id))
    if order.total_fen == 0:  # paid in full by coupon and points: nothing to collect
        await _mark_paid(session, order, provider="none", transaction_id=None, settings=settings)
    return order, True


async def _mark_paid(session: AsyncSession, order: Order, *, provider: str, transaction_id: str | None,
                     settings: Settings) -> None:
    now = utcnow()
    # Reads and the crediting first, then the order's new state: one UPDATE of the order.
    membership = await membership_of(session, order.customer_id) if order.customer_id else None
    await reco_feedback.attribute(
        session, order_id=order.id, customer_id=order.customer_id, paid_at=now,
        sku_ids=select(OrderLine.sku_id).where(OrderLine.order_id == order.id))
    order.paid_at = now
    order.payment_provider, order.transaction_id = provider, transaction_id
    if order.fulfilment == "STORE_PICKUP":
        # The goods are already held at the pickup store: ready as soon as it is paid.
        order.status = OrderStatus.READY_FOR_PICKUP.value
        order.pickup_token = codes.new_scan_token()
    else:
        order.status = OrderStatus.PAID.value
    if membership is not None:
        # Points for the goods; the delivery fee earns none.
        order.points_earned = loyalty.points_for(order.total_fen - order.delivery_fee_fen)
        await loyalty.add_points(session, membership_id=membership.id, delta=order.points_earned,
                                 reason=PointsReason.EARN, order_id=order.id)
        await referrals.on_paid(session, order=order, membership=membership, now=now, settings=settings)
    await session.flush()
    await _announce_paid(session, order)


async def _announce_paid(session: AsyncSession, order: Order) -> None:
    """Live events (sent when the payment's transaction commits): the customer's screen, the pickup
    store's tablet, the shipping stores' tablets, and the stores whose guides pushed an item of it."""
    ready = order.status == OrderStatus.READY_FOR_PICKUP.value
    await live.publish(session, kind="ORDER_READY_FOR_PICKUP" if ready else "ORDER_PAID",
                       customer_id=order.customer_id, order=order.id)
    if ready:
        await live.publish(session, kind="PICKUP_ORDER_PAID", store_id=order.pickup_store_id, order=order.id)
    # One statement: the stores whose guides pushed an item (no parcel id), and the stores that
    # ship a parcel of it.
    pushed_from = (select(Staff.store_id, cast(null(), Integer)).distinct()
                   .join(OrderLine, OrderLine.pushed_by_guide_id == Staff.id)
                   .where(OrderLine.order_id == order.id, Staff.store_id.is_not(None)))
    to_notify = union_all(pushed_from, shipments.assigned(order.id)) \
        if order.fulfilment in SHIPPED_FULFILMENTS else pushed_from
    for store_id, shipment_id in (await session.execute(to_notify)).all():
        if shipment_id is None:
            await live.publish(session, kind="PUSHED_ITEM_ORDERED", store_id=store_id, order=order.id)
        else:
            await live.publish(session, kind="SHIPMENT_ASSIGNED", store_id=store_id, order=order.id,
                               shipment=shipment_id)
    await webhooks.emit(session, "order.paid", lambda: bodies.order(session, order))


class UnknownOrder(Exception):
    pass


class WrongAmount(Exception):
    pass


async def settle(session: AsyncSession, *, provider: str, notice: PaidNotice, settings: Settings) -> str:
    """Apply a verified payment notification; returns what came of it.

    PAID, DUPLICATE (this transaction was seen before), ALREADY_PAID or ORDER_CANCELLED (money
    that needs refunding by hand; logged). UnknownOrder and WrongAmount change nothing.
    """
    order = (await session.execute(
        select(Order).where(Order.order_no == notice.order_no, Order.channel == "ONLINE").with_for_update()
    )).scalar_one_or_none()
    if order is None:
        raise UnknownOrder(notice.order_no)
    if notice.amount_fen != order.total_fen:
        raise WrongAmount(f"order {order.order_no}: paid {notice.amount_fen}, due {order.total_fen}")
    status = order.status
    outcome = "PAID" if status == "PENDING_PAYMENT" else "ORDER_CANCELLED" if status == "CANCELLED" else "ALREADY_PAID"
    recorded = (await session.execute(
        insert(PaymentNotice).values(provider=provider, transaction_id=notice.transaction_id, order_id=order.id,
                                     amount_fen=notice.amount_fen, outcome=outcome, received_at=utcnow())
        .on_conflict_do_nothing(constraint="uq_payment_notice_transaction").returning(PaymentNotice.id)
    )).first()
    if recorded is None:
        return "DUPLICATE"
    if outcome == "PAID":
        await _mark_paid(session, order, provider=provider, transaction_id=notice.transaction_id, settings=settings)
    else:
        log.warning("payment %s for order %s arrived when it was %s: refund it by hand",
                    notice.transaction_id, order.order_no, status)
    return outcome


# ------------------------------------------------------------------ giving back what an order held

async def release(session: AsyncSession, order: Order) -> None:
    """Return an unpaid order's stock, redeemed points and coupon (expiry)."""
    if not await shipments.cancel_unsent(session, order.id):
        lines = (await session.execute(select(OrderLine).where(OrderLine.order_id == order.id))).scalars().all()
        returned: dict[int, int] = {}
        for line in lines:
            returned[line.sku_id] = returned.get(line.sku_id, 0) + line.quantity
        await catalog.return_stock(session, store_id=order.stock_store_id, returned=returned)
    if order.points_redeemed and order.customer_id is not None:
        membership = await membership_of(session, order.customer_id)
        if membership is not None:
            await loyalty.add_points(session, membership_id=membership.id, delta=order.points_redeemed,
                                     reason=PointsReason.RETURN_REDEEM, order_id=order.id)
    if order.coupon_id is not None:
        await loyalty.give_back(session, coupon_id=order.coupon_id)


async def expire_unpaid(sessionmaker: async_sessionmaker, *, now: dt.datetime | None = None, batch: int = 50) -> int:
    """Cancel orders past their payment time; returns how many. Safe with several workers."""
    async def work(session: AsyncSession) -> int:
        orders = (await session.execute(
            select(Order).where(Order.status == "PENDING_PAYMENT", Order.expires_at <= (now or utcnow()))
            .order_by(Order.expires_at).limit(batch).with_for_update(skip_locked=True)
        )).scalars().all()
        for order in orders:
            await release(session, order)
            order.status = OrderStatus.CANCELLED.value
            order.cancelled_at = utcnow()
        return len(orders)

    return await transaction(sessionmaker, work)
