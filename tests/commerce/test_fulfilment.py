"""Routing paid online orders to the places that ship, the life of a shipment, re-routing after a
rejection, and same-city delivery (API-NOTES "Fulfilment and returns")."""
import asyncio
import datetime as dt

import pytest
from sqlalchemy import select, update

from storelink.catalog.models import Sku, StoreStock
from storelink.fulfilment.models import RoutingRule as R, Shipment as ShipmentRow
from storelink.fulfilment.routing import Place, plan
from storelink.orders.checkout import expire_unpaid
from storelink.orders.models import Order as OrderRow
from tests.builders import UPSERT_STORE, WEEK, codes_of, pk_of

SHIPMENTS = """query($id: ID!) { node(id: $id) { ... on Order { status totalFen deliveryFeeFen refundedFen
  shipments { id status fromStore { code } lines { sku { code } quantity } carrier trackingNo } } } }"""
STORE_QUEUE = """query($s: ID!, $st: ShipmentStatus) { storeShipments(storeId: $s, status: $st) {
  id status order { orderNo } } }"""
STEP = {
    "pack": "mutation($id: ID!) { packShipment(id: $id) { shipment { status } userErrors { code field } } }",
    "ship": """mutation($id: ID!) { shipShipment(id: $id, carrier: "顺丰", trackingNo: "SF123") {
      shipment { status carrier trackingNo shippedAt } userErrors { code field } } }""",
    "deliver": "mutation($id: ID!) { markDelivered(id: $id) { shipment { status deliveredAt } userErrors { code field } } }",
    "reject": """mutation($id: ID!) { rejectShipment(id: $id, reason: "货品破损") {
      shipment { status rejectReason } userErrors { code field } } }""",
}
OPTIONS = """query($loc: GeoPointInput!) { deliveryOptions(location: $loc) { fulfilment feeFen etaMinutes
  fromStore { code } } }"""
SET_ROUTING = "mutation($r: [RoutingRule!]!) { setOrderRouting(rules: $r) }"

NEAR_S2 = {"lat": 31.23, "lng": 121.505}  # about 500 m from S2, 3.3 km from S1


async def ships(mall, code: str, *, radius: int = 0, hours=WEEK) -> None:
    lng = {"S1": 121.47, "S2": 121.50}[code]
    payload = await mall.api.data(UPSERT_STORE, {"input": {
        "code": code, "name": f"{code}店", "city": "上海", "address": "路", "lat": 31.23, "lng": lng,
        "openingHours": hours, "shipsOnlineOrders": True, "sameCityRadiusMeters": radius}}, mall.hq)
    assert payload["upsertStore"]["userErrors"] == []


async def stock_of(mall, sku: str, store: str | None = None) -> int:
    async with mall.sessionmaker() as session:
        if store is None:
            return (await session.get(Sku, pk_of(mall.skus[sku]))).online_stock
        return (await session.get(StoreStock, (pk_of(mall.skus[sku]), pk_of(mall.stores[store])))).quantity


async def paid_order(mall, token: str, *, key: str = "k1", items=(("SCARF-1", 1),), **input_) -> dict:
    for sku, quantity in items:
        assert (await mall.add(token, sku, quantity))["userErrors"] == []
    input_.setdefault("addressLocation", NEAR_S2)
    payload = await mall.checkout(token, key=key, **input_)
    assert payload["userErrors"] == [], payload
    await mall.pay(payload["order"])
    return payload["order"]


async def shipments_of(mall, token: str, order: dict) -> dict:
    return (await mall.api.data(SHIPMENTS, {"id": order["id"]}, token))["node"]


async def step(mall, name: str, shipment_id: str, token: str) -> dict:
    data = await mall.api.data(STEP[name], {"id": shipment_id}, token)
    return next(iter(data.values()))


# ---------------------------------------------------------------- the routing rule, place by place

def _places():
    # SKUs 1, 2, 3; the warehouse holds all; store 7 (near) holds 1 and 2; store 9 (far) all three.
    return [Place(None, None, {1: 5, 2: 5, 3: 5}), Place(7, 500.0, {1: 5, 2: 5}), Place(9, 9000.0, {1: 5, 2: 5, 3: 5})]


