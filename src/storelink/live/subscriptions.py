"""Subscription.storeEvents and myEvents (graphql-transport-ws at /graphql; the token comes in
connection_init, see api/http.py)."""
from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from storelink.accounts import permissions
from storelink.api.context import Info
from storelink.errors import Forbidden
from storelink.graphql import caller
from storelink.graphql.relay import decode_id
from storelink.live.types import CustomerEvent, StoreEvent
from storelink.stores import service as store_service


@strawberry.type
class LiveSubscriptions:
    @strawberry.subscription(description="Staff of that store (HQ: any): what happens there as it happens.")
    async def store_events(self, info: Info, store_id: strawberry.ID) -> AsyncGenerator[StoreEvent, None]:
        staff = await caller.staff(info)
        store_pk = decode_id(store_id, "Store", ["storeId"])
        if not permissions.can_see_store(staff, store_pk):
            raise Forbidden("You can only follow your own store")
        async with info.context.reader() as session:
            await store_service.require_store(session, store_pk, ["storeId"])
        async with info.context.hub.subscription("store", store_pk) as events:
            async for event in events:
                info.context.loaders.clear()  # each event reads its objects afresh
                yield StoreEvent.of(event)

    @strawberry.subscription(description="The signed-in customer: their orders, coupons and appointments as they change.")
    async def my_events(self, info: Info) -> AsyncGenerator[CustomerEvent, None]:
        me = await caller.customer(info)
        async with info.context.hub.subscription("customer", me.id) as events:
            async for event in events:
                info.context.loaders.clear()
                yield CustomerEvent.of(event)
