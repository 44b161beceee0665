"""Returns in any channel at any store: the window, the refund's arithmetic with coupon and
points, restocking where the goods came back, and the bad and concurrent cases (API-NOTES
"Fulfilment and returns"). Refunds here go through the sandbox, which refunds at once; WeChat
Pay's refund API and notification are in test_payments.py."""
import asyncio
import datetime as dt

from sqlalchemy import update

from storelink.catalog.models import StoreStock
from storelink.fulfilment.models import Shipment as ShipmentRow
from storelink.orders.models import Order as OrderRow
from tests.builders import codes_of, pk_of

ORDER = """query($id: ID!) { node(id: $id) { ... on Order { id status totalFen refundedFen
  lines { id quantity returnedQuantity sku { code } }
  shipments { id }
  returns { id status refundFen reason receivedStore { code } lines { quantity orderLine { sku { code } } } } } } }"""
REQUEST = """mutation($o: ID!, $l: [ReturnLineInput!]!, $r: String! = "尺码不合适") {
  requestReturn(orderId: $o, lines: $l, reason: $r) {
    returnRequest { id status refundFen lines { quantity orderLine { sku { code } } } } userErrors { code field } } }"""
RECEIVE = """mutation($o: ID!, $s: ID!, $l: [ReturnLineInput!]!, $r: String! = "门店退货") {
  receiveReturn(orderId: $o, storeId: $s, lines: $l, reason: $r) {
    returnRequest { id status refundFen receivedStore { code } } userErrors { code field message } } }"""
KPI = "query($s: ID!, $d: Date!) { storeKpis(storeId: $s, from: $d, to: $d) { onlineGmvFen refundedFen } }"


async def order_of(mall, token: str, order_id: str) -> dict:
    return (await mall.api.data(ORDER, {"id": order_id}, token))["node"]


async def delivered_order(mall, token: str, items, *, key: str = "k1", **input_) -> dict:
    """Paid, shipped from the warehouse by HQ and delivered: ready to be returned."""
    for sku, quantity in items:
        assert (await mall.add(token, sku, quantity))["userErrors"] == []
    payload = await mall.checkout(token, key=key, **input_)
    assert payload["userErrors"] == [], payload
    await mall.pay(payload["order"])
    for shipment in (await order_of(mall, token, payload["order"]["id"]))["shipments"]:
        for mutation in ("packShipment(id: $id)", 'shipShipment(id: $id, carrier: "EMS", trackingNo: "E1")'):
            data = await mall.api.data(f"mutation($id: ID!) {{ {mutation} {{ userErrors {{ code }} }} }}",
                                       {"id": shipment["id"]}, mall.hq)
            assert next(iter(data.values()))["userErrors"] == []
        data = await mall.api.data("mutation($id: ID!) { markDelivered(id: $id) { userErrors { code } } }",
                                   {"id": shipment["id"]}, token)
        assert data["markDelivered"]["userErrors"] == []
    return await order_of(mall, token, payload["order"]["id"])


def line_id(order: dict, sku: str) -> str:
    return next(ln["id"] for ln in order["lines"] if ln["sku"]["code"] == sku)


async def store_stock(mall, sku: str, store: str) -> int:
    async with mall.sessionmaker() as session:
        return (await session.get(StoreStock, (pk_of(mall.skus[sku]), pk_of(mall.stores[store])))).quantity


async def receive(mall, token: str, order: dict, store: str, lines) -> dict:
    data = await mall.api.data(RECEIVE, {"o": order["id"], "s": mall.stores[store], "l": lines}, token)
    return data["receiveReturn"]


