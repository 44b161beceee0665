"""DataLoaders that cache themselves on the request: `StoreById.of(info)` is the request's one
instance, made on first use. Each batch reads in its own short autocommit session (STYLE.md:
sibling fields resolve at the same time and must not share a session)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Generic, TypeVar

import strawberry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

K = TypeVar("K")
V = TypeVar("V")
L = TypeVar("L", bound="RequestLoader")


class RequestLoader(DataLoader[K, V], Generic[K, V]):
    """Subclasses implement `fetch(session, keys)`: one value per key, in the keys' order."""

    def __init__(self, context: Any):
        super().__init__(load_fn=self._load)
        self.context = context

    @classmethod
    def of(cls: type[L], info: strawberry.Info) -> L:
        loaders: dict = info.context.loaders  # keyed by loader class, lives as long as the request
        found = loaders.get(cls)
        if found is None:
            found = loaders[cls] = cls(info.context)
        return found

    async def _load(self, keys: Sequence[K]) -> list[V]:
        async with self.context.reader() as session:
            return await self.fetch(session, keys)

    async def fetch(self, session: AsyncSession, keys: Sequence[K]) -> list[V]:
        raise NotImplementedError


class RowsByKey(RequestLoader[Any, Any]):
    """Rows of `model` whose `column` (default: the id) equals each key; None where missing."""

    model: ClassVar[Any]
    column: ClassVar[str] = "id"

    async def fetch(self, session: AsyncSession, keys: Sequence[Any]) -> list[Any]:
        column = getattr(self.model, self.column)
        rows = (await session.execute(select(self.model).where(column.in_(keys)))).scalars()
        found = {getattr(r, self.column): r for r in rows}
        return [found.get(k) for k in keys]
