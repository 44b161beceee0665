"""Delivery options for the customer's cart, the shipment queues of stores and the warehouse, the
routing rules, and shipments by node ID."""
from __future__ import annotations

import strawberry

from storelink import db
from storelink.accounts import permissions
from storelink.api.context import Info
from storelink.clock import utcnow
from storelink.errors import Forbidden
from storelink.fulfilment import delivery, routing, shipments
from storelink.fulfilment.models import Shipment as ShipmentRow
from storelink.fulfilment.types import DeliveryOption, RoutingRule, Shipment, ShipmentStatus
from storelink.graphql import caller
from storelink.graphql.relay import decode_id, node_resolver
from storelink.orders import cart
from storelink.orders.models import Order as OrderRow
from storelink.orders.types import Fulfilment
from storelink.stores.service import point
from storelink.stores.types import GeoPointInput


@node_resolver("Shipment")
async def _shipment_node(info: Info, pk: int) -> Shipment | None:
    who = await caller.signed_in(info)
    async with info.context.reader() as session:
        row = await session.get(ShipmentRow, pk)
        owner = (await db.existing(session, OrderRow, row.order_id)).customer_id if row else None
    if row is None:
        return None
    if who.customer is not None:
        return Shipment.from_model(row) if owner == who.customer.id else None
    if not shipments.may_act(who.staff, row):
        raise Forbidden("This shipment is sent by another store")
    return Shipment.from_model(row)


@strawberry.type
class FulfilmentQueries:
    @strawberry.field(description="Customer: how their cart can reach this address, with fee and ETA.")
    async def delivery_options(self, info: Info, location: GeoPointInput) -> list[DeliveryOption]:
        me = await caller.customer(info)
        near = point(location, ["location"])
        async with info.context.reader() as session:
            lines = (await cart.lines_of(session, [me.id]))[me.id]
            wanted = {sku.id: line.quantity for line, sku in lines if sku.active}
            found = await delivery.options(session, wanted=wanted, near=near, settings=info.context.settings,
                                           now=utcnow())
        return [DeliveryOption(fulfilment=Fulfilment(o.fulfilment), fee_fen=o.fee_fen, eta_minutes=o.eta_minutes,
                               from_store_pk=o.from_store_id) for o in found]

    @strawberry.field(description="Staff: shipments a store must pack and send (paid orders, oldest first, at most 100).")
    async def store_shipments(self, info: Info, store_id: strawberry.ID,
                              status: ShipmentStatus | None = None) -> list[Shipment]:
        staff = await caller.staff(info)
        pk = decode_id(store_id, "Store", ["storeId"])
        if not permissions.can_see_store(staff, pk):
            raise Forbidden("You may only see your own store's shipments")
        async with info.context.reader() as session:
            rows = await shipments.queue(session, store_id=pk, status=status.value if status else None)
        return [Shipment.from_model(r) for r in rows]

    @strawberry.field(description="HQ: shipments the central warehouse must pack and send.")
    async def warehouse_shipments(self, info: Info, status: ShipmentStatus | None = None) -> list[Shipment]:
        permissions.ensure_hq(await caller.staff(info))
        async with info.context.reader() as session:
            rows = await shipments.queue(session, store_id=None, status=status.value if status else None)
        return [Shipment.from_model(r) for r in rows]

    @strawberry.field(description="HQ: the order routing rules, in the order they apply.")
    async def order_routing(self, info: Info) -> list[RoutingRule]:
        permissions.ensure_hq(await caller.staff(info))
        async with info.context.reader() as session:
            return [RoutingRule(r.value) for r in await routing.rules(session)]