async def test_a_return_in_two_steps_refunds_the_paid_share_and_then_everything(mall):
    # given: alice earned 399 points, then paid 2,074.00 for a coat and two scarves with a 20-yuan
    # coupon and 300 points (subtotal 2,097.00), earning 2,074 points; delivered
    alice = await mall.member("alice")
    await delivered_order(mall, alice, [("SCARF-1", 1)], key="earn")
    coupon = (await mall.claim(alice, await mall.campaign(discountFen=2000)))["coupon"]["id"]
    order = await delivered_order(mall, alice, [("COAT-M", 1), ("SCARF-1", 2)], couponId=coupon, pointsToRedeem=300)
    assert (order["status"], order["totalFen"]) == ("COMPLETED", 207400)
    assert (await mall.me(alice))["membership"]["points"] == 399 - 300 + 2074
    # when: she asks to return one scarf, and brings it to S1
    asked = (await mall.api.data(REQUEST, {"o": order["id"], "l": [
        {"orderLineId": line_id(order, "SCARF-1"), "quantity": 1}]}, alice))["requestReturn"]
    assert asked["userErrors"] == [] and asked["returnRequest"]["status"] == "REQUESTED"
    received = await receive(mall, mall.managers["S1"], order, "S1",
                             [{"orderLineId": line_id(order, "SCARF-1"), "quantity": 1}])
    # then: her request is the one completed; the refund is the scarf's share of what was paid
    # (floor(207400 * 39900 / 209700)); points move in the same proportion
    assert received["userErrors"] == []
    assert received["returnRequest"] == {"id": asked["returnRequest"]["id"], "status": "REFUNDED",
                                         "refundFen": 39462, "receivedStore": {"code": "S1"}}
    after = await order_of(mall, alice, order["id"])
    assert (after["status"], after["refundedFen"]) == ("PARTIALLY_REFUNDED", 39462)
    assert {ln["sku"]["code"]: ln["returnedQuantity"] for ln in after["lines"]} == {"COAT-M": 0, "SCARF-1": 1}
    assert (await mall.me(alice))["membership"]["points"] == 2173 - 394 + 57
    assert await store_stock(mall, "SCARF-1", "S1") == 11
    # when: the rest comes back at S2 without a request
    rest = await receive(mall, mall.managers["S2"], order, "S2", [
        {"orderLineId": line_id(order, "SCARF-1"), "quantity": 1},
        {"orderLineId": line_id(order, "COAT-M"), "quantity": 1}])
    # then: everything paid is back, the points balance is where it was, the coupon usable again
    assert rest["returnRequest"]["refundFen"] == 207400 - 39462
    after = await order_of(mall, alice, order["id"])
    assert (after["status"], after["refundedFen"]) == ("REFUNDED", 207400)
    assert [r["status"] for r in after["returns"]] == ["REFUNDED", "REFUNDED"]
    assert (await mall.me(alice))["membership"]["points"] == 399
    coupons = await mall.api.data("query { me { coupons(status: AVAILABLE) { id } } }", token=alice)
    assert coupons["me"]["coupons"] == [{"id": coupon}]
    assert await store_stock(mall, "COAT-M", "S2") == 11
    # and the KPIs of the credited store count the refunds today
    today = dt.datetime.now(dt.timezone.utc).astimezone(dt.timezone(dt.timedelta(hours=8))).date().isoformat()
    kpi = (await mall.api.data(KPI, {"s": mall.stores["S1"], "d": today}, mall.hq))["storeKpis"]
    assert kpi["refundedFen"] == 207400


async def test_a_same_city_fee_comes_back_only_with_the_whole_order(mall):
    # given: two scarves delivered same-city for a 15-yuan fee
    from tests.commerce.test_fulfilment import NEAR_S2, ships

    await ships(mall, "S2", radius=2000)
    alice = await mall.member("alice")
    for _ in range(1):
        await mall.add(alice, "SCARF-1", 2)
    payload = await mall.checkout(alice, fulfilment="SAME_CITY", address="外滩1号", addressLocation=NEAR_S2)
    await mall.pay(payload["order"])
    order = await order_of(mall, alice, payload["order"]["id"])
    shipment = order["shipments"][0]["id"]
    for mutation in ("packShipment(id: $id)", 'shipShipment(id: $id, carrier: "闪送", trackingNo: "S1")'):
        await mall.api.data(f"mutation($id: ID!) {{ {mutation} {{ userErrors {{ code }} }} }}", {"id": shipment},
                            mall.managers["S2"])
    await mall.api.data("mutation($id: ID!) { markDelivered(id: $id) { userErrors { code } } }", {"id": shipment},
                        mall.managers["S2"])
    scarf = line_id(order, "SCARF-1")
    # when / then: the first scarf brings back its price only, the second its price and the fee
    first = await receive(mall, mall.managers["S2"], order, "S2", [{"orderLineId": scarf, "quantity": 1}])
    assert first["returnRequest"]["refundFen"] == 39900
    second = await receive(mall, mall.managers["S2"], order, "S2", [{"orderLineId": scarf, "quantity": 1}])
    assert second["returnRequest"]["refundFen"] == 39900 + 1500
    assert (await order_of(mall, alice, order["id"]))["refundedFen"] == 79800 + 1500


