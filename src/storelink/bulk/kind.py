"""What each importable kind declares: its columns, how one row becomes a staging record, the
checks that need the whole file or the database, and the set-based load."""
from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storelink.bulk.fields import Bad
from storelink.phone_cipher import Keyring
from storelink.settings import Settings


@dataclass(frozen=True)
class Setting:
    """What row checks need besides the row: the clock, the brand's timezone, the phone keys."""

    now: dt.datetime
    zone: dt.tzinfo
    keyring: Keyring
    settings: Settings
    # For a kind to remember what repeats from row to row (the head of an order on each of its lines).
    memo: dict = field(default_factory=dict, compare=False)


@dataclass
class Counts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


class Row:
    """One CSV row by column name; a bad field is noted (with its column) and read as None, so one
    pass reports every bad field of the row."""

    __slots__ = ("_fields", "_at", "problems")

    def __init__(self, fields: list[str], at: dict[str, int]) -> None:
        self._fields, self._at = fields, at
        self.problems: list[tuple[str, str]] = []

    def get(self, column: str, check: Callable[..., Any] | None = None, *, required: bool = False, **options) -> Any:
        i = self._at.get(column)
        raw = self._fields[i] if i is not None and i < len(self._fields) else ""
        if not raw.strip():
            if required:
                self.problems.append((column, "required"))
            return None
        if check is None:
            return raw
        try:
            return check(raw, **options)
        except Bad as bad:
            self.problems.append((column, str(bad)))
            return None

    def raw(self, columns: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(self._fields[i] if (i := self._at.get(c)) is not None and i < len(self._fields) else ""
                     for c in columns)

    def has(self, column: str) -> bool:
        """Whether the file has this column at all (some columns mean something by their absence)."""
        return column in self._at

    def problem(self, column: str, reason: str) -> None:
        self.problems.append((column, reason))


@dataclass(frozen=True)
class Kind:
    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    # Staging columns after `line int` (SQL types), and the row -> record function.
    staging: tuple[tuple[str, str], ...]
    record: Callable[[Row, Setting], tuple]
    # Each query selects (line, column, reason) from import_rows: what no single row can tell
    # (a function of the Setting when it needs one).
    checks: tuple[str | Callable[[Setting], str], ...]
    load: Callable[[AsyncSession, Setting], Awaitable[Counts]]
    export: Callable[[AsyncSession, Setting], AsyncIterator[list[str]]]  # the CSV rows of `storelink export`

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional
