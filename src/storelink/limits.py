"""The bounds of what the API accepts, in one place (README, "Limits and errors").

Every one answers a client's mistake with a clear error instead of letting it reach the database
or the arithmetic (an id past the column's range, a sum past GraphQL's Int, a year 9999 that
overflows when moved to UTC, a NUL byte PostgreSQL cannot store).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

MAX_BODY_BYTES = 1_000_000  # a GraphQL request or a payment notification; the apps send a few KB
MAX_JSON_DEPTH = 32  # nesting of a request's variables; the deepest input type needs 4
MAX_INT = 2**31 - 1  # GraphQL's Int and our id columns: ids, quantities, one order's or cart's fen
# Dates and times the API accepts (and the days of a report or KPI period). Wide enough for any
# shop's past and future, narrow enough that no offset arithmetic leaves Python's range.
MIN_DATE = dt.date(1970, 1, 1)
MAX_DATE = dt.date(2099, 12, 31)


def clean_text(value: str) -> bool:
    """False for text PostgreSQL cannot store or that no keyboard makes: NUL, a lone surrogate."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def unclean_text_in(value: Any, depth: int = 0) -> bool:
    """True if any string inside a JSON value (keys included) is not clean_text, or the value
    nests deeper than MAX_JSON_DEPTH."""
    if depth > MAX_JSON_DEPTH:
        return True
    if isinstance(value, str):
        return not clean_text(value)
    if isinstance(value, dict):
        return any(unclean_text_in(k, depth + 1) or unclean_text_in(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return any(unclean_text_in(v, depth + 1) for v in value)
    return False


def date_in_range(day: dt.date) -> bool:
    return MIN_DATE <= day <= MAX_DATE


def valid_pk(text: str) -> int | None:
    """The primary key written in a global ID or cursor, or None when none can exist."""
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    pk = int(text)
    return pk if 0 < pk <= MAX_INT else None
