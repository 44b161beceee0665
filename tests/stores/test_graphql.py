import datetime as dt

import pytest
from sqlalchemy import func, select

from storelink.graphql.relay import to_global_id
from storelink.stores import geo
from storelink.stores.models import SpecialDay, Store
from tests.builders import codes_of, pk_of, top_level_codes

UPSERT_STORE = """
mutation($input: StoreInput!) {
  upsertStore(input: $input) {
    store { id code name location { lat lng } timezone openingHours { weekday opens closes } }
    userErrors { code field message }
  }
}
"""
SPECIAL_DAY = """
mutation($input: SpecialDayInput!) {
  setSpecialDay(input: $input) { store { id } userErrors { code field } }
}
"""
UPSERT_SERVICE = """
mutation($input: ServiceTypeInput!) {
  upsertServiceType(input: $input) { serviceType { id name durationMinutes } userErrors { code field } }
}
"""
CONFIGURE = """
mutation($input: StoreServiceInput!) {
  configureStoreService(input: $input) { store { id services { id name } } userErrors { code field } }
}
"""
CREATE_STAFF = """
mutation($input: CreateStaffInput!) {
  createStaff(input: $input) { staff { id name role store { code } } userErrors { code field } }
}
"""
NEARBY = """
query($lat: Float!, $lng: Float!, $r: Int! = 10000, $first: Int! = 20, $serviceId: ID,
      $openNow: Boolean! = false, $cs: CoordSystem! = GCJ02, $sku: ID) {
  nearbyStores(lat: $lat, lng: $lng, radiusMeters: $r, first: $first, serviceId: $serviceId,
               openNow: $openNow, coordSystem: $cs, inStockSkuId: $sku) {
    distanceMeters store { code }
  }
}
"""
ALL_WEEK = [{"weekday": d, "opens": "10:00", "closes": "22:00"} for d in range(1, 8)]
ROUND_THE_CLOCK = [{"weekday": d, "opens": "00:00", "closes": "24:00"} for d in range(1, 8)]

def store_input(code="SH-001", lat=31.2304, lng=121.4737, **extra):
    return {"code": code, "name": f"店 {code}", "city": "上海", "address": "人民广场", "lat": lat,
            "lng": lng, "openingHours": ALL_WEEK, **extra}


async def make_store(api, token, **kw) -> dict:
    payload = (await api.data(UPSERT_STORE, {"input": store_input(**kw)}, token))["upsertStore"]
    assert payload["userErrors"] == [], payload
    return payload["store"]

async def count_stores(sessionmaker) -> int:
    async with sessionmaker() as session:
        return (await session.execute(select(func.count()).select_from(Store))).scalar_one()

# ------------------------------------------------------------------ upsertStore

async def test_hq_creates_and_then_updates_a_store_by_code(api, world, sessionmaker):
    # given
    _, hq = await world.staff("hq-root")
    created = await make_store(api, hq)
    # when
    updated = await make_store(api, hq, name="ignored", lat=31.24)
    # then
    assert created["id"] == updated["id"]
    assert updated["location"] == {"lat": 31.24, "lng": 121.4737}
    assert await count_stores(sessionmaker) == 1

async def test_a_store_ships_online_orders_and_delivers_same_city_only_when_told(api, world):
    # given
    _, hq = await world.staff("hq-root")
    fields = "{ upsertStore(input: $input) { store { shipsOnlineOrders sameCityRadiusMeters } userErrors { code } } }"
    query = "mutation($input: StoreInput!) " + fields
    # when: created without, then updated with, then updated without again
    plain = (await api.data(query, {"input": store_input()}, hq))["upsertStore"]["store"]
    shipping = (await api.data(query, {"input": store_input(shipsOnlineOrders=True, sameCityRadiusMeters=5000)},
                               hq))["upsertStore"]["store"]
    back = (await api.data(query, {"input": store_input()}, hq))["upsertStore"]["store"]
    # then (the input's defaults are the contract's: no shipping, no same-city)
    assert plain == back == {"shipsOnlineOrders": False, "sameCityRadiusMeters": 0}
    assert shipping == {"shipsOnlineOrders": True, "sameCityRadiusMeters": 5000}


