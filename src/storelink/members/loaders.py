"""DataLoaders for members and the staff they point at."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import async_sessionmaker
from strawberry.dataloader import DataLoader

from storelink.accounts.models import Customer, Staff
from storelink.graphql.dataloaders import rows_by_key
from storelink.members import service
from storelink.members.models import JoinCode, Membership


def staff_loader(sessionmaker: async_sessionmaker) -> DataLoader[int, Staff | None]:
    return rows_by_key(sessionmaker, Staff)


def customer_loader(sessionmaker: async_sessionmaker) -> DataLoader[int, Customer | None]:
    return rows_by_key(sessionmaker, Customer)


def membership_by_customer_loader(sessionmaker: async_sessionmaker) -> DataLoader[int, Membership | None]:
    return rows_by_key(sessionmaker, Membership, Membership.customer_id)


def personal_code_loader(sessionmaker: async_sessionmaker) -> DataLoader[int, JoinCode | None]:
    async def load(guide_ids: Sequence[int]) -> list[JoinCode | None]:
        async with sessionmaker() as session:
            found = await service.personal_codes(session, list(guide_ids))
        return [found.get(g) for g in guide_ids]

    return DataLoader(load_fn=load)
