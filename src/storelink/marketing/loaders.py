"""DataLoaders for marketing: a customer's message credits."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from storelink.graphql.dataloaders import RequestLoader
from storelink.marketing import messages


class CreditsOf(RequestLoader[int, list[tuple[str, int]]]):
    """Key: customer id; (template id, credits) with credits left."""

    async def fetch(self, session: AsyncSession, customer_ids: Sequence[int]) -> list:
        found = await messages.credits_of(session, customer_ids)
        return [found[c] for c in customer_ids]
