"""DataLoaders for stores and what hangs off them."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import async_sessionmaker
from strawberry.dataloader import DataLoader

from storelink.appointments import service as appointment_service
from storelink.appointments.models import ServiceType
from storelink.graphql.dataloaders import rows_by_key
from storelink.stores import service as store_service
from storelink.stores.models import Store


def store_loader(sessionmaker: async_sessionmaker) -> DataLoader[int, Store | None]:
    return rows_by_key(sessionmaker, Store)


def store_services_loader(sessionmaker: async_sessionmaker) -> DataLoader[int, list[ServiceType]]:
    async def load(ids: Sequence[int]) -> list[list[ServiceType]]:
        async with sessionmaker() as session:
            found = await appointment_service.active_services_by_store(session, ids)
        return [found.get(i, []) for i in ids]

    return DataLoader(load_fn=load)


def special_day_loader(
    sessionmaker: async_sessionmaker,
) -> DataLoader[tuple[int, dt.date], dict | None]:
    async def load(keys: Sequence[tuple[int, dt.date]]) -> list[dict | None]:
        async with sessionmaker() as session:
            found = await store_service.special_days_for(
                session, sorted({k[0] for k in keys}), sorted({k[1] for k in keys})
            )
        return [found.get(store_id, {}).get(day) for store_id, day in keys]

    return DataLoader(load_fn=load)


def service_type_loader(sessionmaker: async_sessionmaker) -> DataLoader[int, ServiceType | None]:
    return rows_by_key(sessionmaker, ServiceType)
