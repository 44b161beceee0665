"""GraphQL types of the cart and orders."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry

from storelink.accounts.types import Staff, load_staff
from storelink.api.context import Info
from storelink.catalog.types import Sku, sku_of_line
from storelink.graphql.enums import graphql_enums
from storelink.graphql.errors import UserError
from storelink.graphql.pagination import PageInfo
from storelink.graphql.relay import Node, to_global_id
from storelink.orders import models
from storelink.fulfilment.loaders import ShipmentsOfOrder
from storelink.graphql.lazy import lazy_class
from storelink.orders.loaders import LinesOfOrder
from storelink.returns.loaders import ReturnsOfOrder
from storelink.scanning import codes
from storelink.stores.types import GeoPointInput, Store, load_store

if TYPE_CHECKING:
    from storelink.fulfilment.types import Shipment
    from storelink.returns.types import ReturnRequest

# Shipments and returns build on Order, so Order names them lazily.
_FULFILMENT = "storelink.fulfilment.types"
_RETURNS = "storelink.returns.types"

Fulfilment = models.Fulfilment
SalesChannel = models.SalesChannel
OrderStatus = models.OrderStatus
graphql_enums(Fulfilment, SalesChannel, OrderStatus)


@strawberry.type
class CartLine:
    id: strawberry.ID
    sku: Sku
    quantity: int
    line_total_fen: int
    guide_pk: strawberry.Private[int | None]

    @strawberry.field(description="The guide who pushed this line into the customer's cart from a store tablet.")
    async def added_by_guide(self, info: Info) -> Staff | None:
        return await load_staff(info, self.guide_pk)


@strawberry.type
class Cart:
    lines: list[CartLine]
    item_count: int
    subtotal_fen: int

    @classmethod
    def from_rows(cls, rows) -> "Cart":
        lines = [
            CartLine(id=to_global_id("CartLine", line.id), sku=Sku.from_model(sku), quantity=line.quantity,
                     line_total_fen=line.quantity * sku.price_fen, guide_pk=line.added_by_guide_id)
            for line, sku in rows
        ]
        return cls(lines=lines, item_count=sum(ln.quantity for ln in lines),
                   subtotal_fen=sum(ln.line_total_fen for ln in lines))


@strawberry.type
class OrderLine:
    id: strawberry.ID
    quantity: int
    unit_price_fen: int
    line_total_fen: int
    returned_quantity: int = strawberry.field(description="Units refunded so far (returned, or never shipped).")
    sku_pk: strawberry.Private[int]

    @classmethod
    def from_model(cls, row: models.OrderLine) -> "OrderLine":
        return cls(id=to_global_id("OrderLine", row.id), quantity=row.quantity, unit_price_fen=row.unit_price_fen,
                   line_total_fen=row.line_total_fen, returned_quantity=row.returned_quantity, sku_pk=row.sku_id)

    @strawberry.field
    async def sku(self, info: Info) -> Sku:
        return await sku_of_line(info, self.sku_pk)


@strawberry.type
class Order(Node):
    id: strawberry.ID
    order_no: str
    channel: SalesChannel
    fulfilment: Fulfilment | None
    status: OrderStatus
    subtotal_fen: int
    discount_fen: int
    delivery_fee_fen: int
    total_fen: int = strawberry.field(description="subtotal - discount + delivery fee.")
    refunded_fen: int = strawberry.field(description="Money given back so far.")
    points_earned: int
    points_redeemed: int
    pickup_code: str | None = strawberry.field(
        description="For STORE_PICKUP orders once paid: the code the customer shows at the store."
    )
    created_at: dt.datetime
    paid_at: dt.datetime | None
    expires_at: dt.datetime | None = strawberry.field(
        description="Unpaid orders are cancelled at this time (beyond the contract)."
    )
    pk: strawberry.Private[int]
    store_pk: strawberry.Private[int | None]
    guide_pk: strawberry.Private[int | None]
    service_guide_pk: strawberry.Private[int | None]
    pickup_store_pk: strawberry.Private[int | None]

    @classmethod
    def from_model(cls, row: models.Order, secret: str, *, for_owner: bool) -> "Order":
        """Only the customer sees the live pickup code; staff scan it from the customer's phone."""
        return cls(
            id=to_global_id("Order", row.id), order_no=row.order_no, channel=SalesChannel(row.channel),
            fulfilment=Fulfilment(row.fulfilment) if row.fulfilment else None, status=OrderStatus(row.status),
            subtotal_fen=row.subtotal_fen, discount_fen=row.discount_fen, delivery_fee_fen=row.delivery_fee_fen,
            total_fen=row.total_fen, refunded_fen=row.refunded_fen,
            points_earned=row.points_earned, points_redeemed=row.points_redeemed,
            pickup_code=codes.pickup_code(row.pickup_token, secret)
            if for_owner and row.status == "READY_FOR_PICKUP" and row.pickup_token else None,
            created_at=row.created_at, paid_at=row.paid_at,
            expires_at=row.expires_at if row.status == "PENDING_PAYMENT" else None,
            pk=row.id, store_pk=row.store_id, guide_pk=row.guide_id, service_guide_pk=row.service_guide_id,
            pickup_store_pk=row.pickup_store_id,
        )

    @strawberry.field(description="The store credited with this order (the selling store, or the bound guide's store for online orders).")
    async def store(self, info: Info) -> Store | None:
        return await load_store(info, self.store_pk)

    @strawberry.field(description="The guide credited with making this sale (销售导购).")
    async def guide(self, info: Info) -> Staff | None:
        return await load_staff(info, self.guide_pk)

    @strawberry.field(description="The member's exclusive guide when the order was placed (专属导购), credited for repurchase.")
    async def service_guide(self, info: Info) -> Staff | None:
        return await load_staff(info, self.service_guide_pk)

    @strawberry.field(description="Where a STORE_PICKUP order is collected (beyond the contract).")
    async def pickup_store(self, info: Info) -> Store | None:
        return await load_store(info, self.pickup_store_pk)

    @strawberry.field
    async def lines(self, info: Info) -> list[OrderLine]:
        return [OrderLine.from_model(r) for r in await LinesOfOrder.of(info).load(self.pk)]

    @strawberry.field(description="The parcels it ships in (DELIVERY and SAME_CITY), cancelled ones included.")
    async def shipments(self, info: Info) -> list[Annotated["Shipment", strawberry.lazy(_FULFILMENT)]]:
        shipment = lazy_class("Shipment", _FULFILMENT)
        return [shipment.from_model(r) for r in await ShipmentsOfOrder.of(info).load(self.pk)]

    @strawberry.field
    async def returns(self, info: Info) -> list[Annotated["ReturnRequest", strawberry.lazy(_RETURNS)]]:
        request = lazy_class("ReturnRequest", _RETURNS)
        return [request.from_model(r) for r in await ReturnsOfOrder.of(info).load(self.pk)]


