"""Alembic environment: runs migrations over asyncpg against DATABASE_URL or the embedded server."""
import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

import storelink.models  # noqa: F401  (registers every table on SQLModel.metadata)
from storelink import db
from storelink.settings import Settings

config = context.config
target_metadata = SQLModel.metadata


def _url() -> str:
    url = config.attributes.get("database_url")
    if url is None:
        # `alembic` run by hand: only the database settings matter, so skip the JWT check.
        url = db.database_url(Settings(debug=True))
    return db.async_url(url)


# Any constant both runners agree on: "storelink migrations" as a 63-bit number.
MIGRATION_LOCK = 0x73746F72656C696E


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        # Replicas starting together each run `serve`, which migrates: the first takes this lock
        # and migrates; the others wait here, then read the version it committed and find
        # nothing to do (before, the second failed on alembic_version's unique key).
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        context.run_migrations()


async def _run_async() -> None:
    engine = create_async_engine(_url())
    try:
        async with engine.connect() as conn:
            await conn.run_sync(_run)
            await conn.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
