from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry

from storelink.api.context import Info
from storelink.errors import InvalidInput
from storelink.graphql.errors import UserError
from storelink.graphql.relay import Node, to_global_id
from storelink.webhooks import models
from storelink.webhooks.loaders import RecentDeliveries

MAX_DELIVERIES = 100


@strawberry.enum
class WebhookDeliveryStatus(Enum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"


@strawberry.type
class WebhookDelivery:
    id: strawberry.ID
    event: str = strawberry.field(description="e.g. order.paid")
    status: WebhookDeliveryStatus
    attempts: int
    last_status_code: int | None
    created_at: dt.datetime

    @classmethod
    def from_model(cls, row: models.WebhookDelivery) -> "WebhookDelivery":
        return cls(id=to_global_id("WebhookDelivery", row.id), event=row.event,
                   status=WebhookDeliveryStatus(row.status), attempts=row.attempts,
                   last_status_code=row.last_status_code, created_at=row.created_at)


@strawberry.type
class WebhookEndpoint(Node):
    id: strawberry.ID
    url: str
    events: list[str]
    active: bool
    pk: strawberry.Private[int]

    @classmethod
    def from_model(cls, row: models.WebhookEndpoint) -> "WebhookEndpoint":
        return cls(id=to_global_id("WebhookEndpoint", row.id), url=row.url, events=list(row.events),
                   active=row.active, pk=row.id)

    @strawberry.field
    async def deliveries(self, info: Info, first: int = 20) -> list[WebhookDelivery]:
        if not 0 < first <= MAX_DELIVERIES:
            raise InvalidInput("first must be 1 to {n}", n=MAX_DELIVERIES, field=["first"])
        rows = await RecentDeliveries.of(info).load((self.pk, first))
        return [WebhookDelivery.from_model(r) for r in rows]


@strawberry.type
class WebhookEndpointPayload:
    endpoint: WebhookEndpoint | None = None
    secret: str | None = strawberry.field(default=None,
                                          description="The signing secret, shown once when the endpoint is created.")
    user_errors: list[UserError] = strawberry.field(default_factory=list)
