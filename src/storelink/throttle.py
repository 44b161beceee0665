"""Failure throttling (logins, join-code guesses, checkout scans) and plain rate limits (location
reports), kept in the database so every
worker process counts the same attempts.

Rule: failures are counted in a window that starts at the first failure; once `limit` failures
are in the window, the key is refused (RATE_LIMITED) until the window ends.

An attempt is counted before it is judged, in a statement committed on its own connection, so
parallel attempts see each other: of 24 guesses at once, exactly `limit` are judged. An attempt
that turns out not to be a failure is given back (`give_back`, inside the caller's transaction);
a success that clears the slate (a login) calls `clear`.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import DateTime, bindparam, case, delete, func, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import Field, SQLModel

from storelink import metrics
from storelink.clock import utcnow
from storelink.errors import RateLimited
from storelink.modelbase import created_at_field


class Throttle(SQLModel, table=True):
    __tablename__ = "throttle"

    key: str = Field(primary_key=True, max_length=100)
    failures: int = 0
    window_started_at: datetime = created_at_field()


def _count_statement():
    """Count one attempt on :key at :now, restarting the count when its window began before
    :window_start. Built once (bind parameters): it runs on every login, scan and location report."""
    table = Throttle.__table__
    now = bindparam("now", type_=DateTime(timezone=True))
    window_over = table.c.window_started_at < bindparam("window_start", type_=DateTime(timezone=True))
    return (
        insert(table)
        .values(key=bindparam("key"), failures=1, window_started_at=now)
        .on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "failures": case((window_over, 1), else_=table.c.failures + 1),
                "window_started_at": case((window_over, now), else_=table.c.window_started_at),
            },
        )
        .returning(table.c.failures)
    )


_COUNT = _count_statement()


async def count_attempt(session: AsyncSession, key: str, *, limit: int, window: timedelta, message: str,
                        own_transaction: bool = True) -> None:
    """Count one attempt on `key` now (committed at once), then refuse it if it is past the limit.

    own_transaction=False counts in the caller's transaction instead, for a plain rate limit whose
    key's attempts are serialised anyway and of which only completed attempts need counting (a
    refused one rolls back, leaving the count at the limit): the count's row lock queues the
    key's parallel attempts until each commits, and three round trips are saved."""
    now = utcnow()
    values = {"key": key, "now": now, "window_start": now - window}
    if own_transaction:
        # Its own connection and transaction: the count must be seen by every parallel attempt
        # now, and must stay whatever becomes of the caller's transaction.
        engine = session.bind
        assert isinstance(engine, AsyncEngine)  # sessions are made on the engine, never one connection
        async with engine.connect() as connection:
            failures = (await connection.execute(_COUNT, values)).scalar_one()
            await connection.commit()
    else:
        failures = (await session.execute(_COUNT, values)).scalar_one()
    if failures > limit:
        metrics.THROTTLED.labels(key.partition(":")[0]).inc()  # login, join, scan: never the key itself
        raise RateLimited(message)


async def give_back(session: AsyncSession, key: str) -> None:
    """The attempt counted for `key` was not a failure."""
    await session.execute(
        update(Throttle).where(Throttle.key == key).values(failures=func.greatest(Throttle.failures - 1, 0))
    )


async def clear(session: AsyncSession, key: str) -> None:
    await session.execute(delete(Throttle).where(Throttle.key == key))