async def test_wgs84_input_is_stored_as_gcj02(api, world):
    # given
    _, hq = await world.staff("hq-root")
    # when
    store = await make_store(api, hq, lat=39.90734, lng=116.39089, coordSystem="WGS84")
    expected = geo.wgs84_to_gcj02(39.90734, 116.39089)
    # then
    assert store["location"] == {"lat": pytest.approx(expected[0]), "lng": pytest.approx(expected[1])}

@pytest.mark.parametrize(
    "override, field",
    [
        ({"lat": 91.0}, ["input", "lat"]),
        ({"lat": -90.5}, ["input", "lat"]),
        ({"lng": 181.0}, ["input", "lng"]),
        ({"timezone": "Mars/Olympus"}, ["input", "timezone"]),
        ({"openingHours": [{"weekday": 8, "opens": "10:00", "closes": "22:00"}]},
         ["input", "openingHours", "0", "weekday"]),
        ({"openingHours": [{"weekday": 1, "opens": "10am", "closes": "22:00"}]},
         ["input", "openingHours", "0", "opens"]),
        ({"code": "has space"}, ["input", "code"]),
        ({"code": "x" * 33}, ["input", "code"]),
        ({"name": "  "}, ["input", "name"]),
        ({"sameCityRadiusMeters": -1}, ["input", "sameCityRadiusMeters"]),
        ({"sameCityRadiusMeters": 50_001}, ["input", "sameCityRadiusMeters"]),
    ],
)
async def test_bad_store_input_is_refused_and_changes_nothing(api, world, sessionmaker, override, field):
    # given
    _, hq = await world.staff("hq-root")
    # when
    payload = (await api.data(UPSERT_STORE, {"input": {**store_input(), **override}}, hq))["upsertStore"]
    # then
    assert codes_of(payload) == ["INVALID_INPUT"]
    assert payload["userErrors"][0]["field"] == field
    assert payload["store"] is None
    assert await count_stores(sessionmaker) == 0

async def test_only_hq_may_upsert_stores(api, world, sessionmaker):
    # given
    _, hq = await world.staff("hq-root")
    store = await make_store(api, hq)
    _, manager = await world.staff("mgr", "STORE_MANAGER", pk_of(store["id"]))
    _, guide = await world.staff("guide", "GUIDE", pk_of(store["id"]))
    customer, _ = await world.customer()
    # when / then
    for token, expected in [(manager, "FORBIDDEN"), (guide, "FORBIDDEN"), (customer, "FORBIDDEN"),
                            (None, "UNAUTHENTICATED")]:
        payload = (await api.data(UPSERT_STORE, {"input": store_input(code="NEW")}, token))["upsertStore"]
        assert codes_of(payload) == [expected]
    assert await count_stores(sessionmaker) == 1

# ------------------------------------------------------------------ special days

async def test_special_days_by_manager_of_own_store_only(api, world, sessionmaker):
    # given
    _, hq = await world.staff("hq-root")
    mine = await make_store(api, hq, code="MINE")
    other = await make_store(api, hq, code="OTHER")
    _, manager = await world.staff("mgr", "STORE_MANAGER", pk_of(mine["id"]))
    day = {"date": "2026-12-25", "closed": True}

    # when
    ok = (await api.data(SPECIAL_DAY, {"input": {"storeId": mine["id"], **day}}, manager))["setSpecialDay"]
    refused = (await api.data(SPECIAL_DAY, {"input": {"storeId": other["id"], **day}}, manager))["setSpecialDay"]

    # then
    assert ok["userErrors"] == []
    assert codes_of(refused) == ["FORBIDDEN"]
    async with sessionmaker() as session:
        rows = (await session.execute(select(SpecialDay.store_id))).scalars().all()
    assert rows == [pk_of(mine["id"])]

@pytest.mark.parametrize(
    "day, field",
    [
        ({"closed": False, "opens": "10:00"}, ["input", "closes"]),
        ({"closed": False, "opens": "10:00", "closes": "10:00"}, ["input", "closes"]),
        ({"closed": True, "opens": "10:00", "closes": "12:00"}, ["input", "opens"]),
    ],
)
async def test_bad_special_days(api, world, day, field):
    # given
    _, hq = await world.staff("hq-root")
    store = await make_store(api, hq)
    # when
    payload = (await api.data(SPECIAL_DAY, {"input": {"storeId": store["id"], "date": "2026-12-25", **day}}, hq))
    # then
    assert payload["setSpecialDay"]["userErrors"] == [{"code": "INVALID_INPUT", "field": field}]

