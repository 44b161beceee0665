"""Mutations on in-store services: HQ setup, and bookings by customers and store staff."""
from __future__ import annotations

import datetime as dt

import strawberry

from storelink.api.context import Info
from storelink.appointments import booking, service
from storelink.appointments.types import (
    Appointment, AppointmentPayload, BookAppointmentInput, ServiceType, ServiceTypeInput,
    ServiceTypePayload, StoreServiceInput,
)
from storelink.errors import Forbidden, NotFound
from storelink.graphql.errors import in_transaction
from storelink.graphql import caller
from storelink.graphql.relay import decode_id, decode_optional_id
from storelink.stores.types import Store, StorePayload
from storelink.members.scope import member_for_staff


@strawberry.type
class AppointmentMutations:
    @strawberry.mutation(description="HQ admin.")
    async def upsert_service_type(
        self, info: Info, input: ServiceTypeInput
    ) -> ServiceTypePayload:
        async def work(session):
            actor = await caller.staff(info)
            row = await service.upsert_service_type(
                session,
                actor=actor,
                code=input.code,
                name=input.name,
                description=input.description,
                duration_minutes=input.duration_minutes,
            )
            return {"service_type": ServiceType.from_model(row)}

        return await in_transaction(info, ServiceTypePayload, work)

    @strawberry.mutation(description="HQ admin or the store's manager.")
    async def configure_store_service(
        self, info: Info, input: StoreServiceInput
    ) -> StorePayload:
        async def work(session):
            actor = await caller.staff(info)
            row = await service.configure_store_service(
                session,
                actor=actor,
                store_id=decode_id(input.store_id, "Store", ["input", "storeId"]),
                service_id=decode_id(input.service_id, "ServiceType", ["input", "serviceId"]),
                capacity=input.capacity,
                slot_interval_minutes=input.slot_interval_minutes,
                min_notice_minutes=input.min_notice_minutes,
                booking_window_days=input.booking_window_days,
                cancel_cutoff_minutes=input.cancel_cutoff_minutes,
                active=input.active,
            )
            return {"store": Store.from_model(row)}

        return await in_transaction(info, StorePayload, work)

    @strawberry.mutation
    async def book_appointment(
        self, info: Info, input: BookAppointmentInput, idempotency_key: str | None = None
    ) -> AppointmentPayload:
        async def work(session):
            customer_id, staff = await _booker(info, session, input.member_id)
            row, _ = await booking.book(
                session, customer_id=customer_id,
                store_id=decode_id(input.store_id, "Store", ["input", "storeId"]),
                service_id=decode_id(input.service_id, "ServiceType", ["input", "serviceId"]),
                start_at=input.start_at,
                guide_id=decode_optional_id(input.guide_id, "Staff", ["input", "guideId"]),
                note=input.note, idempotency_key=idempotency_key, booked_by=staff,
            )
            return {"appointment": Appointment.from_model(row, info.context.settings.jwt_secret)}

        return await in_transaction(info, AppointmentPayload, work)

    @strawberry.mutation
    async def cancel_appointment(self, info: Info, id: strawberry.ID) -> AppointmentPayload:
        async def work(session):
            who = await caller.signed_in(info)
            customer, staff = who.customer, who.staff
            row = await booking.cancel(session, appointment_id=decode_id(id, "Appointment", ["id"]),
                                       customer=customer, staff=staff)
            return {"appointment": Appointment.from_model(row, info.context.settings.jwt_secret)}

        return await in_transaction(info, AppointmentPayload, work)

    @strawberry.mutation
    async def reschedule_appointment(
        self, info: Info, id: strawberry.ID, start_at: dt.datetime
    ) -> AppointmentPayload:
        async def work(session):
            who = await caller.signed_in(info)
            customer, staff = who.customer, who.staff
            row = await booking.reschedule(session, appointment_id=decode_id(id, "Appointment", ["id"]),
                                           start_at=start_at, customer=customer, staff=staff)
            return {"appointment": Appointment.from_model(row, info.context.settings.jwt_secret)}

        return await in_transaction(info, AppointmentPayload, work)

    @strawberry.mutation
    async def mark_no_show(self, info: Info, id: strawberry.ID) -> AppointmentPayload:
        async def work(session):
            staff = await caller.staff(info)
            row = await booking.mark_no_show(session, appointment_id=decode_id(id, "Appointment", ["id"]),
                                             staff=staff)
            return {"appointment": Appointment.from_model(row, info.context.settings.jwt_secret)}

        return await in_transaction(info, AppointmentPayload, work)


async def _booker(info, session, member_id):
    """Who the booking is for: the signed-in customer, or (staff) the member they name."""
    who = await caller.signed_in(info)
    customer, staff = who.customer, who.staff
    if customer is not None:
        if member_id is not None:
            raise Forbidden("Customers book for themselves")
        return customer.id, None
    if member_id is None:
        raise NotFound("Staff must name the member", field=["input", "memberId"])
    field = ["input", "memberId"]
    membership = await member_for_staff(session, staff, decode_id(member_id, "MemberProfile", field), field)
    return membership.customer_id, staff
