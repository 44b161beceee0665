"""Live events over a real WebSocket (graphql-transport-ws) against a running server: the event is
produced by another app (another connection pool, as another process would), reaches the
subscriber only after commit, and only subscribers allowed to see it."""
from __future__ import annotations

import asyncio

from storelink.app import create_app
from storelink.db import transaction
from storelink.live import bus as live
from tests.builders import pk_of
from tests.conftest import serving
from tests.live.common import MY_EVENTS, STORE_EVENTS, Subscriber


async def test_a_store_tablet_sees_a_member_join_as_it_happens(mall, live_server):
    # given guide-a's tablet following store S1
    tablet = await Subscriber.connect(live_server, mall.guides["guide-a"][1])
    assert await tablet.acknowledged()
    await tablet.subscribe(STORE_EVENTS, {"s": mall.stores["S1"]})
    await asyncio.sleep(0.2)  # the subscription is registered before the event
    # when a customer joins with guide-a's code (through the other app)
    await mall.member("alice")
    # then
    event = (await tablet.next_event())["data"]["storeEvents"]
    assert event["kind"] == "MEMBER_JOINED" and event["member"]["memberNo"]
    assert event["at"].endswith("+08:00") and event["order"] is None
    await tablet.close()


async def test_a_customer_sees_their_order_become_ready_for_pickup(mall, live_server):
    # given alice's mini-program following her events, and an order waiting for payment
    alice = await mall.member("alice")
    phone = await Subscriber.connect(live_server, alice)
    assert await phone.acknowledged()
    await phone.subscribe(MY_EVENTS)
    await mall.add(alice, "SCARF-1", 1)
    order = (await mall.checkout(alice, fulfilment="STORE_PICKUP", pickupStoreId=mall.stores["S1"]))["order"]
    await asyncio.sleep(0.2)
    # when the payment arrives
    await mall.pay(order)
    # then her screen hears of it, with the order as she may see it
    event = (await phone.next_event())["data"]["myEvents"]
    assert event["kind"] == "ORDER_READY_FOR_PICKUP"
    assert event["order"] == {"orderNo": order["orderNo"], "status": "READY_FOR_PICKUP"}
    await phone.close()


async def test_no_event_for_a_rolled_back_transaction(mall, live_server, sessionmaker):
    # given a tablet following S1
    tablet = await Subscriber.connect(live_server, mall.managers["S1"])
    assert await tablet.acknowledged()
    await tablet.subscribe(STORE_EVENTS, {"s": mall.stores["S1"]})
    await asyncio.sleep(0.2)
    store = pk_of(mall.stores["S1"])

    async def announce_then_fail(session):
        await live.publish(session, kind="MEMBER_SCANNED", store_id=store)
        raise RuntimeError("the work failed after announcing")

    # when one transaction announces and rolls back, and a later one commits
    try:
        await transaction(sessionmaker, announce_then_fail)
    except RuntimeError:
        pass
    await transaction(sessionmaker, lambda s: live.publish(s, kind="APPOINTMENT_BOOKED", store_id=store))
    # then only the committed one arrives
    event = (await tablet.next_event())["data"]["storeEvents"]
    assert event["kind"] == "APPOINTMENT_BOOKED"
    assert await tablet.nothing_within(0.5)
    await tablet.close()


async def test_a_missing_or_wrong_token_closes_the_connection(live_server):
    # when / then
    for params in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": 17}, {"token": "x"}):
        socket = await Subscriber.connect(live_server, None, params=params)
        assert await socket.receive() is None
        assert socket.ws.close_code == 4403


async def test_staff_of_another_store_get_an_error_never_events(mall, live_server):
    # given a guide of S2 asking for S1's events, and a customer asking for a store's
    other = await Subscriber.connect(live_server, mall.guides["guide-c"][1])
    assert await other.acknowledged()
    op = await other.subscribe(STORE_EVENTS, {"s": mall.stores["S1"]})
    refused = await other.receive()
    alice = await mall.member("alice")
    customer = await Subscriber.connect(live_server, alice)
    assert await customer.acknowledged()
    await customer.subscribe(STORE_EVENTS, {"s": mall.stores["S1"]})
    also_refused = await customer.receive()
    # when something happens at S1
    await mall.member("bob", phone="13900000001")
    # then they were told why and hear nothing more
    assert refused["id"] == op and refused["type"] in ("error", "next")
    codes = [e["extensions"]["code"] for e in (refused["payload"] if refused["type"] == "error"
                                               else refused["payload"]["errors"])]
    assert codes == ["FORBIDDEN"]
    assert "FORBIDDEN" in str(also_refused) and "只能" not in str(also_refused)
    assert refused["payload"]["errors"][0]["message"] == "只能关注本店的动态"
    # each subscription is over: "complete", then silence
    assert await other.receive() == {"id": op, "type": "complete"}
    assert (await customer.receive())["type"] == "complete"
    assert await other.nothing_within(0.5) and await customer.nothing_within(0.1)
    await other.close()
    await customer.close()


