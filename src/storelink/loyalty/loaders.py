"""DataLoaders for members' points and tiers, and coupon campaigns."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker
from strawberry.dataloader import DataLoader

from storelink.graphql.dataloaders import rows_by_key
from storelink.loyalty import service
from storelink.loyalty.models import CouponCampaign
from storelink.members.models import Membership
from storelink.settings import Settings


def standing_loader(sessionmaker: async_sessionmaker, settings: Settings) -> DataLoader[int, service.Standing]:
    """Key: membership id."""
    async def load(ids: Sequence[int]) -> list[service.Standing]:
        async with sessionmaker() as session:
            memberships = (await session.execute(select(Membership).where(Membership.id.in_(ids)))).scalars().all()
            found = await service.standings(session, memberships, settings)
        return [found.get(i, service.Standing(0, "REGULAR")) for i in ids]

    return DataLoader(load_fn=load)


def campaign_loader(sessionmaker: async_sessionmaker) -> DataLoader[int, CouponCampaign | None]:
    return rows_by_key(sessionmaker, CouponCampaign)
