"""GraphQL types of in-store services."""
from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import strawberry

from storelink.appointments import models
from storelink.graphql.errors import UserError
from storelink.graphql.relay import Node, node_resolver, to_global_id

if TYPE_CHECKING:
    from storelink.accounts.types import Staff
    from storelink.stores.types import Store


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


@node_resolver("ServiceType")
async def _service_type_node(info, pk: int) -> ServiceType | None:
    # Service types are the public menu of the mini-program: anyone may read them.
    async with info.context.sessionmaker() as session:
        row = await session.get(models.ServiceType, pk)
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


@strawberry.enum
class AppointmentStatus(Enum):
    BOOKED = "BOOKED"
    CANCELLED = "CANCELLED"
    CHECKED_IN = "CHECKED_IN"
    COMPLETED = "COMPLETED"
    NO_SHOW = "NO_SHOW"


@strawberry.type
class Appointment(Node):
    id: strawberry.ID
    status: AppointmentStatus
    note: str | None
    check_in_code: str = strawberry.field(description="Shown as a QR code by the customer; scanned at the store to check in.")
    row: strawberry.Private[models.Appointment]

    @classmethod
    def from_model(cls, row: models.Appointment, secret: str) -> "Appointment":
        from storelink.appointments.booking import check_in_code

        return cls(id=to_global_id("Appointment", row.id), status=AppointmentStatus(row.status),
                   note=row.note, check_in_code=check_in_code(row, secret), row=row)

    async def _tz(self, info) -> ZoneInfo:
        store = await info.context.loaders.store.load(self.row.store_id)
        return ZoneInfo(store.timezone)

    @strawberry.field(description="In the store's timezone.")
    async def start_at(self, info: strawberry.Info) -> dt.datetime:
        return self.row.start_at.astimezone(await self._tz(info))

    @strawberry.field
    async def end_at(self, info: strawberry.Info) -> dt.datetime:
        return self.row.end_at.astimezone(await self._tz(info))

    @strawberry.field
    async def store(self, info: strawberry.Info) -> Annotated["Store", strawberry.lazy("storelink.stores.types")]:
        from storelink.stores.types import Store

        return Store.from_model(await info.context.loaders.store.load(self.row.store_id))

    @strawberry.field
    async def service(self, info: strawberry.Info) -> ServiceType:
        return ServiceType.from_model(await info.context.loaders.service_type.load(self.row.service_id))

    @strawberry.field
    async def guide(self, info: strawberry.Info) -> Annotated["Staff", strawberry.lazy("storelink.accounts.types")] | None:
        from storelink.accounts.types import Staff

        if self.row.guide_id is None:
            return None
        row = await info.context.loaders.staff.load(self.row.guide_id)
        return Staff.from_model(row) if row else None


@node_resolver("Appointment")
async def _appointment_node(info, pk: int) -> Appointment | None:
    from storelink.accounts import permissions
    from storelink.graphql.permissions import caller_for_query, forbidden

    customer, staff = await caller_for_query(info)
    async with info.context.sessionmaker() as session:
        row = await session.get(models.Appointment, pk)
    if row is None:
        return None
    own = customer is not None and row.customer_id == customer.id
    at_store = staff is not None and permissions.can_see_store(staff, row.store_id)
    if not (own or at_store):
        raise forbidden()
    return Appointment.from_model(row, info.context.settings.jwt_secret)


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
