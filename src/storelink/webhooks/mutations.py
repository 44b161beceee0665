from __future__ import annotations

import strawberry

from storelink.api.context import Info
from storelink.db import transaction
from storelink.graphql import caller
from storelink.graphql.errors import in_transaction
from storelink.graphql.relay import decode_id
from storelink.webhooks import service
from storelink.webhooks.types import WebhookEndpoint, WebhookEndpointPayload


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(description="HQ: a brand system to hear about `events` (signed as Standard Webhooks).")
    async def create_webhook_endpoint(self, info: Info, url: str, events: list[str]) -> WebhookEndpointPayload:
        async def work(session):
            actor = await caller.staff(info)
            endpoint, secret = await service.create_endpoint(session, actor=actor, url=url, events=events,
                                                             settings=info.context.settings)
            return {"endpoint": WebhookEndpoint.from_model(endpoint), "secret": secret}

        return await in_transaction(info, WebhookEndpointPayload, work)

    @strawberry.mutation(description="HQ: stop sending to an endpoint; its pending deliveries are given up.")
    async def delete_webhook_endpoint(self, info: Info, id: strawberry.ID) -> WebhookEndpointPayload:
        async def work(session):
            actor = await caller.staff(info)
            endpoint = await service.delete_endpoint(session, actor=actor,
                                                     endpoint_id=decode_id(id, "WebhookEndpoint", ["id"]))
            return {"endpoint": WebhookEndpoint.from_model(endpoint)}

        return await in_transaction(info, WebhookEndpointPayload, work)

    @strawberry.mutation(description="HQ: send a delivery again now.")
    async def redeliver_webhook(self, info: Info, delivery_id: strawberry.ID) -> bool:
        async def work(session):
            actor = await caller.staff(info)
            return await service.redeliver(session, actor=actor,
                                           delivery_id=decode_id(delivery_id, "WebhookDelivery", ["deliveryId"]))

        return await transaction(info.context.sessionmaker, work)