async def test_unknown_and_foreign_ids_are_not_found(api, world):
    # given
    _, hq = await world.staff("hq-root")
    store = await make_store(api, hq)
    day = {"date": "2026-12-25", "closed": True}
    # when / then
    for gid, expected in [(to_global_id("Store", 999), "NOT_FOUND"),
                          (to_global_id("Staff", pk_of(store["id"])), "NOT_FOUND"),
                          ("%%%garbage", "INVALID_INPUT")]:
        payload = (await api.data(SPECIAL_DAY, {"input": {"storeId": gid, **day}}, hq))["setSpecialDay"]
        assert payload["userErrors"] == [{"code": expected, "field": ["input", "storeId"]}]

# ------------------------------------------------------------------ services

async def test_service_types_and_store_configuration(api, world):
    # given
    _, hq = await world.staff("hq-root")
    store = await make_store(api, hq)
    service = (await api.data(UPSERT_SERVICE, {"input": {"code": "FIT", "name": "试衣", "durationMinutes": 30}}, hq))
    service = service["upsertServiceType"]["serviceType"]
    _, manager = await world.staff("mgr", "STORE_MANAGER", pk_of(store["id"]))

    # when
    payload = (await api.data(CONFIGURE, {"input": {"storeId": store["id"], "serviceId": service["id"],
                                                    "capacity": 3}}, manager))["configureStoreService"]
    # then
    assert payload["userErrors"] == []
    assert payload["store"]["services"] == [{"id": service["id"], "name": "试衣"}]

    # when
    withdrawn = (await api.data(CONFIGURE, {"input": {"storeId": store["id"], "serviceId": service["id"],
                                                      "capacity": 3, "active": False}}, manager))
    # then
    assert withdrawn["configureStoreService"]["store"]["services"] == []

@pytest.mark.parametrize("minutes", [0, -15, 24 * 60])
async def test_service_duration_must_be_positive_and_sane(api, world, minutes):
    # given
    _, hq = await world.staff("hq-root")
    # when
    payload = (await api.data(UPSERT_SERVICE, {"input": {"code": "FIT", "name": "试衣", "durationMinutes": minutes}}, hq))
    # then
    assert payload["upsertServiceType"]["userErrors"] == [{"code": "INVALID_INPUT", "field": ["input", "durationMinutes"]}]

@pytest.mark.parametrize(
    "override, field",
    [({"capacity": 0}, "capacity"), ({"slotIntervalMinutes": 0}, "slotIntervalMinutes"),
     ({"bookingWindowDays": 0}, "bookingWindowDays"), ({"minNoticeMinutes": -1}, "minNoticeMinutes"),
     ({"cancelCutoffMinutes": -5}, "cancelCutoffMinutes")],
)
async def test_bad_store_service_settings(api, world, override, field):
    # given
    _, hq = await world.staff("hq-root")
    store = await make_store(api, hq)
    service = (await api.data(UPSERT_SERVICE, {"input": {"code": "FIT", "name": "试衣", "durationMinutes": 30}}, hq))
    sid = service["upsertServiceType"]["serviceType"]["id"]
    # when
    payload = (await api.data(CONFIGURE, {"input": {"storeId": store["id"], "serviceId": sid, "capacity": 2,
                                                    **override}}, hq))["configureStoreService"]
    # then
    assert payload["userErrors"] == [{"code": "INVALID_INPUT", "field": ["input", field]}]

async def test_guides_cannot_configure_services(api, world):
    # given
    _, hq = await world.staff("hq-root")
    store = await make_store(api, hq)
    service = (await api.data(UPSERT_SERVICE, {"input": {"code": "FIT", "name": "试衣", "durationMinutes": 30}}, hq))
    sid = service["upsertServiceType"]["serviceType"]["id"]
    _, guide = await world.staff("guide", "GUIDE", pk_of(store["id"]))
    # when
    payload = (await api.data(CONFIGURE, {"input": {"storeId": store["id"], "serviceId": sid, "capacity": 2}}, guide))
    # then
    assert codes_of(payload["configureStoreService"]) == ["FORBIDDEN"]
    # when
    as_guide = (await api.data(UPSERT_SERVICE, {"input": {"code": "X", "name": "x", "durationMinutes": 5}}, guide))
    # then
    assert codes_of(as_guide["upsertServiceType"]) == ["FORBIDDEN"]