@pytest.mark.parametrize("rules, expected", [
    # the default: one parcel, from a store, the nearest that holds everything
    ([R.MINIMIZE_SPLIT, R.PREFER_STORES, R.CLOSEST], [(9, {1, 2, 3})]),
    ([R.MINIMIZE_SPLIT, R.PREFER_WAREHOUSE], [(None, {1, 2, 3})]),
    # closeness first: the near store takes what it holds, the rest goes on
    ([R.CLOSEST, R.MINIMIZE_SPLIT], [(7, {1, 2}), (9, {3})]),
    ([R.PREFER_WAREHOUSE, R.CLOSEST], [(None, {1, 2, 3})]),
    ([R.PREFER_STORES, R.CLOSEST, R.MINIMIZE_SPLIT], [(7, {1, 2}), (9, {3})]),
    ([R.PREFER_STORES, R.MINIMIZE_SPLIT, R.CLOSEST], [(9, {1, 2, 3})]),
])
def test_each_rule_order_routes_as_its_rules_say(rules, expected):
    # when
    parcels, left = plan(rules, {1: 1, 2: 1, 3: 1}, _places())
    # then
    assert [(p.store_id, set(lines)) for p, lines in parcels] == expected and left == {}


def test_minimize_split_splits_only_when_no_place_holds_everything():
    # given: nobody holds all three; store 9 holds two of them
    places = [Place(None, None, {3: 1}), Place(7, 100.0, {1: 1}), Place(9, 200.0, {1: 1, 2: 1})]
    # when
    parcels, left = plan([R.MINIMIZE_SPLIT, R.PREFER_STORES, R.CLOSEST], {1: 1, 2: 1, 3: 1}, places)
    # then: the one holding most goes first; a quantity short of the line does not count
    assert [(p.store_id, set(lines)) for p, lines in parcels] == [(9, {1, 2}), (None, {3})] and left == {}
    parcels, left = plan([R.MINIMIZE_SPLIT], {1: 2}, places)
    assert parcels == [] and left == {1: 2}


async def test_default_routing_ships_from_the_nearest_store_that_holds_every_line(mall):
    # given: both stores ship; alice lives next to S2
    await ships(mall, "S1")
    await ships(mall, "S2")
    alice = await mall.member("alice")
    # when
    order = await paid_order(mall, alice, items=(("SCARF-1", 1), ("COAT-M", 1)))
    # then: one parcel from S2, stock taken there only
    found = await shipments_of(mall, alice, order)
    assert [(s["status"], s["fromStore"]) for s in found["shipments"]] == [("ALLOCATED", {"code": "S2"})]
    assert await stock_of(mall, "SCARF-1", "S2") == 9 and await stock_of(mall, "SCARF-1", "S1") == 10
    assert await stock_of(mall, "SCARF-1") == 50


async def test_an_order_splits_only_when_no_place_holds_every_line(mall):
    # given: the warehouse has no coats; S1 has coats but no scarves; S2 scarves but no coats
    await ships(mall, "S1")
    await ships(mall, "S2")
    await mall.stock(mall.skus["COAT-M"], None, 0)
    await mall.stock(mall.skus["SCARF-1"], mall.stores["S1"], 0)
    await mall.stock(mall.skus["COAT-M"], mall.stores["S2"], 0)
    alice = await mall.member("alice")
    # when
    order = await paid_order(mall, alice, items=(("SCARF-1", 1), ("COAT-M", 1)))
    # then
    found = await shipments_of(mall, alice, order)
    parcels = sorted((s["fromStore"]["code"], [ln["sku"]["code"] for ln in s["lines"]]) for s in found["shipments"])
    assert parcels == [("S1", ["COAT-M"]), ("S2", ["SCARF-1"])]


async def test_hq_sets_the_rule_order_and_it_applies(mall):
    # given
    await ships(mall, "S2")
    alice = await mall.member("alice")
    # when
    assert (await mall.api.data(SET_ROUTING, {"r": ["PREFER_WAREHOUSE", "CLOSEST"]}, mall.hq)) == {
        "setOrderRouting": ["PREFER_WAREHOUSE", "CLOSEST"]}
    order = await paid_order(mall, alice)
    # then
    assert (await mall.api.data("query { orderRouting }", token=mall.hq))["orderRouting"] == [
        "PREFER_WAREHOUSE", "CLOSEST"]
    assert [s["fromStore"] for s in (await shipments_of(mall, alice, order))["shipments"]] == [None]


