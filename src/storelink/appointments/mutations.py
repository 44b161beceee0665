"""HQ and store-manager mutations on in-store services."""
from __future__ import annotations

import strawberry

from storelink.appointments import service
from storelink.appointments.types import (
    ServiceType, ServiceTypeInput, ServiceTypePayload, StoreServiceInput,
)
from storelink.graphql.errors import in_transaction
from storelink.graphql.permissions import staff_for_mutation
from storelink.graphql.relay import decode_id
from storelink.stores.types import Store, StorePayload


@strawberry.type
class AppointmentMutations:
    @strawberry.mutation(description="HQ admin.")
    async def upsert_service_type(
        self, info: strawberry.Info, input: ServiceTypeInput
    ) -> ServiceTypePayload:
        async def work(session):
            actor = await staff_for_mutation(info)
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
        self, info: strawberry.Info, input: StoreServiceInput
    ) -> StorePayload:
        async def work(session):
            actor = await staff_for_mutation(info)
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
