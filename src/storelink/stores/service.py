"""Store setup and the nearby-store search."""
from __future__ import annotations

import datetime as dt
import functools
import json
import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Literal, overload

from sqlalchemy import Date, Float, Integer, Text, bindparam, cast, exists, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.accounts import permissions
from storelink.accounts.models import Staff
from storelink.appointments.models import StoreService
from storelink.catalog.models import StoreStock
from storelink.clock import utcnow
from storelink.errors import InvalidInput, NotFound
from storelink.stores import geo, hours
from storelink.stores.models import SpecialDay, Store

MAX_NEARBY = 50
MAX_RADIUS_M = 100_000  # beyond a city's reach "nearby" stops meaning anything
MAX_SAME_CITY_M = 50_000  # same-city delivery: within one city
_CODE_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


async def require_store(session: AsyncSession, store_id: int, field: list[str] | None = None) -> Store:
    store = await session.get(Store, store_id)
    if store is None:
        raise NotFound("No such store", field=field)
    return store


@overload
def clean_text(value: str | None, field: list[str], *, max_len: int, required: Literal[True] = True) -> str: ...
@overload
def clean_text(value: str | None, field: list[str], *, max_len: int, required: bool) -> str | None: ...
def clean_text(value: str | None, field: list[str], *, max_len: int, required: bool = True) -> str | None:
    """Stripped text within max_len; required fields may not be blank."""
    value = value.strip() if value is not None else None
    if not value:
        if required:
            raise InvalidInput("This field is required", field=field)
        return None
    if len(value) > max_len:
        raise InvalidInput("At most {n} characters", n=max_len, field=field)
    return value


def check_code(code: str, field: list[str]) -> str:
    code = code.strip()
    if not code or len(code) > 32 or not set(code) <= _CODE_CHARS:
        raise InvalidInput("Codes are 1-32 letters, digits, '-' or '_'", field=field)
    return code


def check_coordinates(lat: float, lng: float, field: list[str]) -> None:
    if not -90.0 <= lat <= 90.0:
        raise InvalidInput("Latitude must be between -90 and 90", field=field + ["lat"])
    if not -180.0 <= lng <= 180.0:
        raise InvalidInput("Longitude must be between -180 and 180", field=field + ["lng"])


def to_gcj02(lat: float, lng: float, coord_system: str) -> tuple[float, float]:
    return geo.wgs84_to_gcj02(lat, lng) if coord_system == "WGS84" else (lat, lng)


def point(location, field: list[str]) -> tuple[float, float]:
    """A GeoPointInput from a client, checked, in GCJ-02."""
    check_coordinates(location.lat, location.lng, field)
    return to_gcj02(location.lat, location.lng, location.coord_system.value)


async def upsert_store(
    session: AsyncSession,
    *,
    actor: Staff,
    code: str,
    name: str,
    city: str,
    address: str,
    phone: str | None,
    lat: float,
    lng: float,
    coord_system: str,
    timezone: str,
    opening_hours: Sequence[dict],
    ships_online_orders: bool = False,
    same_city_radius_m: int = 0,
) -> Store:
    permissions.ensure_hq(actor)
    f = ["input"]
    if not 0 <= same_city_radius_m <= MAX_SAME_CITY_M:
        raise InvalidInput("Same-city delivery reaches 0 to {n} meters", n=MAX_SAME_CITY_M,
                           field=f + ["sameCityRadiusMeters"])
    values: dict[str, object] = {
        "code": check_code(code, f + ["code"]),
        "name": clean_text(name, f + ["name"], max_len=100),
        "city": clean_text(city, f + ["city"], max_len=50),
        "address": clean_text(address, f + ["address"], max_len=200),
        "phone": clean_text(phone, f + ["phone"], max_len=32, required=False),
        "timezone": hours.check_timezone(timezone, f + ["timezone"]),
        "opening_hours": hours.check_weekly_hours(opening_hours, f + ["openingHours"]),
        "ships_online_orders": ships_online_orders,
        "same_city_radius_m": same_city_radius_m,
    }
    check_coordinates(lat, lng, f)
    values["lat"], values["lng"] = to_gcj02(lat, lng, coord_system)
    now = utcnow()
    stmt = (
        insert(Store)
        .values(**values, created_at=now, updated_at=now)
        .on_conflict_do_update(index_elements=[Store.code], set_={**values, "updated_at": now})
        .returning(Store.id)
    )
    store_id = (await session.execute(stmt)).scalar_one()
    store = await session.get(Store, store_id, populate_existing=True)
    assert store is not None
    return store


