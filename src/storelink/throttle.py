"""Failure throttling (logins, join-code guesses, checkout scans), kept in the database so every
worker process counts the same attempts.

Rule: failures are counted in a window that starts at the first failure; once `limit` failures
are in the window, the key is refused (RATE_LIMITED) until the window ends.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, delete
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from storelink.clock import utcnow
from storelink.errors import RateLimited
from storelink.modelbase import created_at_field


class Throttle(SQLModel, table=True):
    __tablename__ = "throttle"

    key: str = Field(primary_key=True, max_length=100)
    failures: int = 0
    window_started_at: datetime = created_at_field()


async def ensure_allowed(
    session: AsyncSession, key: str, *, limit: int, window: timedelta, message: str
) -> None:
    row = await session.get(Throttle, key)
    if row is not None and row.failures >= limit and utcnow() < row.window_started_at + window:
        raise RateLimited(message)


async def record_failure(session: AsyncSession, key: str, *, window: timedelta) -> None:
    # One atomic upsert, so concurrent failures are all counted.
    now = utcnow()
    window_over = Throttle.window_started_at < now - window
    await session.execute(
        insert(Throttle)
        .values(key=key, failures=1, window_started_at=now)
        .on_conflict_do_update(
            index_elements=[Throttle.key],
            set_={
                "failures": case((window_over, 1), else_=Throttle.failures + 1),
                "window_started_at": case((window_over, now), else_=Throttle.window_started_at),
            },
        )
    )


async def clear(session: AsyncSession, key: str) -> None:
    await session.execute(delete(Throttle).where(Throttle.key == key))
