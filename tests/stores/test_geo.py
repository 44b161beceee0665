from storelink.stores import geo


def test_wgs84_to_gcj02_shifts_points_in_china_by_the_known_offset():
    # given: Tiananmen in WGS84, whose GCJ-02 position map SDKs agree on to ~1e-5 degrees
    lat, lng = 39.90734, 116.39089

    # when
    g_lat, g_lng = geo.wgs84_to_gcj02(lat, lng)

    # then: the published conversion (about 130 m east/south-east)
    assert round(g_lat, 4) == 39.9087
    assert round(g_lng, 4) == 116.3971


def test_wgs84_outside_china_is_unchanged():
    # when / then
    assert geo.wgs84_to_gcj02(48.8584, 2.2945) == (48.8584, 2.2945)


def test_distance_matches_a_known_city_pair():
    # when
    # Shanghai People's Square to Beijing Tiananmen: about 1,067 km great-circle
    d = geo.distance_m(31.2304, 121.4737, 39.9087, 116.3975)
    # then
    assert 1_060_000 < d < 1_075_000


def test_bounding_box_contains_the_circle():
    # given
    lat, lng, r = 31.23, 121.47, 5000
    # when
    min_lat, max_lat, min_lng, max_lng = geo.bounding_box(lat, lng, r)
    # then
    # The four compass points at exactly r metres are inside the box.
    assert geo.distance_m(lat, lng, max_lat, lng) <= r + 1
    assert geo.distance_m(lat, lng, lat, max_lng) >= r - 1
    assert min_lat < lat < max_lat and min_lng < lng < max_lng


def test_nearest_beyond_is_a_lower_bound_of_the_great_circle_distance():
    # given: pairs of points a few degrees apart, from the equator to latitude 85
    import random
    rng = random.Random(7)
    pairs = []
    for _ in range(20_000):
        lat = rng.uniform(-85, 85)
        lng = rng.uniform(-170, 170)
        pairs.append((lat, lng, max(-89.0, min(89.0, lat + rng.uniform(-2, 2))), lng + rng.uniform(-6, 6)))

    # when
    ratios = []
    for lat1, lng1, lat2, lng2 in pairs:
        planar = ((lat2 - lat1) ** 2 + (lng2 - lng1) ** 2) ** 0.5
        bound = geo.nearest_beyond_m(max(abs(lat1), abs(lat2)), planar)
        ratios.append(bound / max(geo.distance_m(lat1, lng1, lat2, lng2), 1e-9))

    # then: never above the distance, and close to it where degrees of longitude are nearly full
    assert max(ratios) <= 1.0 + 1e-9
    near_equator = [r for (lat1, _, lat2, _), r in zip(pairs, ratios) if max(abs(lat1), abs(lat2)) < 10]
    assert min(near_equator) > 0.98
