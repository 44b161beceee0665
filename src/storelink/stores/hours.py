"""Opening hours: validation and "is the store open at this moment" in the store's timezone.

Rule: a day's hours belong to the day they open. An interval whose closing time is earlier than
its opening time runs past midnight into the next day. A special day replaces the weekly hours that
*open* on that date; the tail of the previous evening's overnight hours still counts.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from storelink.errors import InvalidInput

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_MIDNIGHT_END = "24:00"  # accepted as a closing time only: open until midnight


def minutes(hhmm: str) -> int:
    if hhmm == _MIDNIGHT_END:
        return 24 * 60
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def check_hhmm(value: str | None, field: list[str], *, closing: bool = False) -> str:
    if value is not None and (_HHMM.match(value) or (closing and value == _MIDNIGHT_END)):
        return value
    raise InvalidInput("Give the time as HH:MM (00:00-23:59)", field=field)


def check_interval(opens: str | None, closes: str | None, field: list[str]) -> tuple[str, str]:
    opens = check_hhmm(opens, field + ["opens"])
    closes = check_hhmm(closes, field + ["closes"], closing=True)
    if minutes(opens) == minutes(closes):
        raise InvalidInput("Opening and closing time must differ", field=field + ["closes"])
    return opens, closes


def check_timezone(name: str, field: list[str]) -> str:
    # available_timezones() is the real IANA list; ZoneInfo alone would also accept file paths.
    if name not in _zones():
        raise InvalidInput("Unknown timezone; give an IANA name such as Asia/Shanghai", field=field)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput("Unknown timezone; give an IANA name such as Asia/Shanghai", field=field) from None
    return name


_zone_cache: set[str] = set()


def _zones() -> set[str]:
    """IANA zone names (Area/Location, and UTC). The system's zone directory also lists files
    that are not zones of a place ("localtime", "Factory", "posix/…", "right/…")."""
    if not _zone_cache:
        _zone_cache.update(z for z in available_timezones()
                           if (z == "UTC" or "/" in z) and not z.startswith(("posix/", "right/")))
    return _zone_cache


def check_weekly_hours(hours: Sequence[Mapping], field: list[str]) -> list[dict]:
    """Validate [{weekday, opens, closes}] and return it sorted; intervals of a day may not overlap."""
    clean: list[dict] = []
    for i, h in enumerate(hours):
        at = field + [str(i)]
        weekday = h["weekday"]
        if not isinstance(weekday, int) or not 1 <= weekday <= 7:
            raise InvalidInput("Weekday must be 1 (Monday) to 7 (Sunday)", field=at + ["weekday"])
        opens, closes = check_interval(h["opens"], h["closes"], at)
        clean.append({"weekday": weekday, "opens": opens, "closes": closes})
    clean.sort(key=lambda h: (h["weekday"], minutes(h["opens"])))
    for prev, cur in zip(clean, clean[1:]):
        if prev["weekday"] == cur["weekday"] and end_minute(prev) > minutes(cur["opens"]):
            raise InvalidInput("Opening hours overlap on weekday {weekday}", weekday=cur["weekday"], field=field)
    return clean


def end_minute(interval: Mapping) -> int:
    """Closing minute counted from that day's midnight (past 24:00 for overnight hours)."""
    o, c = minutes(interval["opens"]), minutes(interval["closes"])
    return c if c > o else c + 24 * 60


def intervals_for(
    day: dt.date, weekly: Sequence[Mapping], special: Mapping | None
) -> list[Mapping]:
    """The intervals that open on `day`: the special day's, or the weekly ones."""
    if special is not None:
        if special["closed"]:
            return []
        return [{"opens": special["opens"], "closes": special["closes"]}]
    weekday = day.isoweekday()
    return [h for h in weekly if h["weekday"] == weekday]


def is_open_at(
    at: dt.datetime,
    tz: str,
    weekly: Sequence[Mapping],
    special_days: Mapping[dt.date, Mapping],
) -> bool:
    """special_days maps dates (at least the local day of `at` and the day before) to overrides."""
    if at.tzinfo is None:
        raise InvalidInput("A time must carry its UTC offset")
    local = at.astimezone(ZoneInfo(tz))
    today = local.date()
    now_min = local.hour * 60 + local.minute + local.second / 60
    for h in intervals_for(today, weekly, special_days.get(today)):
        if minutes(h["opens"]) <= now_min < end_minute(h):
            return True
    yesterday = today - dt.timedelta(days=1)
    for h in intervals_for(yesterday, weekly, special_days.get(yesterday)):
        if now_min + 24 * 60 < end_minute(h):
            return True
    return False


def days_needed(at: dt.datetime, tz: str) -> tuple[dt.date, dt.date]:
    """The local dates whose special days can affect is_open_at(at)."""
    today = at.astimezone(ZoneInfo(tz)).date()
    return today - dt.timedelta(days=1), today
