"""SQL pieces every kind uses: duplicate keys inside the file, references to unknown rows, and
counting what an upsert did."""
from __future__ import annotations

from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.bulk.kind import Counts, Setting


def duplicates(key: str, column: str, *, where: str = "TRUE") -> str:
    """Rows whose key already appeared on an earlier line of the file."""
    return (f"SELECT line, '{column}', 'appears again (first on line ' || first || ')' FROM ("
            f"SELECT line, min(line) OVER (PARTITION BY {key}) AS first FROM import_rows WHERE {where}) d "
            f"WHERE line > first")


def unknown(column: str, table: str, key: str, reason: str, *, extra: str = "", report_as: str = "") -> str:
    """Rows naming a row of `table` that does not exist (by its business key)."""
    return (f"SELECT r.line, '{report_as or column}', '{reason}' FROM import_rows r "
            f"LEFT JOIN {table} t ON t.{key} = r.{column} {extra} "
            f"WHERE r.{column} IS NOT NULL AND t.{key} IS NULL")


async def upsert_counts(session: AsyncSession, upsert: str, rows: int) -> Counts:
    """Runs an INSERT ... ON CONFLICT DO UPDATE ... WHERE changed RETURNING (xmax = 0): rows it
    inserted report true, rows it updated false, unchanged rows nothing."""
    inserted, updated = (await session.execute(text(
        f"WITH up AS ({upsert} RETURNING (xmax = 0) AS inserted) "
        "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up"))).one()
    return Counts(inserted=inserted, updated=updated, unchanged=rows - inserted - updated)


async def staged_rows(session: AsyncSession) -> int:
    return (await session.execute(text("SELECT count(*) FROM import_rows"))).scalar_one()


def one_phone_key(s: Setting) -> str:
    """Imports match phones by their index under the current key: refused while a rotation is unfinished."""
    return ("SELECT 1, 'phone', 'phones in the database are still sealed under an older key: "
            "run storelink rotate-phone-key first' FROM (SELECT 1 FROM customer "
            f"WHERE phone_key_id <> '{s.keyring.current.id}' LIMIT 1) stale")


@asynccontextmanager
async def move_in(session: AsyncSession, tables: tuple[str, ...], rows: int):
    """A brand moving in: for each table the load will more than double, its secondary indexes
    (those behind no constraint) are set aside for the load and rebuilt after it, as the
    PostgreSQL manual advises for populating a database: one sort per index instead of a million
    insertions into it. Dropping an index locks its table until the import commits, which is why
    only a table that is small beside the import is treated so. If the load fails the transaction
    rolls back and the indexes are as they were."""
    set_aside: list[str] = []
    for table in tables:
        existing = (await session.execute(text(f"SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT :n) s"),
                                          {"n": rows})).scalar_one()
        if existing >= rows:
            continue
        for name, definition in await session.execute(text(
                "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
                "WHERE indrelid = CAST(:t AS regclass) AND NOT indisprimary "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = indexrelid)"), {"t": table}):
            await session.execute(text(f"DROP INDEX {name}"))
            set_aside.append(definition)
    yield
    if set_aside:
        await session.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
    for definition in set_aside:
        await session.execute(text(definition))