async def test_routing_rules_refuse_duplicates_and_non_hq(mall):
    # given
    manager = mall.managers["S1"]
    # when
    duplicate = await mall.api.post(SET_ROUTING, {"r": ["CLOSEST", "CLOSEST"]}, mall.hq)
    empty = await mall.api.post(SET_ROUTING, {"r": []}, mall.hq)
    by_manager = await mall.api.post(SET_ROUTING, {"r": ["CLOSEST"]}, manager)
    read_by_manager = await mall.api.post("query { orderRouting }", token=manager)
    # then
    assert duplicate["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert empty["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert by_manager["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert read_by_manager["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await mall.api.data("query { orderRouting }", token=mall.hq))["orderRouting"] == [
        "MINIMIZE_SPLIT", "PREFER_STORES", "CLOSEST"]


# ---------------------------------------------------------------- a shipment's life

async def test_a_parcel_goes_allocated_packed_shipped_delivered_and_the_order_follows(mall):
    # given: a paid order shipping from S2
    await ships(mall, "S2")
    alice = await mall.member("alice")
    order = await paid_order(mall, alice)
    staff = mall.managers["S2"]
    queue = (await mall.api.data(STORE_QUEUE, {"s": mall.stores["S2"], "st": "ALLOCATED"}, staff))["storeShipments"]
    assert [q["order"]["orderNo"] for q in queue] == [order["orderNo"]]
    shipment = queue[0]["id"]
    # when / then: each step in order; a step out of order is INVALID_STATE
    assert codes_of(await step(mall, "ship", shipment, staff)) == ["INVALID_STATE"]
    assert (await step(mall, "pack", shipment, staff))["shipment"]["status"] == "PACKED"
    assert codes_of(await step(mall, "pack", shipment, staff)) == ["INVALID_STATE"]
    assert codes_of(await step(mall, "deliver", shipment, alice)) == ["INVALID_STATE"]
    shipped = await step(mall, "ship", shipment, staff)
    assert shipped["shipment"]["status"] == "SHIPPED" and shipped["shipment"]["trackingNo"] == "SF123"
    assert (await shipments_of(mall, alice, order))["status"] == "SHIPPED"
    assert (await step(mall, "deliver", shipment, alice))["shipment"]["status"] == "DELIVERED"
    assert (await shipments_of(mall, alice, order))["status"] == "COMPLETED"
    assert (await mall.api.data(STORE_QUEUE, {"s": mall.stores["S2"], "st": "ALLOCATED"}, staff))["storeShipments"] == []


async def test_only_the_shipping_place_acts_on_a_parcel(mall):
    # given: one parcel from S2, one from the warehouse
    await ships(mall, "S2")
    alice, bob = await mall.member("alice"), await mall.member("bob", phone="13812345679")
    from_store = await paid_order(mall, alice)
    await mall.stock(mall.skus["TEE-S"], mall.stores["S2"], 0)
    await mall.stock(mall.skus["TEE-S"], mall.stores["S1"], 0)
    from_warehouse = await paid_order(mall, alice, key="k2", items=(("TEE-S", 1),))
    store_parcel = (await shipments_of(mall, alice, from_store))["shipments"][0]["id"]
    warehouse_parcel = (await shipments_of(mall, alice, from_warehouse))["shipments"][0]
    assert warehouse_parcel["fromStore"] is None
    # when / then
    assert codes_of(await step(mall, "pack", store_parcel, mall.managers["S1"])) == ["FORBIDDEN"]
    assert codes_of(await step(mall, "pack", warehouse_parcel["id"], mall.managers["S2"])) == ["FORBIDDEN"]
    assert codes_of(await step(mall, "pack", store_parcel, alice)) == ["FORBIDDEN"]
    assert (await step(mall, "pack", store_parcel, mall.managers["S2"]))["userErrors"] == []
    assert codes_of(await step(mall, "ship", store_parcel, mall.guides["guide-a"][1])) == ["FORBIDDEN"]
    assert codes_of(await step(mall, "reject", store_parcel, mall.managers["S1"])) == ["FORBIDDEN"]
    queue = await mall.api.post(STORE_QUEUE, {"s": mall.stores["S2"]}, mall.managers["S1"])
    assert queue["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await mall.api.post("query { warehouseShipments { id } }", token=mall.managers["S1"])
            )["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    warehouse = (await mall.api.data("query { warehouseShipments(status: ALLOCATED) { id } }", token=mall.hq))
    assert warehouse["warehouseShipments"] == [{"id": warehouse_parcel["id"]}]
    assert (await step(mall, "pack", warehouse_parcel["id"], mall.hq))["shipment"]["status"] == "PACKED"
    # another customer's parcel reads as missing, even to mark it delivered
    assert (await mall.api.data("query($id: ID!) { node(id: $id) { id } }", {"id": store_parcel}, bob))["node"] is None
    assert codes_of(await step(mall, "deliver", store_parcel, bob)) == ["NOT_FOUND"]


async def test_unpaid_orders_are_not_in_the_queue_and_expiry_gives_the_store_its_stock_back(mall, app):
    # given: an order routed to S2, not paid
    await ships(mall, "S2")
    alice = await mall.member("alice")
    await mall.add(alice, "SCARF-1", 2)
    order = (await mall.checkout(alice, addressLocation=NEAR_S2))["order"]
    assert await stock_of(mall, "SCARF-1", "S2") == 8
    assert (await mall.api.data(STORE_QUEUE, {"s": mall.stores["S2"]}, mall.managers["S2"]))["storeShipments"] == []
    # when: it expires
    async with mall.sessionmaker() as session:
        await session.execute(update(OrderRow).where(OrderRow.order_no == order["orderNo"])
                              .values(expires_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)))
        await session.commit()
    assert await expire_unpaid(app.state.sessionmaker) == 1
    # then
    assert await stock_of(mall, "SCARF-1", "S2") == 10 and await stock_of(mall, "SCARF-1") == 50
    async with mall.sessionmaker() as session:
        statuses = (await session.execute(select(ShipmentRow.status))).scalars().all()
    assert statuses == ["CANCELLED"]


async def test_a_rejected_parcel_goes_to_the_next_place_and_is_refunded_when_none_is_left(mall):
    # given: two scarves; S2 (nearest), then S1, then the warehouse could ship them
    await ships(mall, "S1")
    await ships(mall, "S2")
    alice = await mall.member("alice")
    order = await paid_order(mall, alice, items=(("SCARF-1", 2),))
    first = (await shipments_of(mall, alice, order))["shipments"][0]
    assert first["fromStore"] == {"code": "S2"}
    # when: S2 rejects
    rejected = await step(mall, "reject", first["id"], mall.managers["S2"])
    # then: its stock is back and S1 holds the parcel now
    assert rejected["shipment"] == {"status": "CANCELLED", "rejectReason": "货品破损"}
    assert await stock_of(mall, "SCARF-1", "S2") == 10 and await stock_of(mall, "SCARF-1", "S1") == 8
    found = await shipments_of(mall, alice, order)
    assert [(s["status"], s["fromStore"]) for s in found["shipments"]] == [
        ("CANCELLED", {"code": "S2"}), ("ALLOCATED", {"code": "S1"})]
    # when: S1 rejects too and the warehouse has none
    await mall.stock(mall.skus["SCARF-1"], None, 0)
    await step(mall, "reject", found["shipments"][1]["id"], mall.managers["S1"])
    # then: no place is left (S2 rejected before): the lines are refunded through the provider
    found = await shipments_of(mall, alice, order)
    assert [s["status"] for s in found["shipments"]] == ["CANCELLED", "CANCELLED"]
    assert (found["status"], found["refundedFen"]) == ("REFUNDED", order["totalFen"])
    assert await stock_of(mall, "SCARF-1", "S1") == 10
    # a rejected parcel cannot be rejected again
    assert codes_of(await step(mall, "reject", first["id"], mall.managers["S2"])) == ["INVALID_STATE"]


async def test_two_orders_for_the_last_unit_at_a_store_make_one_order(mall):
    # given: one coat left anywhere, at S2; twelve carts hold it
    await ships(mall, "S2")
    await mall.stock(mall.skus["COAT-L"], None, 0)
    await mall.stock(mall.skus["COAT-L"], mall.stores["S1"], 0)
    await mall.stock(mall.skus["COAT-L"], mall.stores["S2"], 1)
    tokens = [await mall.member(f"c{i}", phone=f"1381234{i:04d}") for i in range(12)]
    for token in tokens:
        assert (await mall.add(token, "COAT-L", 1))["userErrors"] == []
    # when
    results = await asyncio.gather(*(mall.checkout(t, key="last", addressLocation=NEAR_S2) for t in tokens))
    # then
    assert sorted(tuple(codes_of(r)) for r in results) == [()] + [("OUT_OF_STOCK",)] * 11
    assert await stock_of(mall, "COAT-L", "S2") == 0


async def test_concurrent_orders_across_places_never_oversell(mall):
    # given: 3 scarves in S1, 2 in S2, 1 in the warehouse; ten buyers of one each
    await ships(mall, "S1")
    await ships(mall, "S2")
    await mall.stock(mall.skus["SCARF-1"], mall.stores["S1"], 3)
    await mall.stock(mall.skus["SCARF-1"], mall.stores["S2"], 2)
    await mall.stock(mall.skus["SCARF-1"], None, 1)
    tokens = [await mall.member(f"b{i}", phone=f"1391234{i:04d}") for i in range(10)]
    for token in tokens:
        await mall.add(token, "SCARF-1", 1)
    # when
    results = await asyncio.gather(*(mall.checkout(t, key="one", addressLocation=NEAR_S2) for t in tokens))
    # then: exactly six orders, every unit taken once
    assert sorted(tuple(codes_of(r)) for r in results) == [()] * 6 + [("OUT_OF_STOCK",)] * 4
    assert [await stock_of(mall, "SCARF-1", s) for s in ("S1", "S2")] == [0, 0]
    assert await stock_of(mall, "SCARF-1") == 0
    async with mall.sessionmaker() as session:
        places = sorted((s or 0) for s in (await session.execute(select(ShipmentRow.from_store_id))).scalars())
    assert places == sorted([0] + [pk_of(mall.stores["S1"])] * 3 + [pk_of(mall.stores["S2"])] * 2)


# ---------------------------------------------------------------- same-city delivery

async def test_same_city_is_offered_only_from_an_open_store_in_reach_that_holds_every_line(mall):
    # given: S2 delivers within 2 km, S1 does no same-city delivery
    await ships(mall, "S1")
    await ships(mall, "S2", radius=2000)
    alice = await mall.member("alice")
    await mall.add(alice, "SCARF-1", 1)
    # when
    near = (await mall.api.data(OPTIONS, {"loc": NEAR_S2}, alice))["deliveryOptions"]
    far = (await mall.api.data(OPTIONS, {"loc": {"lat": 31.23, "lng": 121.40}}, alice))["deliveryOptions"]
    # then
    assert near == [
        {"fulfilment": "DELIVERY", "feeFen": 0, "etaMinutes": 2880, "fromStore": {"code": "S2"}},
        {"fulfilment": "SAME_CITY", "feeFen": 1500, "etaMinutes": 47, "fromStore": {"code": "S2"}},
    ]
    assert [o["fulfilment"] for o in far] == ["DELIVERY"]
    # when: S2 runs out of scarves, or is closed today
    await mall.stock(mall.skus["SCARF-1"], mall.stores["S2"], 0)
    assert [o["fulfilment"] for o in (await mall.api.data(OPTIONS, {"loc": NEAR_S2}, alice))["deliveryOptions"]] == [
        "DELIVERY"]
    await mall.stock(mall.skus["SCARF-1"], mall.stores["S2"], 5)
    await ships(mall, "S2", radius=2000, hours=[])
    assert [o["fulfilment"] for o in (await mall.api.data(OPTIONS, {"loc": NEAR_S2}, alice))["deliveryOptions"]] == [
        "DELIVERY"]


async def test_same_city_checkout_adds_the_fee_and_ships_from_the_nearby_store(mall):
    # given
    await ships(mall, "S2", radius=2000)
    alice = await mall.member("alice")
    # when
    order = await paid_order(mall, alice, fulfilment="SAME_CITY", address="上海市黄浦区外滩1号")
    # then: the fee is in the total, but earns no points
    found = await shipments_of(mall, alice, order)
    assert (found["totalFen"], found["deliveryFeeFen"]) == (39900 + 1500, 1500)
    assert [s["fromStore"] for s in found["shipments"]] == [{"code": "S2"}]
    assert (await mall.me(alice))["membership"]["points"] == 399


async def test_same_city_checkout_refuses_when_not_offered_and_bad_locations(mall):
    # given: no store delivers same-city
    alice = await mall.member("alice")
    await mall.add(alice, "SCARF-1", 1)
    # when
    unavailable = await mall.checkout(alice, fulfilment="SAME_CITY", address="外滩1号", addressLocation=NEAR_S2)
    no_location = await mall.checkout(alice, key="k2", fulfilment="SAME_CITY", address="外滩1号")
    bad = await mall.checkout(alice, key="k3", addressLocation={"lat": 91, "lng": 121.5})
    bad_options = await mall.api.post(OPTIONS, {"loc": {"lat": 31.2, "lng": 181}}, alice)
    staff_options = await mall.api.post(OPTIONS, {"loc": NEAR_S2}, mall.hq)
    at_the_pole = await mall.api.data(OPTIONS, {"loc": {"lat": 90, "lng": 180, "coordSystem": "WGS84"}}, alice)
    # then: nothing was written, the cart is intact
    assert codes_of(unavailable) == ["NOT_ELIGIBLE"]
    assert codes_of(no_location) == ["INVALID_INPUT"]
    assert codes_of(bad) == ["INVALID_INPUT"]
    assert bad_options["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert staff_options["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert [o["fulfilment"] for o in at_the_pole["deliveryOptions"]] == ["DELIVERY"]
    assert (await mall.me(alice))["cart"]["itemCount"] == 1
    assert await stock_of(mall, "SCARF-1") == 50
