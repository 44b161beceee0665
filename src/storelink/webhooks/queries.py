from __future__ import annotations

import strawberry
from sqlalchemy import select

from storelink.accounts import permissions
from storelink.api.context import Info
from storelink.graphql import caller
from storelink.graphql.relay import node_resolver
from storelink.webhooks import models
from storelink.webhooks.types import WebhookEndpoint


@node_resolver("WebhookEndpoint")
async def _endpoint_node(info: Info, pk: int) -> WebhookEndpoint | None:
    permissions.ensure_hq(await caller.staff(info))
    async with info.context.reader() as session:
        row = await session.get(models.WebhookEndpoint, pk)
    return WebhookEndpoint.from_model(row) if row is not None and row.active else None


@strawberry.type
class WebhookQueries:
    @strawberry.field(description="HQ: the brand systems that hear about events.")
    async def webhook_endpoints(self, info: Info) -> list[WebhookEndpoint]:
        permissions.ensure_hq(await caller.staff(info))
        async with info.context.reader() as session:
            rows = (await session.execute(
                select(models.WebhookEndpoint).where(models.WebhookEndpoint.active).order_by(models.WebhookEndpoint.id)
            )).scalars().all()
        return [WebhookEndpoint.from_model(r) for r in rows]
