"""Another database on the test server, for tests that need one empty (migrations, a brand moving in)."""
from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator

import asyncpg


@contextlib.asynccontextmanager
async def empty_database(database_url: str, purpose: str) -> AsyncIterator[str]:
    """The URL of a new, empty database beside `database_url`'s; dropped afterwards."""
    base, _, query = database_url.partition("?")
    name = f"storelink_{purpose}_{uuid.uuid4().hex[:8]}"
    url = base.rsplit("/", 1)[0] + "/" + name + (f"?{query}" if query else "")
    admin = await asyncpg.connect(database_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield url
        finally:
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()
