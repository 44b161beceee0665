"""recordMessageSubscriptions (what the customer accepted in wx.requestSubscribeMessage) and
trackActivity (what they looked at or searched for)."""
from __future__ import annotations

import strawberry

from storelink.api.context import Info
from storelink.db import transaction
from storelink.graphql import caller
from storelink.graphql.relay import decode_optional_id
from storelink.marketing import activity, messages
from storelink.marketing.types import ActivityKind, MessageSubscription


@strawberry.type
class MarketingMutations:
    @strawberry.mutation(description="Customer: the templates they accepted in wx.requestSubscribeMessage; one "
                                     "credit each. Returns the credits of the templates named.")
    async def record_message_subscriptions(self, info: Info, accepted_template_ids: list[str]
                                           ) -> list[MessageSubscription]:
        me = await caller.customer(info)
        credits = await transaction(info.context.sessionmaker, lambda session: messages.record(
            session, customer_id=me.id, accepted=accepted_template_ids))
        return [MessageSubscription(template_id=t, credits=n) for t, n in credits]

    @strawberry.mutation(description="Customer: what they looked at or searched for.")
    async def track_activity(self, info: Info, kind: ActivityKind, product_id: strawberry.ID | None = None,
                             store_id: strawberry.ID | None = None, query: str | None = None) -> bool:
        me = await caller.customer(info)
        product = decode_optional_id(product_id, "Product", ["productId"])
        store = decode_optional_id(store_id, "Store", ["storeId"])
        await transaction(info.context.sessionmaker, lambda session: activity.track(
            session, customer_id=me.id, kind=activity.ActivityKind(kind.value), product_id=product,
            store_id=store, query=query))
        return True
