"""DataLoader for member segments and tags."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.graphql.dataloaders import RequestLoader
from storelink.kpi import segments
from storelink.members.models import Membership


class PurchasesOf(RequestLoader[int, segments.Purchases]):
    """Key: customer id."""

    async def fetch(self, session: AsyncSession, customer_ids: Sequence[int]) -> list[segments.Purchases]:
        found = await segments.purchases(session, customer_ids)
        return [found.get(c, segments.Purchases()) for c in customer_ids]


class InsightsOf(RequestLoader[int, tuple[str, list[str]]]):
    """Key: membership id; (segment, tags). Thresholds come from the settings."""

    async def fetch(self, session: AsyncSession, ids: Sequence[int]) -> list[tuple[str, list[str]]]:
        memberships = (await session.execute(select(Membership).where(Membership.id.in_(ids)))).scalars().all()
        found = await segments.insights(session, memberships, self.context.settings)
        return [found.get(i, ("NEW", [])) for i in ids]