async def test_a_store_sale_comes_back_at_another_store_which_restocks(mall):
    # given: alice bought a scarf at S1's till
    alice = await mall.member("alice")
    sale = (await mall.record(mall.managers["S1"], memberCode=await mall.member_code(alice)))["order"]
    order = await order_of(mall, mall.hq, sale["id"])
    # when: she brings it to S2
    back = await receive(mall, mall.managers["S2"], order, "S2",
                         [{"orderLineId": line_id(order, "SCARF-1"), "quantity": 1}])
    # then
    assert back["userErrors"] == [] and back["returnRequest"]["receivedStore"] == {"code": "S2"}
    assert back["returnRequest"]["status"] == "REFUNDED"  # the till gives the money back
    assert await store_stock(mall, "SCARF-1", "S2") == 11
    assert (await order_of(mall, mall.hq, sale["id"]))["status"] == "REFUNDED"


async def test_returns_close_after_the_window_and_wait_for_delivery(mall):
    # given: one order delivered eight days ago, one not yet delivered
    alice = await mall.member("alice")
    old = await delivered_order(mall, alice, [("SCARF-1", 1)])
    async with mall.sessionmaker() as session:
        await session.execute(update(ShipmentRow).where(ShipmentRow.order_id == pk_of(old["id"]))
                              .values(delivered_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=8)))
        await session.commit()
    await mall.add(alice, "TEE-S", 1)
    pending = (await mall.checkout(alice, key="k2"))["order"]
    await mall.pay(pending)
    pending = await order_of(mall, alice, pending["id"])
    # when
    late = (await mall.api.data(REQUEST, {"o": old["id"], "l": [
        {"orderLineId": line_id(old, "SCARF-1"), "quantity": 1}]}, alice))["requestReturn"]
    late_at_till = await receive(mall, mall.managers["S1"], old, "S1",
                                 [{"orderLineId": line_id(old, "SCARF-1"), "quantity": 1}])
    early = (await mall.api.data(REQUEST, {"o": pending["id"], "l": [
        {"orderLineId": line_id(pending, "TEE-S"), "quantity": 1}]}, alice))["requestReturn"]
    # then
    assert codes_of(late) == ["RETURN_WINDOW_CLOSED"] and codes_of(late_at_till) == ["RETURN_WINDOW_CLOSED"]
    assert codes_of(early) == ["INVALID_STATE"]
    assert (await order_of(mall, alice, old["id"]))["returns"] == []