@strawberry.type
class OrderEdge:
    node: Order
    cursor: str


@strawberry.type
class OrderConnection:
    edges: list[OrderEdge]
    page_info: PageInfo


@strawberry.type
class PaymentRequest:
    provider: str = strawberry.field(description="Which payment provider the parameters are for, e.g. wechatpay or sandbox.")
    params: str = strawberry.field(
        description="JSON object to pass to wx.requestPayment (timeStamp, nonceStr, package, signType, paySign)."
    )


@strawberry.input
class CheckoutInput:
    fulfilment: Fulfilment
    pickup_store_id: strawberry.ID | None = None
    coupon_id: strawberry.ID | None = None
    points_to_redeem: int = 0
    address: str | None = strawberry.field(default=None, description="Delivery address, free text; required for DELIVERY.")
    address_location: GeoPointInput | None = strawberry.field(
        default=None, description="Where the address is: required for SAME_CITY; lets DELIVERY ship from nearby.")


@strawberry.input
class StorePurchaseLineInput:
    sku_id: strawberry.ID
    quantity: int
    unit_price_fen: int


@strawberry.input
class RecordStorePurchaseInput:
    store_id: strawberry.ID
    receipt_no: str = strawberry.field(
        description="The POS receipt number; recording the same (storeId, receiptNo) twice records one purchase."
    )
    lines: list[StorePurchaseLineInput]
    member_code: str | None = strawberry.field(
        default=None, description="A member code scanned at checkout, or a member ID; omit both for a guest sale."
    )
    member_id: strawberry.ID | None = None
    member_phone: str | None = strawberry.field(
        default=None, description="The phone a member gives at the till (OneID); a guest sale when it has no membership.")
    guide_id: strawberry.ID | None = strawberry.field(
        default=None, description="The guide who served the sale; defaults to the signed-in staff member when that is a guide."
    )
    coupon_code: str | None = None


@strawberry.type
class CartPayload:
    cart: Cart | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class OrderPayload:
    order: Order | None = None
    payment: PaymentRequest | None = strawberry.field(default=None, description="Set by checkout while the order awaits payment.")
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PickupScan:
    order: Order
