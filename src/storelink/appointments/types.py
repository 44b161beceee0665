"""GraphQL types of in-store services and appointments."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import strawberry

from storelink.accounts import permissions
from storelink.accounts.types import Staff, load_staff
from storelink.api.context import Info
from storelink.appointments import models
from storelink.appointments.loaders import ServiceTypeById
from storelink.graphql.enums import graphql_enums
from storelink.graphql.errors import UserError
from storelink.graphql.relay import Node, to_global_id
from storelink.members.loaders import MembershipByCustomer
from storelink.members.types import MemberProfile, member_profile
from storelink.scanning import codes
from storelink.stores.loaders import StoreById
from storelink.stores.types import Store

AppointmentStatus = models.AppointmentStatus
graphql_enums(AppointmentStatus)


@strawberry.type
class ServiceType(Node):
    id: strawberry.ID
    name: str
    description: str | None
    duration_minutes: int

    @classmethod
    def from_model(cls, row: models.ServiceType) -> "ServiceType":
        return cls(
            id=to_global_id("ServiceType", row.id),
            name=row.name,
            description=row.description,
            duration_minutes=row.duration_minutes,
        )


async def load_service_type(info: Info, pk: int) -> ServiceType | None:
    row = await ServiceTypeById.of(info).load(pk)
    return ServiceType.from_model(row) if row else None


@strawberry.input
class ServiceTypeInput:
    code: str = strawberry.field(description="Business key: upserting an existing code updates that service.")
    name: str
    description: str | None = None
    duration_minutes: int


@strawberry.input
class StoreServiceInput:
    store_id: strawberry.ID
    service_id: strawberry.ID
    capacity: int = strawberry.field(description="How many bookings may overlap at any moment (stations or staff).")
    slot_interval_minutes: int = 30
    min_notice_minutes: int = 120
    booking_window_days: int = 30
    cancel_cutoff_minutes: int = 120
    active: bool = strawberry.field(
        default=True, description="False withdraws the service from the store (existing bookings stay)."
    )


@strawberry.type
class ServiceTypePayload:
    service_type: ServiceType | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class Slot:
    start_at: dt.datetime
    end_at: dt.datetime
    remaining: int


@strawberry.type
class Appointment(Node):
    id: strawberry.ID
    status: AppointmentStatus
    note: str | None
    check_in_code: str = strawberry.field(description="Shown as a QR code by the customer; scanned at the store to check in.")
    row: strawberry.Private[models.Appointment]

    @classmethod
    def from_model(cls, row: models.Appointment, secret: str) -> "Appointment":
        return cls(id=to_global_id("Appointment", row.id), status=AppointmentStatus(row.status),
                   note=row.note, check_in_code=codes.check_in_code(row.check_in_token, secret), row=row)

    async def _tz(self, info: Info) -> ZoneInfo:
        store = await StoreById.of(info).load(self.row.store_id)
        return ZoneInfo(store.timezone)

    @strawberry.field(description="In the store's timezone.")
    async def start_at(self, info: Info) -> dt.datetime:
        return self.row.start_at.astimezone(await self._tz(info))

    @strawberry.field
    async def end_at(self, info: Info) -> dt.datetime:
        return self.row.end_at.astimezone(await self._tz(info))

    @strawberry.field
    async def store(self, info: Info) -> Store:
        return Store.from_model(await StoreById.of(info).load(self.row.store_id))

    @strawberry.field
    async def service(self, info: Info) -> ServiceType:
        return ServiceType.from_model(await ServiceTypeById.of(info).load(self.row.service_id))

    @strawberry.field
    async def guide(self, info: Info) -> Staff | None:
        return await load_staff(info, self.row.guide_id)

    @strawberry.field(description="Staff of the store: the member who booked. Null for customers, whose own it is.")
    async def member(self, info: Info) -> MemberProfile | None:
        principal = await info.context.principal()
        staff = principal.staff if principal else None
        if staff is None or not permissions.can_see_store(staff, self.row.store_id):
            return None
        membership = await MembershipByCustomer.of(info).load(self.row.customer_id)
        return await member_profile(info, membership) if membership else None


@strawberry.input
class BookAppointmentInput:
    member_id: strawberry.ID | None = strawberry.field(
        default=None, description="Staff booking on behalf of a member (e.g. a walk-in); customers omit it."
    )
    store_id: strawberry.ID
    service_id: strawberry.ID
    start_at: dt.datetime
    guide_id: strawberry.ID | None = None
    note: str | None = None


@strawberry.type
class AppointmentPayload:
    appointment: Appointment | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AppointmentScan:
    appointment: Appointment