# ------------------------------------------------------------------ staff accounts

async def test_store_manager_creates_guides_of_own_store_only(api, world):
    # given
    _, hq = await world.staff("hq-root")
    mine = await make_store(api, hq, code="MINE")
    other = await make_store(api, hq, code="OTHER")
    _, manager = await world.staff("mgr", "STORE_MANAGER", pk_of(mine["id"]))

    def staff_input(username, role, store):
        return {"input": {"username": username, "password": "long-enough-pw", "name": "小王",
                          "role": role, "storeId": store}}

    # when
    ok = (await api.data(CREATE_STAFF, staff_input("guide-1", "GUIDE", mine["id"]), manager))["createStaff"]
    # then
    assert ok["userErrors"] == [] and ok["staff"]["store"] == {"code": "MINE"}
    # when / then
    for args in [staff_input("guide-2", "GUIDE", other["id"]),
                 staff_input("mgr-2", "STORE_MANAGER", mine["id"]),
                 staff_input("hq-2", "HQ_ADMIN", None)]:
        assert codes_of((await api.data(CREATE_STAFF, args, manager))["createStaff"]) == ["FORBIDDEN"]

@pytest.mark.parametrize(
    "override, code, field",
    [({"username": "ab"}, "INVALID_INPUT", "username"),
     ({"username": "white space"}, "INVALID_INPUT", "username"),
     ({"password": "short"}, "INVALID_INPUT", "password"),
     ({"name": " "}, "INVALID_INPUT", "name"),
     ({"role": "GUIDE", "storeId": None}, "INVALID_INPUT", "storeId"),
     ({"username": "hq-root"}, "CONFLICT", "username")],
)
async def test_bad_staff_input(api, world, override, code, field):
    # given
    _, hq = await world.staff("hq-root")
    args = {"username": "new-admin", "password": "long-enough-pw", "name": "总部", "role": "HQ_ADMIN",
            **override}
    # when
    payload = (await api.data(CREATE_STAFF, {"input": args}, hq))["createStaff"]
    # then
    assert payload["userErrors"] == [{"code": code, "field": ["input", field]}]

async def test_hq_admins_have_no_store(api, world):
    # given
    _, hq = await world.staff("hq-root")
    store = await make_store(api, hq)
    args = {"username": "hq-2", "password": "long-enough-pw", "name": "总部", "role": "HQ_ADMIN",
            "storeId": store["id"]}
    # when
    payload = (await api.data(CREATE_STAFF, {"input": args}, hq))["createStaff"]
    # then
    assert payload["userErrors"] == [{"code": "INVALID_INPUT", "field": ["input", "storeId"]}]

# ------------------------------------------------------------------ nearby stores

async def _city(api, world):
    """Stores due east of People's Square at 0, 1, 2, 3 and 20 km."""
    _, hq = await world.staff("hq-root")
    lat, lng = 31.2304, 121.4737
    for i, km in enumerate([3, 1, 0, 2, 20]):
        d_lng = km * 1000 / (geo.EARTH_RADIUS_M * 0.8549) * 57.29578  # cos(31.23°) ≈ 0.8549
        await make_store(api, hq, code=f"S{km}", lat=lat, lng=lng + d_lng,
                         openingHours=ROUND_THE_CLOCK if km != 1 else ALL_WEEK)
    return hq, lat, lng

async def test_nearby_orders_by_distance_and_honours_radius_and_first(api, world):
    # given
    _, lat, lng = await _city(api, world)

    # when
    within_5km = (await api.data(NEARBY, {"lat": lat, "lng": lng, "r": 5000}))["nearbyStores"]
    first_two = (await api.data(NEARBY, {"lat": lat, "lng": lng, "first": 2}))["nearbyStores"]

    # then
    assert [s["store"]["code"] for s in within_5km] == ["S0", "S1", "S2", "S3"]
    assert [s["distanceMeters"] for s in within_5km] == pytest.approx([0, 1000, 2000, 3000], abs=2)
    assert [s["store"]["code"] for s in first_two] == ["S0", "S1"]

