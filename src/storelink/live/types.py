"""What store screens and customers receive: the kind, when, and the objects it is about, each read
with the subscriber's own permissions (the node resolvers' read checks)."""
from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from storelink.api.context import Info
from storelink.graphql.relay import NODE_RESOLVERS
from storelink.live.bus import Event

if TYPE_CHECKING:  # names for the lazy annotations below
    from storelink.appointments.types import Appointment
    from storelink.fulfilment.types import Shipment
    from storelink.loyalty.types import Coupon
    from storelink.members.types import MemberProfile
    from storelink.orders.types import Order

_MEMBERS, _APPOINTMENTS, _ORDERS, _LOYALTY, _FULFILMENT = (
    "storelink.members.types", "storelink.appointments.types", "storelink.orders.types", "storelink.loyalty.types",
    "storelink.fulfilment.types")


@strawberry.enum
class StoreEventKind(Enum):
    MEMBER_JOINED = "MEMBER_JOINED"
    MEMBER_SCANNED = "MEMBER_SCANNED"
    MEMBER_NEARBY = strawberry.enum_value(
        "MEMBER_NEARBY",
        description="A member of this store reported a location nearby (STORE_NEARBY); no coordinates are shown.")
    APPOINTMENT_BOOKED = "APPOINTMENT_BOOKED"
    APPOINTMENT_CANCELLED = "APPOINTMENT_CANCELLED"
    APPOINTMENT_CHECKED_IN = "APPOINTMENT_CHECKED_IN"
    PICKUP_ORDER_PAID = "PICKUP_ORDER_PAID"
    SHIPMENT_ASSIGNED = "SHIPMENT_ASSIGNED"
    RETURN_REQUESTED = "RETURN_REQUESTED"
    PUSHED_ITEM_ORDERED = strawberry.enum_value(
        "PUSHED_ITEM_ORDERED", description="A member paid for an item a guide of this store pushed into the cart.")


@strawberry.enum
class CustomerEventKind(Enum):
    ORDER_PAID = "ORDER_PAID"
    ORDER_READY_FOR_PICKUP = "ORDER_READY_FOR_PICKUP"
    ORDER_SHIPPED = "ORDER_SHIPPED"
    ORDER_DELIVERED = "ORDER_DELIVERED"
    REFUNDED = "REFUNDED"
    COUPON_ISSUED = "COUPON_ISSUED"
    CART_UPDATED_BY_GUIDE = "CART_UPDATED_BY_GUIDE"
    APPOINTMENT_CHANGED = "APPOINTMENT_CHANGED"


async def _node(info: Info, type_name: str, pk: int | None):
    return await NODE_RESOLVERS[type_name](info, pk) if pk is not None else None


@strawberry.type
class _Happening:
    """What both kinds of event carry: when, and the order or appointment it is about."""

    at: dt.datetime
    event: strawberry.Private[Event]

    @strawberry.field
    async def order(self, info: Info) -> Annotated["Order", strawberry.lazy(_ORDERS)] | None:
        return await _node(info, "Order", self.event.ids.get("order"))

    @strawberry.field
    async def appointment(self, info: Info) -> Annotated["Appointment", strawberry.lazy(_APPOINTMENTS)] | None:
        return await _node(info, "Appointment", self.event.ids.get("appointment"))


@strawberry.type
class StoreEvent(_Happening):
    kind: StoreEventKind

    @classmethod
    def of(cls, event: Event) -> "StoreEvent":
        return cls(kind=StoreEventKind(event.kind), at=dt.datetime.fromisoformat(event.at), event=event)

    @strawberry.field
    async def member(self, info: Info) -> Annotated["MemberProfile", strawberry.lazy(_MEMBERS)] | None:
        return await _node(info, "MemberProfile", self.event.ids.get("member"))

    @strawberry.field
    async def shipment(self, info: Info) -> Annotated["Shipment", strawberry.lazy(_FULFILMENT)] | None:
        return await _node(info, "Shipment", self.event.ids.get("shipment"))


@strawberry.type
class CustomerEvent(_Happening):
    kind: CustomerEventKind

    @classmethod
    def of(cls, event: Event) -> "CustomerEvent":
        return cls(kind=CustomerEventKind(event.kind), at=dt.datetime.fromisoformat(event.at), event=event)

    @strawberry.field
    async def coupon(self, info: Info) -> Annotated["Coupon", strawberry.lazy(_LOYALTY)] | None:
        return await _node(info, "Coupon", self.event.ids.get("coupon"))
