"""GraphQL types of shipments, delivery options and routing rules."""
from __future__ import annotations

import datetime as dt

import strawberry

from storelink.api.context import Info
from storelink.catalog.types import Sku, sku_of_line
from storelink.fulfilment import models
from storelink.fulfilment.loaders import LinesOfShipment
from storelink.graphql import caller
from storelink.graphql.enums import graphql_enums
from storelink.graphql.errors import UserError
from storelink.graphql.relay import Node, to_global_id
from storelink.orders.loaders import OrderById
from storelink.orders.types import Fulfilment, Order
from storelink.stores.types import Store, load_store

ShipmentStatus = models.ShipmentStatus
RoutingRule = models.RoutingRule
graphql_enums(ShipmentStatus)
strawberry.enum(RoutingRule, description="How paid online orders are routed to a place that ships.")


@strawberry.type
class ShipmentLine:
    quantity: int
    sku_pk: strawberry.Private[int]

    @strawberry.field
    async def sku(self, info: Info) -> Sku:
        return await sku_of_line(info, self.sku_pk)


@strawberry.type
class Shipment(Node):
    id: strawberry.ID
    status: ShipmentStatus
    carrier: str | None
    tracking_no: str | None
    shipped_at: dt.datetime | None
    delivered_at: dt.datetime | None
    reject_reason: str | None = strawberry.field(description="Why its place rejected it (beyond the contract).")
    pk: strawberry.Private[int]
    order_pk: strawberry.Private[int]
    from_store_pk: strawberry.Private[int | None]

    @classmethod
    def from_model(cls, row: models.Shipment) -> "Shipment":
        return cls(id=to_global_id("Shipment", row.id), status=ShipmentStatus(row.status), carrier=row.carrier,
                   tracking_no=row.tracking_no, shipped_at=row.shipped_at, delivered_at=row.delivered_at,
                   reject_reason=row.reject_reason,
                   pk=row.id, order_pk=row.order_id, from_store_pk=row.from_store_id)

    @strawberry.field
    async def order(self, info: Info) -> Order:
        # Whoever may see the shipment (its place's staff, HQ, the customer) may see its order.
        row = await OrderById.of(info).load(self.order_pk)
        customer = (await caller.signed_in(info)).customer
        return Order.from_model(row, info.context.settings.jwt_secret, for_owner=customer is not None)

    @strawberry.field(description="The store that ships it; null for the central warehouse.")
    async def from_store(self, info: Info) -> Store | None:
        return await load_store(info, self.from_store_pk)

    @strawberry.field
    async def lines(self, info: Info) -> list[ShipmentLine]:
        return [ShipmentLine(quantity=r.quantity, sku_pk=r.sku_id) for r in await LinesOfShipment.of(info).load(self.pk)]


@strawberry.type
class ShipmentPayload:
    shipment: Shipment | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeliveryOption:
    fulfilment: Fulfilment
    fee_fen: int
    eta_minutes: int = strawberry.field(description="Expected minutes from payment to the door.")
    from_store_pk: strawberry.Private[int | None]

    @strawberry.field(description="The store it would ship from; null for the central warehouse.")
    async def from_store(self, info: Info) -> Store | None:
        return await load_store(info, self.from_store_pk)