async def test_nearby_converts_wgs84_positions(api, world):
    # given
    _, hq = await world.staff("hq-root")
    gcj = geo.wgs84_to_gcj02(31.2304, 121.4737)
    await make_store(api, hq, code="HERE", lat=gcj[0], lng=gcj[1])
    as_wgs = (await api.data(NEARBY, {"lat": 31.2304, "lng": 121.4737, "cs": "WGS84"}))["nearbyStores"]
    # when
    as_gcj = (await api.data(NEARBY, {"lat": 31.2304, "lng": 121.4737}))["nearbyStores"]
    # then
    assert as_wgs[0]["distanceMeters"] == 0
    assert as_gcj[0]["distanceMeters"] > 400  # the raw WGS84 point is ~500 m off in Shanghai

async def test_nearby_filters_by_service(api, world):
    # given
    hq, lat, lng = await _city(api, world)
    service = (await api.data(UPSERT_SERVICE, {"input": {"code": "FIT", "name": "试衣", "durationMinutes": 30}}, hq))
    sid = service["upsertServiceType"]["serviceType"]["id"]
    near = (await api.data(NEARBY, {"lat": lat, "lng": lng}))["nearbyStores"]
    s2 = next(s for s in near if s["store"]["code"] == "S2")
    # when
    store_id = (await api.data("query($lat: Float!, $lng: Float!) { nearbyStores(lat: $lat, lng: $lng) { store { id code } } }",
                               {"lat": lat, "lng": lng}))["nearbyStores"][2]["store"]
    # then
    assert store_id["code"] == s2["store"]["code"]
    # when
    await api.data(CONFIGURE, {"input": {"storeId": store_id["id"], "serviceId": sid, "capacity": 1}}, hq)

    found = (await api.data(NEARBY, {"lat": lat, "lng": lng, "serviceId": sid}))["nearbyStores"]
    # then
    assert [s["store"]["code"] for s in found] == ["S2"]

async def test_nearby_open_now_uses_hours_and_special_days(api, world, sessionmaker):
    _, lat, lng = await _city(api, world)
    # given: S0 closed today by a special day; S1 keeps 10:00-22:00 (open or not by the clock)
    async with sessionmaker() as session:
        s0 = (await session.execute(select(Store).where(Store.code == "S0"))).scalar_one()
        today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
        session.add(SpecialDay(store_id=s0.id, day=today, closed=True))
        await session.commit()
    local_hour = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).hour

    # when
    found = (await api.data(NEARBY, {"lat": lat, "lng": lng, "r": 5000, "openNow": True}))["nearbyStores"]

    # then
    expected = ["S1", "S2", "S3"] if 10 <= local_hour < 22 else ["S2", "S3"]
    assert [s["store"]["code"] for s in found] == expected