async def set_special_day(
    session: AsyncSession,
    *,
    actor: Staff,
    store_id: int,
    day: dt.date,
    closed: bool,
    opens: str | None,
    closes: str | None,
) -> Store:
    store = await require_store(session, store_id, ["input", "storeId"])
    permissions.ensure_manages_store(actor, store_id)
    if closed:
        if opens is not None or closes is not None:
            raise InvalidInput("A closed day has no hours", field=["input", "opens"])
    else:
        opens, closes = hours.check_interval(opens, closes, ["input"])
    values = {"closed": closed, "opens": opens, "closes": closes}
    await session.execute(
        insert(SpecialDay)
        .values(store_id=store_id, day=day, **values)
        .on_conflict_do_update(index_elements=[SpecialDay.store_id, SpecialDay.day], set_=values)
    )
    return store


async def special_days_for(
    session: AsyncSession, store_ids: Sequence[int], days: Sequence[dt.date]
) -> dict[int, dict[dt.date, dict]]:
    found: dict[int, dict[dt.date, dict]] = defaultdict(dict)
    if not store_ids or not days:
        return found
    rows = await session.execute(
        select(SpecialDay).where(SpecialDay.store_id.in_(store_ids), SpecialDay.day.in_(days))
    )
    for (sd,) in rows:
        found[sd.store_id][sd.day] = {"closed": sd.closed, "opens": sd.opens, "closes": sd.closes}
    return found


async def open_at(session: AsyncSession, stores: Sequence, now: dt.datetime) -> set[int]:
    """The ids of those stores (anything with id, timezone and opening_hours) open at `now`:
    their weekly hours, or the special days that replace them, in one read of the special days."""
    if not stores:
        return set()
    days = {day for store in stores for day in hours.days_needed(now, store.timezone)}
    specials = await special_days_for(session, [store.id for store in stores], sorted(days))
    return {store.id for store in stores
            if hours.is_open_at(now, store.timezone, store.opening_hours, specials.get(store.id, {}))}


# The stores in a bounding box with their weekly hours and special days around `now` (today and
# yesterday in any time zone): enough for open_now without a second read. Built once.
_specials = select(func.jsonb_object_agg(SpecialDay.day, func.jsonb_build_object(
    "closed", SpecialDay.closed, "opens", SpecialDay.opens, "closes", SpecialDay.closes))).where(
    SpecialDay.store_id == Store.id,
    SpecialDay.day.between(bindparam("first_day", type_=Date), bindparam("last_day", type_=Date)))
_IN_BOX = select(Store.id, Store.lat, Store.lng, Store.timezone,
                 cast(Store.opening_hours, Text).label("hours_json"),  # decoded only for the stores checked
                 _specials.scalar_subquery().label("specials")).where(
    Store.lat.between(bindparam("min_lat", type_=Float), bindparam("max_lat", type_=Float)),
    Store.lng.between(bindparam("min_lng", type_=Float), bindparam("max_lng", type_=Float)))


async def in_box(session: AsyncSession, box: tuple[float, float, float, float], now: dt.datetime) -> Sequence:
    """Rows (id, lat, lng, timezone, hours_json, specials) of the stores in geo.bounding_box's
    `box`, for open_now at `now`: one statement."""
    min_lat, max_lat, min_lng, max_lng = box
    today = now.astimezone(dt.timezone.utc).date()
    return (await session.execute(_IN_BOX, {
        "min_lat": min_lat, "max_lat": max_lat, "min_lng": min_lng, "max_lng": max_lng,
        "first_day": today - dt.timedelta(days=2), "last_day": today + dt.timedelta(days=1)})).all()


def open_now(store, now: dt.datetime) -> bool:
    """Whether a store row from in_box is open at `now` (as open_at)."""
    specials = {dt.date.fromisoformat(day): hours_of for day, hours_of in (store.specials or {}).items()}
    return hours.is_open_at(now, store.timezone, _weekly(store.hours_json), specials)


@functools.lru_cache(maxsize=1024)
def _weekly(hours_json: str) -> list[dict]:
    """Weekly hours decoded once per distinct text (most stores share a few): read-only."""
    return json.loads(hours_json)


