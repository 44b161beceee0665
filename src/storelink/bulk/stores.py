"""`stores`: code, name, city, address, lat, lng, coord_system?, timezone?, phone?, hours?,
ships_online_orders?. The code is the business key; a known code updates that store."""
from __future__ import annotations

import itertools
import json
import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.bulk import fields
from storelink.bulk.common import duplicates, staged_rows, upsert_counts
from storelink.bulk.kind import Counts, Kind, Row, Setting
from storelink.errors import InvalidInput
from storelink.stores import geo, hours
from storelink.stores.models import Store

_SEGMENT = re.compile(r"(\d)(?:-(\d))?\s+(\d\d:\d\d)-(\d\d:\d\d)")


def _timezone(value: str) -> str:
    try:
        return hours.check_timezone(value.strip(), [])
    except InvalidInput:
        raise fields.Bad("not an IANA timezone such as Asia/Shanghai") from None


def parse_hours(value: str) -> str:
    """`1-5 10:00-22:00; 6-7 10:00-23:00` (weekday 1 is Monday) -> the stored JSON."""
    weekly = []
    for segment in filter(None, (s.strip() for s in value.split(";"))):
        match = _SEGMENT.fullmatch(segment)
        if not match:
            raise fields.Bad(f"{segment!r}: write days and hours as '1-5 10:00-22:00; 6-7 10:00-23:00'")
        first, last, opens, closes = match.groups()
        for weekday in range(int(first), int(last or first) + 1):
            weekly.append({"weekday": weekday, "opens": opens, "closes": closes})
    try:
        return json.dumps(hours.check_weekly_hours(weekly, []))
    except InvalidInput as exc:
        raise fields.Bad(exc.message) from None


def format_hours(weekly: list[dict]) -> str:
    """The stored hours in the import's form, consecutive days with the same hours as a range."""
    by_day = {day: tuple((h["opens"], h["closes"]) for h in weekly if h["weekday"] == day) for day in range(1, 8)}
    parts = []
    for times, days in itertools.groupby(range(1, 8), key=lambda d: by_day[d]):
        run = list(days)
        span = str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}"
        parts += [f"{span} {opens}-{closes}" for opens, closes in times]
    return "; ".join(parts)


def record(row: Row, s: Setting) -> tuple:
    lat = row.get("lat", fields.decimal, required=True, low=-90, high=90)
    lng = row.get("lng", fields.decimal, required=True, low=-180, high=180)
    system = row.get("coord_system", fields.choice, allowed=("GCJ02", "WGS84")) or "GCJ02"
    if lat is not None and lng is not None and system == "WGS84":
        lat, lng = geo.wgs84_to_gcj02(lat, lng)
    ships = row.get("ships_online_orders", fields.flag)
    return (
        row.get("code", fields.code, required=True),
        row.get("name", fields.text, required=True, max_len=100),
        row.get("city", fields.text, required=True, max_len=50),
        row.get("address", fields.text, required=True, max_len=200),
        row.get("phone", fields.text, max_len=32),
        lat, lng,
        row.get("timezone", _timezone) or s.settings.brand_timezone,
        row.get("hours", parse_hours) or "[]",
        True if ships is None else ships,
    )


_COLUMNS = ("code", "name", "city", "address", "phone", "lat", "lng", "timezone", "opening_hours",
            "ships_online_orders")


async def load(session: AsyncSession, s: Setting) -> Counts:
    changing = [c for c in _COLUMNS if c != "code"]
    return await upsert_counts(session, (
        f"INSERT INTO store ({', '.join(_COLUMNS)}, created_at, updated_at) "
        "SELECT code, name, city, address, phone, lat, lng, timezone, hours::jsonb, ships, now(), now() "
        "FROM import_rows "
        f"ON CONFLICT (code) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in changing)}, updated_at = now() "
        f"WHERE ({', '.join(f'store.{c}' for c in changing)}) IS DISTINCT FROM "
        f"({', '.join(f'excluded.{c}' for c in changing)})"), await staged_rows(session))


async def export(session: AsyncSession, s: Setting):
    yield ["code", "name", "city", "address", "lat", "lng", "coord_system", "timezone", "phone", "hours",
           "ships_online_orders"]
    for store in (await session.execute(select(Store).order_by(Store.code))).scalars():
        yield [store.code, store.name, store.city, store.address, repr(store.lat), repr(store.lng), "GCJ02",
               store.timezone, store.phone or "", format_hours(store.opening_hours),
               "true" if store.ships_online_orders else "false"]


KIND = Kind(
    name="stores",
    required=("code", "name", "city", "address", "lat", "lng"),
    optional=("coord_system", "timezone", "phone", "hours", "ships_online_orders"),
    staging=(("code", "text"), ("name", "text"), ("city", "text"), ("address", "text"), ("phone", "text"),
             ("lat", "float8"), ("lng", "float8"), ("timezone", "text"), ("hours", "text"), ("ships", "bool")),
    record=record,
    checks=(duplicates("code", "code"),),
    load=load,
    export=export,
)
