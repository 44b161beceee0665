"""DataLoaders for stores and their special days."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from storelink.graphql.dataloaders import RequestLoader, RowsByKey
from storelink.stores import service
from storelink.stores.models import Store


class StoreById(RowsByKey):
    model = Store


class SpecialDay(RequestLoader[tuple[int, dt.date], dict | None]):
    """Key: (store id, local date); the special hours of that day, or None."""

    async def fetch(self, session: AsyncSession, keys: Sequence[tuple[int, dt.date]]) -> list[dict | None]:
        found = await service.special_days_for(session, sorted({k[0] for k in keys}), sorted({k[1] for k in keys}))
        return [found.get(store_id, {}).get(day) for store_id, day in keys]
