"""Running an import: stream the file into staging, check, load, all in one transaction."""
from __future__ import annotations

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

COPY_BATCH = 20_000
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


def setting_for(settings: Settings) -> Setting:
    return Setting(now=utcnow(), zone=ZoneInfo(settings.brand_timezone), keyring=phone_cipher.keyring(),
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


async def _stage(session: AsyncSession, kind: Kind, path: Path, *, encoding: str, progress: bool,
                 setting: Setting, report: Report) -> dict[str, int] | None:
    """Streams the rows into import_rows; returns the header's column positions."""
    columns = ", ".join(f"{name} {sql_type}" for name, sql_type in kind.staging)
    await session.execute(text(f"CREATE TEMP TABLE import_rows (line int NOT NULL, {columns}) ON COMMIT DROP"))
    names = ["line", *(name for name, _ in kind.staging)]
    where = path.name
    rows = csvfile.rows(path, encoding, progress=progress)
    at = None
    batch: list[tuple] = []
    for line, fields in rows:
        if at is None:
            at = _header(kind, fields, where, report)
            if at is None:
                return None
            width = len(fields)
            continue
        if not fields or fields == [""]:
            continue  # blank line
        report.rows += 1
        if len(fields) > width:
            report.bad(f"{where}:{line}: (row): {len(fields)} fields where the header has {width}")
            continue
        row = Row(fields, at)
        record = kind.record(row, setting)
        if row.problems:
            # In the file's column order, whatever order the kind checked them in.
            for column, reason in sorted(row.problems, key=lambda problem: at.get(problem[0], width)):
                report.bad(f"{where}:{line}: {column}: {reason}")
        elif not report.problem_count:  # once a row is bad nothing loads; keep checking, stop copying
            batch.append((line, *record))
            if len(batch) >= COPY_BATCH:
                await db.copy_rows(session, "import_rows", names, batch)
                batch = []
    if at is None:
        report.bad(f"{where}:1: (header): the file is empty")
    elif batch and not report.problem_count:
        await db.copy_rows(session, "import_rows", names, batch)
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
