"""DataLoaders for what a member's profile shows of their orders: segment and purchases, tags."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from storelink.graphql.dataloaders import RequestLoader
from storelink.kpi import segments


class ActivityOf(RequestLoader[int, segments.Activity]):
    """Key: membership id. Thresholds come from the settings."""

    async def fetch(self, session: AsyncSession, ids: Sequence[int]) -> list[segments.Activity]:
        found = await segments.activities(session, ids, self.context.settings)
        return [found.get(i, segments.Activity()) for i in ids]


class TagsOf(RequestLoader[int, list[str]]):
    """Key: customer id."""

    async def fetch(self, session: AsyncSession, customer_ids: Sequence[int]) -> list[list[str]]:
        found = await segments.tags(session, customer_ids, self.context.settings)
        return [found.get(c, []) for c in customer_ids]
