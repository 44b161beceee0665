"""Slots for customers; a store's day for its staff."""
from __future__ import annotations

import datetime as dt

import strawberry

from storelink.appointments import booking
from storelink.appointments.types import Appointment, Slot
from storelink.graphql.permissions import staff_for_query
from storelink.graphql.relay import decode_id


@strawberry.type
class AppointmentQueries:
    @strawberry.field
    async def available_slots(
        self, info: strawberry.Info, store_id: strawberry.ID, service_id: strawberry.ID, date: dt.date
    ) -> list[Slot]:
        async with info.context.sessionmaker() as session:
            slots = await booking.available_slots(
                session, store_id=decode_id(store_id, "Store", ["storeId"]),
                service_id=decode_id(service_id, "ServiceType", ["serviceId"]), day=date,
            )
        return [Slot(start_at=s, end_at=e, remaining=r) for s, e, r in slots]

    @strawberry.field(description="Staff: a store's appointments on a day.")
    async def store_appointments(
        self, info: strawberry.Info, store_id: strawberry.ID, date: dt.date
    ) -> list[Appointment]:
        staff = await staff_for_query(info)
        async with info.context.sessionmaker() as session:
            rows = await booking.store_day(
                session, staff=staff, store_id=decode_id(store_id, "Store", ["storeId"]), day=date
            )
        return [Appointment.from_model(r, info.context.settings.jwt_secret) for r in rows]
