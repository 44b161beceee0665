"""DataLoaders for members and the staff they point at."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker
from strawberry.dataloader import DataLoader

from storelink.accounts.models import Customer, Staff
from storelink.members import service
from storelink.members.models import JoinCode, Membership


def _by_id(sessionmaker: async_sessionmaker, model, column) -> DataLoader:
    async def load(keys: Sequence[int]) -> list:
        async with sessionmaker() as session:
            rows = (await session.execute(select(model).where(column.in_(keys)))).scalars()
            found = {getattr(r, column.key): r for r in rows}
        return [found.get(k) for k in keys]

    return DataLoader(load_fn=load)


def staff_loader(sessionmaker: async_sessionmaker) -> DataLoader[int, Staff | None]:
    return _by_id(sessionmaker, Staff, Staff.id)


def customer_loader(sessionmaker: async_sessionmaker) -> DataLoader[int, Customer | None]:
    return _by_id(sessionmaker, Customer, Customer.id)


def membership_by_customer_loader(sessionmaker: async_sessionmaker) -> DataLoader[int, Membership | None]:
    return _by_id(sessionmaker, Membership, Membership.customer_id)


def personal_code_loader(sessionmaker: async_sessionmaker) -> DataLoader[int, JoinCode | None]:
    async def load(guide_ids: Sequence[int]) -> list[JoinCode | None]:
        async with sessionmaker() as session:
            found = await service.personal_codes(session, list(guide_ids))
        return [found.get(g) for g in guide_ids]

    return DataLoader(load_fn=load)
