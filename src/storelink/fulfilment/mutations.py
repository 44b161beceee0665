"""Routing rules (HQ) and the steps of a shipment (its place's staff; the customer may confirm
delivery)."""
from __future__ import annotations

import strawberry

from storelink.accounts import permissions
from storelink.api.context import Info
from storelink.clock import utcnow
from storelink.db import transaction
from storelink.errors import InvalidInput
from storelink.fulfilment import shipments
from storelink.fulfilment.models import OrderRouting
from storelink.fulfilment.types import RoutingRule, Shipment, ShipmentPayload
from storelink.graphql import caller
from storelink.graphql.errors import in_transaction
from storelink.graphql.relay import decode_id
from storelink.returns import payouts


@strawberry.type
class FulfilmentMutations:
    @strawberry.mutation(description="HQ admin: the routing rules, in the order they apply.")
    async def set_order_routing(self, info: Info, rules: list[RoutingRule]) -> list[RoutingRule]:
        permissions.ensure_hq(await caller.staff(info))
        chosen = [r.value for r in rules]
        if not chosen or len(set(chosen)) != len(chosen):
            raise InvalidInput("Give each rule at most once, at least one", field=["rules"])

        async def work(session):
            row = await session.get(OrderRouting, 1, with_for_update=True)
            if row is None:
                session.add(OrderRouting(id=1, rules=chosen, updated_at=utcnow()))
            else:
                row.rules, row.updated_at = chosen, utcnow()

        await transaction(info.context.sessionmaker, work)
        return list(rules)

    @strawberry.mutation(description="Staff of the shipping store.")
    async def pack_shipment(self, info: Info, id: strawberry.ID) -> ShipmentPayload:
        async def work(session):
            row = await shipments.pack(session, staff=await caller.staff(info),
                                       shipment_id=decode_id(id, "Shipment", ["id"]))
            return {"shipment": Shipment.from_model(row)}

        return await in_transaction(info, ShipmentPayload, work)

    @strawberry.mutation(description="Staff of the shipping store.")
    async def ship_shipment(self, info: Info, id: strawberry.ID, carrier: str, tracking_no: str) -> ShipmentPayload:
        async def work(session):
            row = await shipments.ship(session, staff=await caller.staff(info),
                                       shipment_id=decode_id(id, "Shipment", ["id"]), carrier=carrier,
                                       tracking_no=tracking_no)
            return {"shipment": Shipment.from_model(row)}

        return await in_transaction(info, ShipmentPayload, work)

    @strawberry.mutation(description="Staff of the shipping store: it cannot ship after all; the lines are routed to the next location.")
    async def reject_shipment(self, info: Info, id: strawberry.ID, reason: str) -> ShipmentPayload:
        refunds: list[int] = []

        async def work(session):
            row, refund = await shipments.reject(session, staff=await caller.staff(info),
                                                 shipment_id=decode_id(id, "Shipment", ["id"]), reason=reason)
            if refund is not None:
                refunds.append(refund.id)
            return {"shipment": Shipment.from_model(row)}

        payload = await in_transaction(info, ShipmentPayload, work)
        for refund_id in refunds:  # after the commit: no lock is held while the provider answers
            await payouts.pay_out(info.context.sessionmaker, info.context.payments, refund_id)
        return payload

    @strawberry.mutation(description="Staff of the shipping store, or the customer: the parcel arrived.")
    async def mark_delivered(self, info: Info, id: strawberry.ID) -> ShipmentPayload:
        async def work(session):
            who = await caller.signed_in(info)
            row = await shipments.deliver(session, staff=who.staff,
                                          customer_id=who.customer.id if who.customer else None,
                                          shipment_id=decode_id(id, "Shipment", ["id"]))
            return {"shipment": Shipment.from_model(row)}

        return await in_transaction(info, ShipmentPayload, work)
