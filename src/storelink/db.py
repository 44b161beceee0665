"""Database engine and sessions; starts the embedded PostgreSQL when DATABASE_URL is unset."""
from __future__ import annotations

import logging
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from storelink.errors import DomainError
from storelink.settings import Settings

log = logging.getLogger(__name__)

_embedded: dict[str, Any] = {}  # data dir -> pgserver handle, kept alive for the life of the process


def embedded_url(data_dir: Path) -> str:
    """Start (or attach to) the embedded PostgreSQL in `data_dir` and return its libpq URL.

    pgserver keeps the cluster on disk, so the next start reuses the same data; several processes
    (serve, migrate, seed-demo) share one running server and it stops when the last one exits.
    """
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); nothing to act on.
        warnings.simplefilter("ignore")
        try:
            import pgserver
        except ImportError:
            raise NoDatabase("the embedded database is not installed: pip install 'storelink[embedded]', "
                             "or set DATABASE_URL") from None

    pgdata = (data_dir / "pgdata").resolve()
    key = str(pgdata)
    if key not in _embedded:
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        _forget_dead_users(pgdata)
        log.info("starting embedded PostgreSQL in %s", pgdata)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _embedded[key] = pgserver.get_server(pgdata, cleanup_mode="stop")
    return _embedded[key].get_uri()


class NoDatabase(RuntimeError):
    """Neither DATABASE_URL nor a request for the embedded database (a configuration error)."""


def _forget_dead_users(pgdata: Path) -> None:
    """pgserver stops the server when the last process using it exits, counting them in
    .handle_pids.json; a process killed outright (SIGKILL, a crash) stays listed and would keep
    the server running forever. Drop the pids of processes that are gone, under pgserver's lock."""
    import json
    import os

    from pgserver.postgres_server import PostgresServer

    path = pgdata / ".handle_pids.json"

    def alive(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # someone else's process: alive
            return True
        return True

    with PostgresServer._lock:
        if not path.exists():
            return
        try:
            pids = json.loads(path.read_text())
        except ValueError:
            pids = []
        living = [pid for pid in pids if isinstance(pid, int) and alive(pid)]
        if living != pids:
            path.write_text(json.dumps(living))


def database_url(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    if not (settings.debug or settings.storelink_embedded_db):
        raise NoDatabase("no database: set DATABASE_URL (or STORELINK_EMBEDDED_DB=1 for a database inside "
                         "this machine's data directory, which a container loses with itself)")
    return embedded_url(settings.storelink_data_dir)


def async_url(url: str) -> str:
    """SQLAlchemy URL for asyncpg from a plain postgresql:// URL."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix):]
    raise ValueError("DATABASE_URL must be a postgresql:// URL")


def create_engine(url: str, *, pool_size: int = 10, max_overflow: int = 20) -> AsyncEngine:
    return create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_recycle=1800,
        # Error messages never carry bound values (password hashes, addresses, codes, keys).
        hide_parameters=True,
        connect_args={"server_settings": {"timezone": "UTC"}},
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


def create_reader(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for lookups that write nothing (the caller's token, DataLoader batches).

    Autocommit: each statement is its own transaction, which under READ COMMITTED sees exactly
    what it would inside one, and the BEGIN and ROLLBACK round trips are saved on every request.
    """
    return create_sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT"))


async def copy_rows(session: AsyncSession, table: str, columns: list[str], records: list[tuple]) -> None:
    """COPY rows into a table through the session's own connection and transaction (millions of
    rows in seconds, where INSERTs would take minutes)."""
    connection = await session.connection()
    raw = (await connection.get_raw_connection()).driver_connection
    assert raw is not None  # an open connection has its driver's
    await raw.copy_records_to_table(table, records=records, columns=columns)


T = TypeVar("T")


async def transaction(sessionmaker: async_sessionmaker[AsyncSession],
                      work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """The one way to write: run `work(session)` in one transaction, commit when it returns.

    Any exception rolls everything back (services never commit or roll back themselves). A
    DomainError's bookkeeping (a failure count, a scan log, a revoked token family) is then
    recorded and committed on its own, and the error goes on to the caller.
    """
    async with sessionmaker() as session:
        try:
            result = await work(session)
        except DomainError as err:
            await session.rollback()
            if err.bookkeeping:
                for record in err.bookkeeping:
                    await record(session)
                await session.commit()
            raise
        await session.commit()
        return result


async def existing(session: AsyncSession, model: type[T], key: int) -> T:
    """A row known to exist: named by another row's foreign key (its constraint guarantees the
    row), or written earlier in this request."""
    row = await session.get(model, key)
    if row is None:
        raise LookupError(f"{model.__name__} {key} is missing")
    return row
