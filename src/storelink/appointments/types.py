"""GraphQL types of in-store services."""
from __future__ import annotations

import strawberry

from storelink.appointments import models
from storelink.graphql.errors import UserError
from storelink.graphql.relay import Node, node_resolver, to_global_id


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
