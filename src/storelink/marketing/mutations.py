"""recordMessageSubscriptions: what the customer accepted in wx.requestSubscribeMessage."""
from __future__ import annotations

import strawberry

from storelink.api.context import Info
from storelink.db import transaction
from storelink.graphql import caller
from storelink.marketing import messages
from storelink.marketing.types import MessageSubscription


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
