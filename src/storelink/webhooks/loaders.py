"""DataLoaders for webhook deliveries."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.graphql.dataloaders import RequestLoader
from storelink.webhooks.models import WebhookDelivery


class RecentDeliveries(RequestLoader[tuple[int, int], list[WebhookDelivery]]):
    """Key: (endpoint id, how many); newest first, every endpoint in one statement."""

    async def fetch(self, session: AsyncSession, keys: Sequence[tuple[int, int]]) -> list:
        limit = max(n for _, n in keys)
        rank = func.row_number().over(partition_by=WebhookDelivery.endpoint_id,
                                      order_by=WebhookDelivery.id.desc()).label("rank")
        ranked = (select(WebhookDelivery.id, rank)
                  .where(WebhookDelivery.endpoint_id.in_(sorted({e for e, _ in keys}))).subquery())
        rows = (await session.execute(
            select(WebhookDelivery).join(ranked, ranked.c.id == WebhookDelivery.id)
            .where(ranked.c.rank <= limit).order_by(WebhookDelivery.id.desc())
        )).scalars().all()
        found: dict[int, list[WebhookDelivery]] = {}
        for row in rows:
            found.setdefault(row.endpoint_id, []).append(row)
        return [found.get(e, [])[:n] for e, n in keys]
