"""DataLoaders for marketing: a customer's message credits, a member's referral counts."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from storelink.graphql.dataloaders import RequestLoader
from storelink.marketing import messages, referrals


class CreditsOf(RequestLoader[int, list[tuple[str, int]]]):
    """Key: customer id; (template id, credits) with credits left."""

    async def fetch(self, session: AsyncSession, customer_ids: Sequence[int]) -> list:
        found = await messages.credits_of(session, customer_ids)
        return [found[c] for c in customer_ids]


class ReferralCountsOf(RequestLoader[int, tuple[int, int]]):
    """Key: membership id; (friends joined with its code, friends rewarded)."""

    async def fetch(self, session: AsyncSession, membership_ids: Sequence[int]) -> list:
        found = await referrals.counts(session, membership_ids)
        return [found[m] for m in membership_ids]
