"""DataLoaders for members' points and tiers, coupon campaigns and a customer's coupons."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.graphql.dataloaders import RequestLoader, RowsByKey
from storelink.loyalty import service
from storelink.loyalty.models import Coupon, CouponCampaign
from storelink.members.models import Membership


class StandingOf(RequestLoader[int, service.Standing]):
    """Key: membership id. Tier thresholds come from the settings."""

    async def fetch(self, session: AsyncSession, ids: Sequence[int]) -> list[service.Standing]:
        memberships = (await session.execute(select(Membership).where(Membership.id.in_(ids)))).scalars().all()
        found = await service.standings(session, memberships, self.context.settings)
        return [found.get(i, service.Standing(0, "REGULAR")) for i in ids]


class CampaignById(RowsByKey):
    model = CouponCampaign


class CouponsOf(RequestLoader[tuple[int, str | None], list[tuple[Coupon, CouponCampaign]]]):
    """Key: (customer id, status or None for all)."""

    async def fetch(self, session: AsyncSession, keys: Sequence[tuple[int, str | None]]) -> list:
        return [await service.customer_coupons(session, customer_id=c, status=status) for c, status in keys]
