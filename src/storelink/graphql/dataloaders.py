"""The one DataLoader shape most loaders share: rows of a table by a key column, each batch in
its own short session (STYLE.md)."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker
from strawberry.dataloader import DataLoader


def rows_by_key(sessionmaker: async_sessionmaker, model, column=None) -> DataLoader:
    """Loads `model` rows whose `column` (default: the id) equals each key; None where missing."""
    column = column if column is not None else model.id

    async def load(keys: Sequence) -> list:
        async with sessionmaker() as session:
            rows = (await session.execute(select(model).where(column.in_(keys)))).scalars()
            found = {getattr(r, column.key): r for r in rows}
        return [found.get(k) for k in keys]

    return DataLoader(load_fn=load)
