"""DataLoader for member segments and tags."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker
from strawberry.dataloader import DataLoader

from storelink.kpi import segments
from storelink.members.models import Membership
from storelink.settings import Settings


def insights_loader(sessionmaker: async_sessionmaker, settings: Settings) -> DataLoader[int, tuple[str, list[str]]]:
    """Key: membership id."""
    async def load(ids: Sequence[int]) -> list[tuple[str, list[str]]]:
        async with sessionmaker() as session:
            memberships = (await session.execute(select(Membership).where(Membership.id.in_(ids)))).scalars().all()
            found = await segments.insights(session, memberships, settings)
        return [found.get(i, ("NEW", [])) for i in ids]

    return DataLoader(load_fn=load)
