"""The cart, checkout, store purchases, refunds and pickups."""
from __future__ import annotations

import json
import logging

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.api.context import Info
from storelink.errors import UpstreamUnavailable
from storelink.graphql.errors import UserError, in_transaction
from storelink.graphql import caller
from storelink.graphql.relay import decode_id, decode_optional_id
from storelink.orders import cart, checkout as checkout_flow, pickup, refunds, store_sales
from storelink.orders.types import (
    Cart, CartPayload, CheckoutInput, Order, OrderPayload, OrderStatus, PaymentRequest, RecordStorePurchaseInput,
)
from storelink.payments.base import PaymentOrder, PaymentUnavailable
from storelink.returns import payouts
from storelink.stores.service import point

log = logging.getLogger(__name__)


async def _cart_of(session: AsyncSession, customer_id: int) -> Cart:
    rows = (await cart.lines_of(session, [customer_id]))[customer_id]
    return Cart.from_rows(rows)


async def _ask_for_payment(info: Info, provider, payload: OrderPayload) -> None:
    """After the commit: no lock is held while the provider answers. A failure keeps the order;
    checking out again with the same key asks for the payment again."""
    order = payload.order
    assert order is not None  # asked for a placed order only
    me = await caller.customer(info)
    try:
        params = await provider.prepare(PaymentOrder(
            order_no=order.order_no, total_fen=order.total_fen, description=f"订单 {order.order_no}",
            openid=me.openid))
    except PaymentUnavailable as exc:
        log.warning("payment request for order %s failed: %s", order.order_no, exc)
        payload.user_errors = [UserError.from_domain(
            UpstreamUnavailable("Payment is unavailable right now; try again"), info.context.lang)]
    else:
        payload.payment = PaymentRequest(provider=provider.name, params=json.dumps(params))


@strawberry.type
class OrderMutations:
    @strawberry.mutation
    async def add_to_cart(self, info: Info, sku_id: strawberry.ID, quantity: int) -> CartPayload:
        async def work(session):
            me = await caller.customer(info)
            _, rows = await cart.add(session, customer_id=me.id, sku_id=decode_id(sku_id, "Sku", ["skuId"]),
                                     quantity=quantity)
            return {"cart": Cart.from_rows(rows)}

        return await in_transaction(info, CartPayload, work)

    @strawberry.mutation(description="Quantity 0 removes the line.")
    async def update_cart_line(self, info: Info, line_id: strawberry.ID, quantity: int) -> CartPayload:
        async def work(session):
            me = await caller.customer(info)
            rows = await cart.update_line(session, customer_id=me.id,
                                          line_id=decode_id(line_id, "CartLine", ["lineId"]), quantity=quantity)
            return {"cart": Cart.from_rows(rows)}

        return await in_transaction(info, CartPayload, work)

    @strawberry.mutation(description="Staff: add to a member's online cart from the store tablet.")
    async def push_to_cart(self, info: Info, member_id: strawberry.ID, sku_id: strawberry.ID,
                           quantity: int, recommendation_id: strawberry.ID | None = None) -> CartPayload:
        async def work(session):
            staff = await caller.staff(info)
            customer_id = await cart.push(
                session, staff=staff, membership_id=decode_id(member_id, "MemberProfile", ["memberId"]),
                sku_id=decode_id(sku_id, "Sku", ["skuId"]), quantity=quantity,
                recommendation_id=decode_optional_id(recommendation_id, "Recommendation", ["recommendationId"]),
            )
            return {"cart": await _cart_of(session, customer_id)}

        return await in_transaction(info, CartPayload, work)

    @strawberry.mutation
    async def checkout(self, info: Info, input: CheckoutInput, idempotency_key: str) -> OrderPayload:
        ctx = info.context
        provider = ctx.payments.for_checkout() if ctx.payments else None

        async def work(session):
            me = await caller.customer(info)
            if provider is None:
                raise UpstreamUnavailable("Online payment is not available right now")
            request = checkout_flow.Checkout(
                fulfilment=input.fulfilment.value,
                pickup_store_id=decode_optional_id(input.pickup_store_id, "Store", ["input", "pickupStoreId"]),
                coupon_id=decode_optional_id(input.coupon_id, "Coupon", ["input", "couponId"]),
                points_to_redeem=input.points_to_redeem, address=input.address,
                address_location=point(input.address_location, ["input", "addressLocation"])
                if input.address_location is not None else None,
            )
            order, _ = await checkout_flow.checkout(session, customer_id=me.id, request=request,
                                                    idempotency_key=idempotency_key, settings=ctx.settings)
            return {"order": Order.from_model(order, ctx.settings.jwt_secret, for_owner=True)}

        payload = await in_transaction(info, OrderPayload, work)
        if payload.order is not None and payload.order.status == OrderStatus.PENDING_PAYMENT:
            await _ask_for_payment(info, provider, payload)
        return payload

    @strawberry.mutation
    async def record_store_purchase(self, info: Info, input: RecordStorePurchaseInput) -> OrderPayload:
        async def work(session):
            staff = await caller.staff(info)
            lines = [store_sales.SaleLine(decode_id(ln.sku_id, "Sku", ["input", "lines", str(i), "skuId"]),
                                          ln.quantity, ln.unit_price_fen) for i, ln in enumerate(input.lines)]
            order, _ = await store_sales.record(
                session, staff=staff, store_id=decode_id(input.store_id, "Store", ["input", "storeId"]),
                receipt_no=input.receipt_no, member_code=input.member_code, member_phone=input.member_phone,
                membership_id=decode_optional_id(input.member_id, "MemberProfile", ["input", "memberId"]),
                guide_id=decode_optional_id(input.guide_id, "Staff", ["input", "guideId"]),
                coupon_code=input.coupon_code, lines=lines, settings=info.context.settings,
            )
            return {"order": Order.from_model(order, info.context.settings.jwt_secret, for_owner=False)}

        return await in_transaction(info, OrderPayload, work)

    @strawberry.mutation
    async def refund_order(self, info: Info, id: strawberry.ID, reason: str) -> OrderPayload:
        decided: list[int] = []

        async def work(session):
            staff = await caller.staff(info)
            order, refund = await refunds.refund(session, staff=staff, order_id=decode_id(id, "Order", ["id"]),
                                                 reason=reason)
            decided.append(refund.id)
            return {"order": Order.from_model(order, info.context.settings.jwt_secret, for_owner=False)}

        payload = await in_transaction(info, OrderPayload, work)
        for refund_id in decided:  # after the commit: no lock is held while the provider answers
            await payouts.pay_out(info.context.sessionmaker, info.context.payments, refund_id)
        return payload

    @strawberry.mutation
    async def complete_pickup(self, info: Info, order_id: strawberry.ID) -> OrderPayload:
        async def work(session):
            staff = await caller.staff(info)
            order = await pickup.complete(session, staff=staff, order_id=decode_id(order_id, "Order", ["orderId"]))
            return {"order": Order.from_model(order, info.context.settings.jwt_secret, for_owner=False)}

        return await in_transaction(info, OrderPayload, work)


