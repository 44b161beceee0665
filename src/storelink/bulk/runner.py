"""Running an import: stream the file into staging, check, load, all in one transaction."""
from __future__ import annotations

import asyncio
import collections
import datetime as dt
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storelink import db, phone_cipher
from storelink.bulk import csvfile
from storelink.bulk.kind import Counts, Kind, Row, Setting
from storelink.clock import utcnow
from storelink.settings import Settings

# A block of the file is read, checked and copied as one (about 20,000 rows of members).
BLOCK_BYTES = 2 << 20
# Files from this size up are checked in worker processes (starting them costs about a second).
PARALLEL_FROM_BYTES = 8 << 20
# One per core, beside this process and PostgreSQL's (which wait on each other more than they work).
CHECK_WORKERS = min(4, os.cpu_count() or 1)
# Enough to fix a file by; beyond this the command only counts.
MAX_REPORTED = 1000


@dataclass
class Report:
    kind: str
    rows: int = 0
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0
    counts: Counts | None = None  # None when nothing was loaded (bad rows, or --dry-run)

    def bad(self, message: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_REPORTED:
            self.problems.append(message)


def setting_for(settings: Settings, now: dt.datetime | None = None) -> Setting:
    return Setting(now=now or utcnow(), zone=ZoneInfo(settings.brand_timezone), keyring=phone_cipher.keyring(),
                   settings=settings)


def _header(kind: Kind, names: list[str], where: str, report: Report) -> dict[str, int] | None:
    at: dict[str, int] = {}
    for i, name in enumerate(names):
        name = name.strip().lower()
        if name not in kind.columns:
            report.bad(f"{where}:1: {name or '(empty)'}: unknown column; {kind.name} has "
                       f"{', '.join(kind.required)} and optionally {', '.join(kind.optional) or 'nothing else'}")
        elif name in at:
            report.bad(f"{where}:1: {name}: column appears twice")
        else:
            at[name] = i
    for name in kind.required:
        if name not in at:
            report.bad(f"{where}:1: {name}: required column missing from the header")
    return None if report.problem_count else at


@dataclass
class _Checked:
    """One chunk of rows, checked: the staging records of its good rows, (line, column, reason)
    for each problem in file order, and how many rows it held."""

    records: list[tuple]
    problems: list[tuple[int, str, str]]
    rows: int


def _check_rows(kind: Kind, setting: Setting, at: dict[str, int], width: int,
                chunk: list[tuple[int, list[str]]]) -> _Checked:
    checked = _Checked([], [], 0)
    for line, fields in chunk:
        checked.rows += 1
        if len(fields) > width:
            checked.problems.append((line, "(row)", f"{len(fields)} fields where the header has {width}"))
            continue
        row = Row(fields, at)
        record = kind.record(row, setting)
        if row.problems:
            # In the file's column order, whatever order the kind checked them in.
            for column, reason in sorted(row.problems, key=lambda problem: at.get(problem[0], width)):
                checked.problems.append((line, column, reason))
        else:
            checked.records.append((line, *record))
    return checked


# A worker process's own Setting (its keyring cannot be pickled), made once when it starts.
_worker_setting: Setting | None = None


def _start_worker(settings: Settings, now: dt.datetime) -> None:
    global _worker_setting
    phone_cipher.configure(settings)
    _worker_setting = setting_for(settings, now)  # the main process's clock: "in the future" means the same


def _check_in_worker(kind_name: str, at: dict[str, int], width: int, block: tuple[str, int, bytes]) -> _Checked:
    from storelink.bulk.kinds import KINDS

    assert _worker_setting is not None  # set by _start_worker
    return _check_rows(KINDS[kind_name], _worker_setting, at, width, csvfile.parse(*block))


async def _stage(session: AsyncSession, kind: Kind, path: Path, *, encoding: str, progress: bool,
                 setting: Setting, report: Report) -> dict[str, int] | None:
    """Streams the rows into import_rows; returns the header's column positions. A big file is
    read and checked in worker processes (one per core), a block at a time, while this process
    copies the checked blocks in file order: reading and checking rows (parsing dates, sealing
    phones) is most of a big import's Python time and would use one core otherwise."""
    columns = ", ".join(f"{name} {sql_type}" for name, sql_type in kind.staging)
    await session.execute(text(f"CREATE TEMP TABLE import_rows (line int NOT NULL, {columns}) ON COMMIT DROP"))
    names = ["line", *(name for name, _ in kind.staging)]
    where = path.name
    blocks = csvfile.blocks(path, encoding, progress=progress, size=BLOCK_BYTES)
    first = next(blocks, None)
    rows = csvfile.parse(*first) if first else []
    if not rows:
        report.bad(f"{where}:1: (header): the file is empty")
        return None
    header = rows.pop(0)[1] if rows[0][0] == 1 else []  # a blank first line is a header naming nothing
    at = _header(kind, header, where, report)
    if at is None:
        return None
    width = len(header)

    async def take(checked: _Checked) -> None:
        report.rows += checked.rows
        for line, column, reason in checked.problems:
            report.bad(f"{where}:{line}: {column}: {reason}")
        if checked.records and not report.problem_count:  # once a row is bad nothing loads; keep checking
            await db.copy_rows(session, "import_rows", names, checked.records)

    await take(_check_rows(kind, setting, at, width, rows))
    workers = CHECK_WORKERS if CHECK_WORKERS > 1 and path.stat().st_size >= PARALLEL_FROM_BYTES else 0
    if not workers:
        for block in blocks:
            await take(_check_rows(kind, setting, at, width, csvfile.parse(*block)))
        return at
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_start_worker,
                             initargs=(setting.settings, setting.now)) as pool:
        pending: collections.deque[asyncio.Future[_Checked]] = collections.deque()
        for block in blocks:
            pending.append(loop.run_in_executor(pool, _check_in_worker, kind.name, at, width, block))
            if len(pending) > 2 * workers:  # bounded: the file is never held whole
                await take(await pending.popleft())
        while pending:
            await take(await pending.popleft())
    return at