@pytest.mark.parametrize(
    "args, field",
    [({"lat": 95.0, "lng": 121.0}, "lat"), ({"lat": 31.0, "lng": -200.0}, "lng"),
     ({"lat": 31.0, "lng": 121.0, "r": 0}, "radiusMeters"),
     ({"lat": 31.0, "lng": 121.0, "r": -10}, "radiusMeters"),
     ({"lat": 31.0, "lng": 121.0, "r": 5_000_000}, "radiusMeters"),
     ({"lat": 31.0, "lng": 121.0, "first": 51}, "first"),
     ({"lat": 31.0, "lng": 121.0, "first": 0}, "first"),
     ({"lat": 31.0, "lng": 121.0, "serviceId": "%%bad"}, "serviceId")],
)
async def test_nearby_bad_input_is_a_clean_top_level_error(api, args, field):
    # when
    body = await api.post(NEARBY, args)
    # then
    assert body["data"] is None
    assert top_level_codes(body) == ["INVALID_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == [field]

async def test_nearby_with_a_sku_is_empty_until_the_catalog_exists(api, world):
    # given
    _, lat, lng = await _city(api, world)
    # when
    found = (await api.data(NEARBY, {"lat": lat, "lng": lng, "sku": to_global_id("Sku", 1)}))["nearbyStores"]
    # then
    assert found == []

async def test_nearby_list_does_not_grow_queries_with_the_list(api, world, count_statements):
    # given: a request reading each store's services and open state
    hq, lat, lng = await _city(api, world)
    service = (await api.data(UPSERT_SERVICE, {"input": {"code": "FIT", "name": "试衣", "durationMinutes": 30}}, hq))
    sid = service["upsertServiceType"]["serviceType"]["id"]
    query = """query($first: Int!) { nearbyStores(lat: %f, lng: %f, radiusMeters: 50000, first: $first) {
      store { id services { name } isOpenAt(at: "2026-11-23T12:00:00+08:00") } } }""" % (lat, lng)
    for s in (await api.data(query, {"first": 5}))["nearbyStores"]:
        await api.data(CONFIGURE, {"input": {"storeId": s["store"]["id"], "serviceId": sid, "capacity": 1}}, hq)

    # when
    with count_statements() as one:
        assert len((await api.data(query, {"first": 1}))["nearbyStores"]) == 1
    with count_statements() as five:
        assert len((await api.data(query, {"first": 5}))["nearbyStores"]) == 5

    # then
    assert five.count == one.count == 3

# ------------------------------------------------------------------ store, node and isOpenAt

async def test_store_and_node_resolve_stores_for_anyone(api, world):
    # given
    _, hq = await world.staff("hq-root")
    store = await make_store(api, hq)
    query = """query($id: ID!) { store(id: $id) { code isOpenAt(at: "2026-11-23T23:00:00+08:00") }
                                 node(id: $id) { id ... on Store { code } } }"""
    # when
    data = await api.data(query, {"id": store["id"]})
    # then
    assert data == {"store": {"code": "SH-001", "isOpenAt": False}, "node": {"id": store["id"], "code": "SH-001"}}

async def test_is_open_at_needs_an_offset(api, world):
    # given
    _, hq = await world.staff("hq-root")
    store = await make_store(api, hq)
    # when
    body = await api.post('query($id: ID!) { store(id: $id) { isOpenAt(at: "2026-11-23T12:00:00") } }',
                          {"id": store["id"]})
    # then
    assert top_level_codes(body) == ["INVALID_INPUT"]

async def test_node_applies_the_same_checks_as_the_typed_fields(api, world):
    # given
    _, hq = await world.staff("hq-root")
    mine = await make_store(api, hq, code="MINE")
    other = await make_store(api, hq, code="OTHER")
    colleague, _ = await world.staff("colleague", "GUIDE", pk_of(mine["id"]))
    stranger, _ = await world.staff("stranger", "GUIDE", pk_of(other["id"]))
    _, guide = await world.staff("guide", "GUIDE", pk_of(mine["id"]))
    customer, login = await world.customer()
    query = "query($id: ID!) { node(id: $id) { id ... on Staff { name } } }"

    # when
    same_store = await api.post(query, {"id": to_global_id("Staff", colleague.id)}, guide)
    other_store = await api.post(query, {"id": to_global_id("Staff", stranger.id)}, guide)
    as_customer = await api.post(query, {"id": to_global_id("Staff", colleague.id)}, customer)
    anonymous = await api.post(query, {"id": to_global_id("Staff", colleague.id)})
    own_customer = await api.post(query, {"id": login["customer"]["id"]}, customer)
    someone_else = await api.post(query, {"id": to_global_id("Customer", 999)}, customer)
    guide_reads_customer = await api.post(query, {"id": login["customer"]["id"]}, guide)
    unknown = await api.post(query, {"id": to_global_id("Store", 424242)})
    malformed = await api.post(query, {"id": "@@@"})

    # then
    assert same_store["data"]["node"]["name"] == "colleague"
    assert top_level_codes(other_store) == ["FORBIDDEN"] and other_store["data"]["node"] is None
    assert top_level_codes(as_customer) == ["FORBIDDEN"]
    assert top_level_codes(anonymous) == ["UNAUTHENTICATED"]
    assert own_customer["data"]["node"]["id"] == login["customer"]["id"]
    assert someone_else == {"data": {"node": None}}  # to a customer, someone else's reads as missing
    assert top_level_codes(guide_reads_customer) == ["FORBIDDEN"]
    assert unknown == {"data": {"node": None}}
    assert top_level_codes(malformed) == ["INVALID_INPUT"]

async def test_staff_me_shows_the_store(api, world):
    # given
    _, hq = await world.staff("hq-root")
    store = await make_store(api, hq)
    _, guide = await world.staff("guide", "GUIDE", pk_of(store["id"]))
    # when
    data = await api.data("{ staffMe { role store { code } } }", token=guide)
    # then
    assert data == {"staffMe": {"role": "GUIDE", "store": {"code": "SH-001"}}}