async def test_twenty_tablets_at_once_each_get_the_event(mall, live_server):
    # given 20 tablets of S1 (manager and guides) subscribed at once
    tokens = [mall.managers["S1"], mall.guides["guide-a"][1], mall.guides["guide-b"][1]] * 7
    tablets = await asyncio.gather(*[Subscriber.connect(live_server, t) for t in tokens[:20]])
    assert all(await asyncio.gather(*[t.acknowledged() for t in tablets]))
    await asyncio.gather(*[t.subscribe(STORE_EVENTS, {"s": mall.stores["S1"]}) for t in tablets])
    await asyncio.sleep(0.3)
    # when one member joins
    await mall.member("alice")
    # then every tablet hears it, once
    events = await asyncio.gather(*[t.next_event() for t in tablets])
    assert [e["data"]["storeEvents"]["kind"] for e in events] == ["MEMBER_JOINED"] * 20
    assert all(await asyncio.gather(*[t.nothing_within(0.3) for t in tablets]))
    await asyncio.gather(*[t.close() for t in tablets])


async def test_subscriptions_end_when_the_server_stops(mall, settings):
    # given a server with a tablet subscribed
    stopped = asyncio.Event()

    def run_server(ready: asyncio.Future, loop):
        with serving(create_app(settings)) as url:
            loop.call_soon_threadsafe(ready.set_result, url)
            asyncio.run_coroutine_threadsafe(stopped.wait(), loop).result(30)

    loop = asyncio.get_running_loop()
    ready = loop.create_future()
    server = loop.run_in_executor(None, run_server, ready, loop)
    url = await ready
    tablet = await Subscriber.connect(url, mall.managers["S1"])
    assert await tablet.acknowledged()
    await tablet.subscribe(STORE_EVENTS, {"s": mall.stores["S1"]})
    await asyncio.sleep(0.2)
    # when the server shuts down
    stopped.set()
    await asyncio.wait_for(server, 20)
    # then the tablet's connection ended (it reconnects to another process) and nothing hung
    message = await tablet.receive(5)
    assert message is None or message["type"] == "complete"


async def test_a_store_tablet_hears_of_a_parcel_to_ship_and_a_return_coming(mall, live_server):
    # given S2 ships online orders and its manager's tablet follows it
    from tests.commerce.test_fulfilment import NEAR_S2, ships

    await ships(mall, "S2")
    tablet = await Subscriber.connect(live_server, mall.managers["S2"])
    assert await tablet.acknowledged()
    await tablet.subscribe("""subscription($s: ID!) { storeEvents(storeId: $s) {
        kind order { orderNo } shipment { status fromStore { code } lines { quantity } } } }""",
                           {"s": mall.stores["S2"]})
    await asyncio.sleep(0.2)
    alice = await mall.member("alice", guide="guide-c")  # S2's guide: S2 is credited with her orders
    assert (await tablet.next_event())["data"]["storeEvents"]["kind"] == "MEMBER_JOINED"
    await mall.add(alice, "SCARF-1", 2)
    order = (await mall.checkout(alice, addressLocation=NEAR_S2))["order"]
    # when she pays
    await mall.pay(order)
    # then the tablet hears of the parcel it must pack
    event = (await tablet.next_event())["data"]["storeEvents"]
    assert event == {"kind": "SHIPMENT_ASSIGNED", "order": {"orderNo": order["orderNo"]},
                     "shipment": {"status": "ALLOCATED", "fromStore": {"code": "S2"}, "lines": [{"quantity": 2}]}}
    # when it is delivered and she asks to return one scarf
    shipment = (await mall.api.data("query($id: ID!) { node(id: $id) { ... on Order { shipments { id } lines { id } } } }",
                                    {"id": order["id"]}, alice))["node"]
    for step in ("packShipment(id: $id)", 'shipShipment(id: $id, carrier: "闪送", trackingNo: "1")',
                 "markDelivered(id: $id)"):
        await mall.api.data(f"mutation($id: ID!) {{ {step} {{ userErrors {{ code }} }} }}",
                            {"id": shipment["shipments"][0]["id"]}, mall.managers["S2"])
    asked = await mall.api.data("""mutation($o: ID!, $l: ID!) { requestReturn(orderId: $o,
        lines: [{orderLineId: $l, quantity: 1}], reason: "太大") { userErrors { code } } }""",
                                {"o": order["id"], "l": shipment["lines"][0]["id"]}, alice)
    assert asked["requestReturn"]["userErrors"] == []
    # then her store's tablet hears of it
    event = (await tablet.next_event())["data"]["storeEvents"]
    assert event["kind"] == "RETURN_REQUESTED" and event["order"] == {"orderNo": order["orderNo"]}
    await tablet.close()


async def test_a_store_hears_when_its_own_member_comes_near_and_never_where(mall, live_server):
    # given: S2's tablet; a STORE_NEARBY campaign; carol is S2's member, alice S1's
    from tests.marketing.test_campaigns import create
    from tests.marketing.test_triggers import report

    tablet = await Subscriber.connect(live_server, mall.managers["S2"])
    assert await tablet.acknowledged()
    await tablet.subscribe(STORE_EVENTS, {"s": mall.stores["S2"]})
    carol = await mall.member("carol", guide="guide-c", phone="13800000003")
    alice = await mall.member("alice", phone="13800000001")
    assert (await create(mall, trigger="STORE_NEARBY", radiusMeters=1000))["userErrors"] == []
    assert (await tablet.next_event())["data"]["storeEvents"]["kind"] == "MEMBER_JOINED"  # carol's join
    # when both come within 500 m of S2
    await report(mall, alice)
    await report(mall, carol)
    # then S2 hears of carol only, with no coordinates anywhere in the event
    event = (await tablet.next_event())["data"]["storeEvents"]
    assert event["kind"] == "MEMBER_NEARBY" and event["member"]["memberNo"]
    assert "31.23" not in str(event) and "121.5" not in str(event)
    assert await tablet.nothing_within(0.5)
    await tablet.close()
