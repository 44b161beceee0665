"""nearbyStores' nearest-first walk (stores.service): planar order in degrees differs from
great-circle order, most of all far from the equator; the answer must not."""
import pytest
from sqlalchemy import insert

from storelink.stores import geo
from storelink.stores.models import Store

NEARBY = """query($lat: Float!, $lng: Float!, $r: Int!, $first: Int!, $open: Boolean! = false) {
  nearbyStores(lat: $lat, lng: $lng, radiusMeters: $r, first: $first, openNow: $open) {
    distanceMeters store { code } } }"""
ROUND_THE_CLOCK = [{"weekday": d, "opens": "00:00", "closes": "24:00"} for d in range(1, 8)]
HERE = (80.0, 20.0)  # where a degree of longitude is 17% of one of latitude


def offset(metres_north: float, metres_east: float) -> tuple[float, float]:
    lat = HERE[0] + metres_north / geo.EARTH_RADIUS_M * 57.29578
    return lat, HERE[1] + metres_east / (geo.EARTH_RADIUS_M * 0.173648) * 57.29578  # cos 80°


async def add_stores(sessionmaker, spots: dict[str, tuple[float, float]]) -> None:
    async with sessionmaker() as session:
        await session.execute(insert(Store), [
            {"code": code, "name": code, "city": "北极", "address": "-", "lat": lat, "lng": lng,
             "timezone": "Europe/Oslo", "opening_hours": ROUND_THE_CLOCK} for code, (lat, lng) in spots.items()])
        await session.commit()


def nearest(spots: dict[str, tuple[float, float]], radius: float, first: int) -> list[tuple[str, int]]:
    ranked = sorted((geo.distance_m(*HERE, lat, lng), code) for code, (lat, lng) in spots.items())
    return [(code, round(d)) for d, code in ranked if d <= radius][:first]


@pytest.mark.parametrize("open_now", [False, True])
async def test_far_north_the_nearest_are_found_although_planar_order_puts_them_last(
        api, sessionmaker, count_statements, open_now):
    # given: 50 stores due east, 100 m apart, and 1,150 due north from 6 km, 20 m apart: the
    # nearest fifty are all east, while a degree of longitude is 17% of one of latitude, so
    # planar order puts the east ones from 1 km away behind the north ones up to 29 km
    spots = {f"E{i:03d}": offset(0, 100 * i) for i in range(1, 51)}
    spots |= {f"N{i:04d}": offset(6000 + 20 * i, 0) for i in range(1150)}
    await add_stores(sessionmaker, spots)
    variables = {"lat": HERE[0], "lng": HERE[1], "r": 30_000, "open": open_now}

    # when
    with count_statements() as few:
        five = (await api.data(NEARBY, {**variables, "first": 5}))["nearbyStores"]
    with count_statements() as many:
        fifty = (await api.data(NEARBY, {**variables, "first": 50}))["nearbyStores"]
    within = (await api.data(NEARBY, {**variables, "r": 1020, "first": 50}))["nearbyStores"]

    # then: the great-circle order, within the radius
    def found(page):
        return [(s["store"]["code"], s["distanceMeters"]) for s in page]
    assert found(five) == nearest(spots, 30_000, 5)
    assert found(fifty) == nearest(spots, 30_000, 50) and fifty[-1]["store"]["code"] == "E050"
    assert found(within) == nearest(spots, 1020, 50) and len(within) == 10
    if not open_now:  # the first candidates could not prove the page of fifty: one more statement
        assert many.count == few.count + 1
