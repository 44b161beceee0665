"""HQ and store-manager mutations on stores."""
from __future__ import annotations

import strawberry

from storelink.api.context import Info
from storelink.graphql.errors import in_transaction
from storelink.graphql import caller
from storelink.graphql.relay import decode_id
from storelink.stores import service
from storelink.stores.types import SpecialDayInput, Store, StoreInput, StorePayload


@strawberry.type
class StoreMutations:
    @strawberry.mutation(description="HQ admin.")
    async def upsert_store(self, info: Info, input: StoreInput) -> StorePayload:
        async def work(session):
            actor = await caller.staff(info)
            row = await service.upsert_store(
                session,
                actor=actor,
                code=input.code,
                name=input.name,
                city=input.city,
                address=input.address,
                phone=input.phone,
                lat=input.lat,
                lng=input.lng,
                coord_system=input.coord_system.name,  # the names are the values
                timezone=input.timezone,
                opening_hours=[
                    {"weekday": h.weekday, "opens": h.opens, "closes": h.closes}
                    for h in input.opening_hours
                ],
                ships_online_orders=input.ships_online_orders,
                same_city_radius_m=input.same_city_radius_meters,
            )
            return {"store": Store.from_model(row)}

        return await in_transaction(info, StorePayload, work)

    @strawberry.mutation(description="HQ admin or the store's manager.")
    async def set_special_day(self, info: Info, input: SpecialDayInput) -> StorePayload:
        async def work(session):
            actor = await caller.staff(info)
            row = await service.set_special_day(
                session,
                actor=actor,
                store_id=decode_id(input.store_id, "Store", ["input", "storeId"]),
                day=input.date,
                closed=input.closed,
                opens=input.opens,
                closes=input.closes,
            )
            return {"store": Store.from_model(row)}

        return await in_transaction(info, StorePayload, work)