async def _check(session: AsyncSession, kind: Kind, setting: Setting, where: str, at: dict[str, int],
                 report: Report) -> None:
    await session.execute(text("ANALYZE import_rows"))  # temp tables have no statistics otherwise
    found: list[tuple[int, str, str]] = []
    for check in kind.checks:
        query = check(setting) if callable(check) else check
        found += (await session.execute(text(f"{query} ORDER BY 1 LIMIT {MAX_REPORTED}"))).all()
    for line, column, reason in sorted(found, key=lambda problem: (problem[0], at.get(problem[1], len(at)))):
        report.bad(f"{where}:{line}: {column}: {reason}")


async def _skip_reference_triggers(session: AsyncSession) -> None:
    """Every reference the load writes was checked just now against the same rows (stores and
    staff are never deleted, and what the load inserts it inserts together), so the foreign-key
    triggers would only check it again, one row at a time: most of a big load's time. Skipping
    them (what pg_restore --disable-triggers does) needs a superuser, as the embedded server's
    owner is; elsewhere they run as usual, only slower."""
    savepoint = await session.begin_nested()
    try:
        await session.execute(text("SET LOCAL session_replication_role = replica"))
    except DBAPIError:
        await savepoint.rollback()
    else:
        await savepoint.commit()


async def run_import(sessionmaker: async_sessionmaker[AsyncSession], kind: Kind, path: Path, *,
                     settings: Settings, dry_run: bool = False, encoding: str = "utf-8",
                     progress: bool = False) -> Report:
    report = Report(kind.name)
    setting = setting_for(settings)
    async with sessionmaker() as session:
        try:
            at = await _stage(session, kind, path, encoding=encoding, progress=progress, setting=setting,
                              report=report)
        except csvfile.FileProblem as problem:
            report.bad(f"{path.name}: {problem}")
            at = None
        if at is not None and not report.problem_count:
            await _check(session, kind, setting, path.name, at, report)
        if report.problem_count or dry_run:
            await session.rollback()
            return report
        await _skip_reference_triggers(session)
        report.counts = await kind.load(session, setting)
        await session.commit()
    return report


def describe(report: Report, *, dry_run: bool) -> str:
    if report.problem_count:
        more = report.problem_count - len(report.problems)
        tail = [f"... and {more} more problems"] if more > 0 else []
        return "\n".join([*report.problems, *tail,
                          f"{report.kind}: {report.problem_count} problems in {report.rows} rows; nothing was loaded"])
    if dry_run:
        return f"{report.kind}: {report.rows} rows checked, no problems (dry run: nothing was loaded)"
    c = report.counts
    assert c is not None  # loaded
    return (f"{report.kind}: {report.rows} rows read: {c.inserted} inserted, {c.updated} updated, "
            f"{c.unchanged} unchanged")


async def run_export(sessionmaker: async_sessionmaker[AsyncSession], kind: Kind, path: Path, *,
                     settings: Settings, progress: bool = False) -> int:
    """Writes the kind in its import format (UTF-8 with a BOM, which Excel needs to read Chinese)
    from one consistent snapshot; the file appears whole or not at all. Returns the row count."""
    import csv

    from tqdm import tqdm

    setting = setting_for(settings)
    partial = path.with_name(path.name + ".partial")
    count = 0
    async with sessionmaker() as session:
        await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
        with partial.open("w", encoding="utf-8-sig", newline="") as f, \
                tqdm(unit=" rows", desc=path.name, disable=not progress, leave=False) as bar:
            writer = csv.writer(f)
            async for row in kind.export(session, setting):
                writer.writerow(row)
                count += 1
                bar.update()
        await session.rollback()
    partial.replace(path)
    return count - 1  # the header
