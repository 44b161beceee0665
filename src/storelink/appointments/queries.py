"""Slots for customers; a store's day for its staff; services and appointments by node ID."""
from __future__ import annotations

import datetime as dt

import strawberry

from storelink.accounts import permissions
from storelink.api.context import Info
from storelink.appointments import booking, models
from storelink.appointments.types import Appointment, ServiceType, Slot, load_service_type
from storelink.errors import Forbidden
from storelink.graphql import caller
from storelink.graphql.relay import decode_id, node_resolver


@node_resolver("ServiceType")
async def _service_type_node(info: Info, pk: int) -> ServiceType | None:
    # Service types are the public menu of the mini-program: anyone may read them.
    return await load_service_type(info, pk)


@node_resolver("Appointment")
async def _appointment_node(info: Info, pk: int) -> Appointment | None:
    who = await caller.signed_in(info)
    async with info.context.reader() as session:
        row = await session.get(models.Appointment, pk)
    if row is None:
        return None
    if who.customer is not None:  # someone else's reads as missing (ids are sequential)
        return Appointment.from_model(row, info.context.settings.jwt_secret) \
            if row.customer_id == who.customer.id else None
    if not permissions.can_see_store(who.staff, row.store_id):
        raise Forbidden("This appointment is at another store")
    return Appointment.from_model(row, info.context.settings.jwt_secret)


@strawberry.type
class AppointmentQueries:
    @strawberry.field
    async def available_slots(self, info: Info, store_id: strawberry.ID, service_id: strawberry.ID,
                              date: dt.date) -> list[Slot]:
        async with info.context.reader() as session:
            slots = await booking.available_slots(
                session, store_id=decode_id(store_id, "Store", ["storeId"]),
                service_id=decode_id(service_id, "ServiceType", ["serviceId"]), day=date,
            )
        return [Slot(start_at=s, end_at=e, remaining=r) for s, e, r in slots]

    @strawberry.field(description="Staff: a store's appointments on a day.")
    async def store_appointments(self, info: Info, store_id: strawberry.ID, date: dt.date) -> list[Appointment]:
        staff = await caller.staff(info)
        async with info.context.reader() as session:
            rows = await booking.store_day(
                session, staff=staff, store_id=decode_id(store_id, "Store", ["storeId"]), day=date
            )
        return [Appointment.from_model(r, info.context.settings.jwt_secret) for r in rows]
