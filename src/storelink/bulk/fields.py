"""Checking one CSV field: each function returns the clean value or raises Bad with the reason
the command prints as `FILE:LINE: column: reason`. Empty optional fields come in as None."""
from __future__ import annotations

import datetime as dt
import re

from storelink import limits
from storelink.errors import InvalidInput
from storelink.members.phones import mainland_mobile

_CODE = re.compile(r"[A-Za-z0-9_-]{1,32}")
_USERNAME = re.compile(r"[a-z0-9._-]{3,32}")
_WHOLE = re.compile(r"[+-]?\d{1,12}")
_TRUE, _FALSE = {"true", "1", "yes", "y", "是"}, {"false", "0", "no", "n", "否"}
MAX_QUANTITY = 1_000_000
MAX_PRICE_FEN = 100_000_000  # one million yuan for one unit


class Bad(ValueError):
    """A field's value is wrong; the message is the reason shown to the operator."""


def text(value: str, *, max_len: int) -> str:
    value = value.strip()
    if not limits.clean_text(value):
        raise Bad("contains a NUL or an invalid character")
    if len(value) > max_len:
        raise Bad(f"longer than {max_len} characters")
    return value


def code(value: str) -> str:
    value = value.strip()
    if not _CODE.fullmatch(value):
        raise Bad("1-32 letters, digits, '-' or '_'")
    return value


def username(value: str) -> str:
    value = value.strip().lower()
    if not _USERNAME.fullmatch(value):
        raise Bad("3-32 lowercase letters, digits, '.', '_' or '-'")
    return value


def whole(value: str, *, low: int = 0, high: int = limits.MAX_INT, what: str = "number") -> int:
    value = value.strip()
    if not _WHOLE.fullmatch(value):
        raise Bad(f"not a whole {what}")
    number = int(value)
    if number < low:
        raise Bad("may not be negative" if low == 0 else f"must be at least {low}")
    if number > high:
        raise Bad(f"larger than {high}")
    return number


def decimal(value: str, *, low: float, high: float) -> float:
    try:
        number = float(value.strip())
    except ValueError:
        raise Bad("not a number") from None
    if not low <= number <= high:  # also refuses nan and inf
        raise Bad(f"must be between {low} and {high}")
    return number


def flag(value: str) -> bool:
    folded = value.strip().lower()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise Bad("true or false")


def choice(value: str, allowed: tuple[str, ...]) -> str:
    value = value.strip().upper()
    if value not in allowed:
        raise Bad(" or ".join(allowed))
    return value


def phone(value: str) -> str:
    try:
        return mainland_mobile(value, [])
    except InvalidInput:
        raise Bad("not a mainland mobile number (11 digits starting with 13-19)") from None


def moment(value: str, *, zone: dt.tzinfo, now: dt.datetime) -> dt.datetime:
    """A date or a date and time, in the past; without an offset it is the brand's local time."""
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise Bad("not a date (YYYY-MM-DD) or date and time (YYYY-MM-DD HH:MM[:SS][+08:00])") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    if not limits.MIN_DATE <= parsed.date() <= limits.MAX_DATE:
        raise Bad(f"outside {limits.MIN_DATE.year}-{limits.MAX_DATE.year}")
    if parsed > now:
        raise Bad("in the future")
    return parsed