def _nearby_statement(*, with_service: bool, with_stock: bool):
    """The nearby query, built once with bind parameters so each call skips SQL construction.

    Index use: the GiST index on point(lng, lat) (ix_store_spot, with id, lat and lng: an
    index-only scan) walks the stores nearest first by planar distance in degrees (`<->`) inside
    the planar circle that holds the search circle (geo.planar_reach_deg), keeping those within
    the radius by the exact great-circle distance (haversine, as geo.distance_m), and stops after
    `cap` of them; those few are ranked by the exact distance. Planar order is not great-circle
    order (a degree of longitude is shorter than one of latitude), so each row also carries how
    many candidates were taken and the planar distance of the last: nearby_stores checks that no
    store left out can be nearer than the page's last (geo.nearest_beyond_m) and asks for more
    candidates otherwise. Only the stores on the page are read whole.
    """
    lat, lng = bindparam("lat", type_=Float), bindparam("lng", type_=Float)
    h = func.power(func.sin(func.radians(Store.lat - lat) / 2), 2) + func.cos(
        func.radians(lat)
    ) * func.cos(func.radians(Store.lat)) * func.power(func.sin(func.radians(Store.lng - lng) / 2), 2)
    distance = (2 * geo.EARTH_RADIUS_M * func.asin(func.least(1.0, func.sqrt(h)))).label("distance")
    spot = func.point(Store.lng, Store.lat)  # the expression ix_store_spot indexes
    planar = spot.op("<->", return_type=Float)(func.point(lng, lat))
    reach = func.circle(func.point(lng, lat), bindparam("reach", type_=Float))
    candidates = (
        select(Store.id, distance, planar.label("planar"))
        .where(spot.op("<@", is_comparison=True)(reach), distance <= bindparam("radius_m", type_=Float))
        .order_by(planar)
        .limit(bindparam("cap", type_=Integer))
    )
    if with_service:
        candidates = candidates.where(
            exists().where(
                StoreService.store_id == Store.id,
                StoreService.service_id == bindparam("service_id", type_=Integer),
                StoreService.active.is_(True),
            )
        )
    if with_stock:
        candidates = candidates.where(
            exists().where(
                StoreStock.store_id == Store.id,
                StoreStock.sku_id == bindparam("sku_id", type_=Integer),
                StoreStock.quantity > 0,
            )
        )
    taken = candidates.subquery("candidates")
    page = (
        select(taken.c.id, taken.c.distance, func.count().over().label("taken"),
               func.max(taken.c.planar).over().label("last_planar"))
        .order_by(taken.c.distance, taken.c.id)
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
        .subquery("nearest")
    )
    return (
        select(Store, page.c.distance, page.c.taken, page.c.last_planar)
        .join(page, page.c.id == Store.id)
        .order_by(page.c.distance, Store.id)
    )


# The four variants, built once (see above).
_NEARBY = {
    (service, stock): _nearby_statement(with_service=service, with_stock=stock)
    for service in (False, True) for stock in (False, True)
}


async def nearby_stores(
    session: AsyncSession,
    *,
    lat: float,
    lng: float,
    coord_system: str = "GCJ02",
    radius_m: int,
    first: int,
    service_id: int | None = None,
    in_stock_sku_id: int | None = None,
    open_now: bool = False,
    now: dt.datetime | None = None,
) -> list[tuple[Store, int]]:
    """Stores within radius_m, nearest first; optionally offering a service, holding a SKU."""
    check_coordinates(lat, lng, [])
    if not 0 < radius_m <= MAX_RADIUS_M:
        raise InvalidInput("radiusMeters must be 1 to {n}", n=MAX_RADIUS_M, field=["radiusMeters"])
    if not 0 < first <= MAX_NEARBY:
        raise InvalidInput("first must be 1 to {n}", n=MAX_NEARBY, field=["first"])
    lat, lng = to_gcj02(lat, lng, coord_system)
    widest = min(90.0, abs(lat) + math.degrees(radius_m / geo.EARTH_RADIUS_M))  # of any point in reach
    stmt = _NEARBY[(service_id is not None, in_stock_sku_id is not None)]
    params = {"lat": lat, "lng": lng, "reach": geo.planar_reach_deg(widest, radius_m), "radius_m": radius_m}
    if service_id is not None:
        params["service_id"] = service_id
    if in_stock_sku_id is not None:
        params["sku_id"] = in_stock_sku_id

    # Planar order takes about 1/cos(latitude) candidates per store of the page; a fifth more
    # and a few spare make a second round rare.
    spare = 1.2 / max(math.cos(math.radians(widest)), 0.05)

    async def page(limit: int, offset: int) -> list[tuple[Store, float]]:
        cap = math.ceil((offset + limit) * spare) + 8
        while True:
            rows = (await session.execute(stmt, {**params, "cap": cap, "limit": limit, "offset": offset})).all()
            # Complete when every candidate in the radius was taken, or when none left out can be
            # as near as the page's last.
            if not rows or rows[0].taken < cap or rows[-1].distance < geo.nearest_beyond_m(widest, rows[0].last_planar):
                return [(store, d) for store, d, _, _ in rows]
            cap *= 4

    if not open_now:
        return [(store, round(d)) for store, d in await page(first, 0)]

    # Open-now depends on each store's timezone and special days, so it is checked in Python
    # over the distance-ordered candidates, a page at a time, until `first` are found.
    now = now or utcnow()
    found: list[tuple[Store, int]] = []
    size, offset = 200, 0
    while len(found) < first:
        rows = await page(size, offset)
        if not rows:
            break
        offset += size
        open_ids = await open_at(session, [store for store, _ in rows], now)
        for store, d in rows:
            if store.id in open_ids:
                found.append((store, round(d)))
                if len(found) == first:
                    break
    return found
