"""Coordinates: WGS84 -> GCJ-02 conversion, great-circle distance, search bounding boxes."""
from __future__ import annotations

import math

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG), what great-circle distances use

# Krasovsky 1940 ellipsoid, which the GCJ-02 offset is defined on.
_A = 6_378_245.0
_EE = 0.006_693_421_622_965_943


def in_mainland_china(lat: float, lng: float) -> bool:
    # GCJ-02 only shifts points inside China; the usual rectangle test is what map SDKs use.
    return 0.8293 <= lat <= 55.8271 and 72.004 <= lng <= 137.8347


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lng(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    if not in_mainland_china(lat, lng):
        return lat, lng
    d_lat = _transform_lat(lng - 105.0, lat - 35.0)
    d_lng = _transform_lng(lng - 105.0, lat - 35.0)
    rad_lat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    d_lng = (d_lng * 180.0) / (_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return lat + d_lat, lng + d_lng


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle (haversine) distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def bounding_box(lat: float, lng: float, radius_m: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lng, max_lng) that contains every point within radius_m."""
    d_lat = math.degrees(radius_m / EARTH_RADIUS_M)
    min_lat, max_lat = max(-90.0, lat - d_lat), min(90.0, lat + d_lat)
    # Widest longitude span is at the latitude edge nearest a pole.
    widest = max(abs(min_lat), abs(max_lat))
    if widest >= 89.9:
        return min_lat, max_lat, -180.0, 180.0
    d_lng = math.degrees(radius_m / (EARTH_RADIUS_M * math.cos(math.radians(widest))))
    return min_lat, max_lat, max(-180.0, lng - d_lng), min(180.0, lng + d_lng)


def nearest_beyond_m(widest_lat: float, planar_deg: float) -> float:
    """A lower bound, in metres, of the great-circle distance between two points within
    `widest_lat` degrees of the equator whose planar distance in degrees, sqrt(Δlat² + Δlng²)
    (PostgreSQL's `point <-> point` on (lng, lat)), is at least `planar_deg`.

    hav(d/R) = hav(Δφ) + cos φ1 cos φ2 hav(Δλ) ≥ cos² φw (hav(Δφ) + hav(Δλ)) ≥ cos² φw hav(D),
    the last because hav(√t) is concave in t, so hav(a) + hav(b) ≥ hav(√(a² + b²)). It grows
    with D, so it holds for every point farther than `planar_deg` too.
    """
    shrink = math.cos(math.radians(min(90.0, abs(widest_lat))))
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, shrink * math.sin(math.radians(min(planar_deg, 180.0)) / 2)))


def planar_reach_deg(widest_lat: float, radius_m: float) -> float:
    """The planar distance in degrees that every point within radius_m stays inside (points
    within `widest_lat` of the equator): the inverse of nearest_beyond_m."""
    shrink = math.cos(math.radians(min(90.0, abs(widest_lat))))
    if shrink <= 0:
        return 360.0
    return math.degrees(2 * math.asin(min(1.0, math.sin(min(radius_m / EARTH_RADIUS_M, math.pi) / 2) / shrink)))