async def test_bad_returns_are_refused_and_change_nothing(mall):
    # given: alice's delivered order of two scarves; bob's order
    alice, bob = await mall.member("alice"), await mall.member("bob", phone="13812345679")
    order = await delivered_order(mall, alice, [("SCARF-1", 2)])
    other = await delivered_order(mall, bob, [("TEE-S", 1)])
    scarf = line_id(order, "SCARF-1")
    guide_s1 = mall.guides["guide-a"][1]

    async def ask(token, order_id, lines, reason="尺码不合适"):
        return (await mall.api.data(REQUEST, {"o": order_id, "l": lines, "r": reason}, token))["requestReturn"]

    # when / then
    assert codes_of(await ask(alice, order["id"], [{"orderLineId": scarf, "quantity": 3}])) == ["INVALID_INPUT"]
    assert codes_of(await ask(alice, order["id"], [{"orderLineId": scarf, "quantity": 0}])) == ["INVALID_INPUT"]
    assert codes_of(await ask(alice, order["id"], [{"orderLineId": scarf, "quantity": 2147483647}])) == ["INVALID_INPUT"]
    assert codes_of(await ask(alice, order["id"], [{"orderLineId": scarf, "quantity": 1}] * 2)) == ["INVALID_INPUT"]
    assert codes_of(await ask(alice, order["id"], [{"orderLineId": line_id(other, "TEE-S"), "quantity": 1}])) == [
        "NOT_FOUND"]
    assert codes_of(await ask(alice, order["id"], [{"orderLineId": "bad-id", "quantity": 1}])) == ["INVALID_INPUT"]
    assert codes_of(await ask(alice, order["id"], [{"orderLineId": scarf, "quantity": 1}], reason=" ")) == [
        "INVALID_INPUT"]
    assert codes_of(await ask(alice, order["id"], [])) == ["INVALID_INPUT"]
    assert codes_of(await ask(bob, order["id"], [{"orderLineId": scarf, "quantity": 1}])) == ["NOT_FOUND"]
    assert codes_of(await receive(mall, guide_s1, order, "S2", [{"orderLineId": scarf, "quantity": 1}])) == [
        "FORBIDDEN"]
    # one open request for both scarves leaves none to ask for again
    assert (await ask(alice, order["id"], [{"orderLineId": scarf, "quantity": 2}]))["userErrors"] == []
    assert codes_of(await ask(alice, order["id"], [{"orderLineId": scarf, "quantity": 1}])) == ["INVALID_INPUT"]
    after = await order_of(mall, alice, order["id"])
    assert (after["status"], after["refundedFen"], [r["status"] for r in after["returns"]]) == (
        "COMPLETED", 0, ["REQUESTED"])
    assert await store_stock(mall, "SCARF-1", "S2") == 10


async def test_the_same_line_returned_at_several_tills_at_once_is_taken_once(mall):
    # given: a scarf and a T-shirt delivered
    alice = await mall.member("alice")
    order = await delivered_order(mall, alice, [("SCARF-1", 1), ("TEE-S", 1)])
    lines = [{"orderLineId": line_id(order, "SCARF-1"), "quantity": 1}]
    tills = [("S1", mall.managers["S1"]), ("S2", mall.managers["S2"])] * 4
    # when
    results = await asyncio.gather(*(receive(mall, token, order, store, lines) for store, token in tills))
    # then: the others are told none is left of that line
    assert sorted(tuple(codes_of(r)) for r in results) == [()] + [("INVALID_INPUT",)] * 7
    after = await order_of(mall, alice, order["id"])
    assert (after["status"], after["refundedFen"], len(after["returns"])) == ("PARTIALLY_REFUNDED", 39900, 1)
    assert await store_stock(mall, "SCARF-1", "S1") + await store_stock(mall, "SCARF-1", "S2") == 21
    # and once the whole order is back, it is REFUNDED: nothing more can come back
    await receive(mall, mall.managers["S1"], order, "S1", [{"orderLineId": line_id(order, "TEE-S"), "quantity": 1}])
    assert codes_of(await receive(mall, mall.managers["S1"], order, "S1", lines)) == ["INVALID_STATE"]
    assert (await order_of(mall, alice, order["id"]))["status"] == "REFUNDED"


async def test_refund_order_of_an_unsent_delivery_gives_the_shipping_store_its_stock(mall):
    # given: an order routed to S2, paid, not yet packed
    from tests.commerce.test_fulfilment import NEAR_S2, ships

    await ships(mall, "S2")
    alice = await mall.member("alice")
    await mall.add(alice, "SCARF-1", 2)
    payload = await mall.checkout(alice, addressLocation=NEAR_S2)
    await mall.pay(payload["order"])
    assert await store_stock(mall, "SCARF-1", "S2") == 8
    # when
    data = await mall.api.data('mutation($id: ID!) { refundOrder(id: $id, reason: "顾客取消") { order { status refundedFen } userErrors { code } } }',
                               {"id": payload["order"]["id"]}, mall.hq)
    # then
    assert data["refundOrder"]["order"] == {"status": "REFUNDED", "refundedFen": 79800}
    assert await store_stock(mall, "SCARF-1", "S2") == 10
    async with mall.sessionmaker() as session:
        assert (await session.get(OrderRow, pk_of(payload["order"]["id"]))).refunded_fen == 79800
