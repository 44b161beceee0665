"""Checkout, payment, pickup, expiry and attribution of online orders."""
import asyncio
import datetime as dt
import json

from sqlalchemy import select, update

from storelink.catalog.models import Sku, StoreStock
from storelink.graphql.relay import from_global_id
from storelink.orders.checkout import expire_unpaid
from storelink.orders.models import Order
from tests.builders import codes_of, pk_of

SCAN = """mutation($code: String!, $store: ID!) { scanCode(code: $code, storeId: $store) {
  result { __typename ... on PickupScan { order { orderNo status pickupCode } } } userErrors { code field } } }"""
COMPLETE = """mutation($id: ID!) { completePickup(orderId: $id) { order { status } userErrors { code } } }"""


async def stock_of(mall, sku: str, store: str | None = None) -> int:
    async with mall.sessionmaker() as session:
        if store is None:
            return (await session.get(Sku, pk_of(mall.skus[sku]))).online_stock
        row = await session.get(StoreStock, (pk_of(mall.skus[sku]), pk_of(mall.stores[store])))
        return row.quantity


async def test_delivery_checkout_holds_stock_and_asks_for_payment(mall):
    # given
    alice = await mall.member("alice")
    await mall.add(alice, "COAT-M", 1)
    await mall.add(alice, "SCARF-1", 2)
    # when
    payload = await mall.checkout(alice)
    # then
    order = payload["order"]
    assert payload["userErrors"] == []
    assert (order["status"], order["channel"], order["fulfilment"]) == ("PENDING_PAYMENT", "ONLINE", "DELIVERY")
    assert (order["subtotalFen"], order["discountFen"], order["totalFen"]) == (209700, 0, 209700)
    assert [(ln["sku"]["code"], ln["quantity"], ln["unitPriceFen"]) for ln in order["lines"]] == [
        ("COAT-M", 1, 129900), ("SCARF-1", 2, 39900)]
    assert order["expiresAt"] is not None and order["pickupCode"] is None
    params = json.loads(payload["payment"]["params"])
    assert payload["payment"]["provider"] == "sandbox"
    assert set(params) == {"timeStamp", "nonceStr", "package", "signType", "paySign"}
    assert await stock_of(mall, "COAT-M") == 49 and await stock_of(mall, "SCARF-1") == 48
    assert (await mall.me(alice))["cart"]["itemCount"] == 0


async def test_payment_marks_paid_and_credits_points(mall):
    alice = await mall.member("alice")
    await mall.add(alice, "SCARF-1", 1)
    order = (await mall.checkout(alice))["order"]
    # when
    await mall.pay(order)
    # then
    me = await mall.me(alice)
    assert me["orders"]["edges"][0]["node"]["status"] == "PAID"
    assert me["membership"]["points"] == 399  # 1 point per whole yuan of 399.00


async def test_same_idempotency_key_returns_the_first_order(mall):
    # given
    alice = await mall.member("alice")
    await mall.add(alice, "SCARF-1", 1)
    first = await mall.checkout(alice, key="same")
    # when
    again = await mall.checkout(alice, key="same")
    # then
    assert again["order"]["orderNo"] == first["order"]["orderNo"]
    assert again["payment"] is not None  # still unpaid: the customer can pay again
    assert len((await mall.me(alice))["orders"]["edges"]) == 1


async def test_checkout_refuses_bad_requests_and_changes_nothing(mall):
    # given
    alice = await mall.member("alice")
    empty = await mall.checkout(alice, key="e")
    await mall.add(alice, "SCARF-1", 1)
    cases = [
        ({"address": " "}, "INVALID_INPUT", ["input", "address"]),
        ({"fulfilment": "STORE_PICKUP"}, "INVALID_INPUT", ["input", "pickupStoreId"]),
        ({"fulfilment": "STORE_PICKUP", "pickupStoreId": "U3RvcmU6OTk5OTk="}, "NOT_FOUND", ["input", "pickupStoreId"]),
        ({"pointsToRedeem": -1}, "INVALID_INPUT", ["input", "pointsToRedeem"]),
        ({"pointsToRedeem": 100}, "INSUFFICIENT_POINTS", ["input", "pointsToRedeem"]),
        ({"couponId": "Q291cG9uOjk5OTk5"}, "NOT_FOUND", ["input", "couponId"]),
    ]
    # when / then
    for i, (given, code, field) in enumerate(cases):
        payload = await mall.checkout(alice, key=f"bad-{i}", **given)
        assert (codes_of(payload), payload["userErrors"][0]["field"]) == ([code], field), given
    assert codes_of(empty) == ["INVALID_STATE"]
    # when
    too_long_key = await mall.checkout(alice, key="k" * 65)
    # then
    assert codes_of(too_long_key) == ["INVALID_INPUT"]
    # when
    me = await mall.me(alice)
    # then
    assert me["orders"]["edges"] == [] and me["cart"]["itemCount"] == 1
    assert await stock_of(mall, "SCARF-1") == 50


async def test_pickup_checkout_takes_store_stock_and_needs_it(mall):
    # given
    alice = await mall.member("alice")
    await mall.stock(mall.skus["SCARF-1"], mall.stores["S2"], 1)
    await mall.add(alice, "SCARF-1", 2)
    short = await mall.checkout(alice, key="p1", fulfilment="STORE_PICKUP", pickupStoreId=mall.stores["S2"])
    # when
    ok = await mall.checkout(alice, key="p2", fulfilment="STORE_PICKUP", pickupStoreId=mall.stores["S1"])
    # then
    assert codes_of(short) == ["OUT_OF_STOCK"]
    field = short["userErrors"][0]["field"]
    assert field[0] == "cart" and from_global_id(field[1])[0] == "CartLine"  # names the line as clients know it
    assert ok["userErrors"] == [] and ok["order"]["fulfilment"] == "STORE_PICKUP"
    assert await stock_of(mall, "SCARF-1", "S1") == 8 and await stock_of(mall, "SCARF-1", "S2") == 1
    assert await stock_of(mall, "SCARF-1") == 50


async def test_pickup_flow_scan_and_complete(api, mall):
    # given: a paid pickup order at S1
    alice = await mall.member("alice")
    await mall.add(alice, "SCARF-1", 1)
    order = (await mall.checkout(alice, fulfilment="STORE_PICKUP", pickupStoreId=mall.stores["S1"]))["order"]
    await mall.pay(order)
    mine = (await mall.me(alice))["orders"]["edges"][0]["node"]
    code = mine["pickupCode"]
    _, guide_s1 = mall.guides["guide-a"]
    _, guide_s2 = mall.guides["guide-c"]
    # when
    elsewhere = await api.data(SCAN, {"code": code, "store": mall.stores["S2"]}, guide_s2)
    scanned = await api.data(SCAN, {"code": code, "store": mall.stores["S1"]}, guide_s1)
    wrong_store = await api.data(COMPLETE, {"id": order["id"]}, guide_s2)
    done = await api.data(COMPLETE, {"id": order["id"]}, guide_s1)
    again = await api.data(COMPLETE, {"id": order["id"]}, guide_s1)
    rescanned = await api.data(SCAN, {"code": code, "store": mall.stores["S1"]}, guide_s1)
    # then
    assert mine["status"] == "READY_FOR_PICKUP" and code.startswith("P")
    assert codes_of(elsewhere["scanCode"]) == ["INVALID_STATE"]
    assert scanned["scanCode"]["result"] == {"__typename": "PickupScan", "order": {
        "orderNo": order["orderNo"], "status": "READY_FOR_PICKUP", "pickupCode": None}}
    assert codes_of(wrong_store["completePickup"]) == ["FORBIDDEN"]
    assert done["completePickup"]["order"]["status"] == "COMPLETED"
    assert codes_of(again["completePickup"]) == ["INVALID_STATE"]
    assert codes_of(rescanned["scanCode"]) == ["CODE_USED_UP"]


async def test_concurrent_completions_of_one_pickup_give_one_success(api, mall):
    # given
    alice = await mall.member("alice")
    await mall.add(alice, "SCARF-1", 1)
    order = (await mall.checkout(alice, fulfilment="STORE_PICKUP", pickupStoreId=mall.stores["S1"]))["order"]
    await mall.pay(order)
    tokens = [mall.guides["guide-a"][1], mall.guides["guide-b"][1], mall.managers["S1"]] * 2
    # when
    results = await asyncio.gather(*(api.data(COMPLETE, {"id": order["id"]}, t) for t in tokens))
    outcomes = sorted(tuple(codes_of(r["completePickup"])) for r in results)
    # then
    assert outcomes == [()] + [("INVALID_STATE",)] * 5


async def test_unpaid_orders_expire_and_give_back_stock_points_and_coupon(mall, app):
    # given: alice has points and a coupon, and checks out with both, then never pays
    alice = await mall.member("alice")
    await mall.add(alice, "SCARF-1", 1)
    await mall.pay((await mall.checkout(alice, key="earn"))["order"])  # earns 399 points
    campaign = await mall.campaign(discountFen=2000)
    coupon = (await mall.claim(alice, campaign))["coupon"]["id"]
    await mall.add(alice, "COAT-M", 1)
    order = (await mall.checkout(alice, key="spend", couponId=coupon, pointsToRedeem=300))["order"]
    assert (order["discountFen"], order["totalFen"], order["pointsRedeemed"]) == (2300, 127600, 300)
    assert (await mall.me(alice))["membership"]["points"] == 99
    # when: its payment time passes and the worker runs
    async with mall.sessionmaker() as session:
        await session.execute(update(Order).where(Order.order_no == order["orderNo"])
                              .values(expires_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)))
        await session.commit()
    expired = await expire_unpaid(app.state.sessionmaker)
    # then
    assert expired == 1
    me = await mall.me(alice)
    assert me["orders"]["edges"][0]["node"]["status"] == "CANCELLED"
    assert me["membership"]["points"] == 399
    assert await stock_of(mall, "COAT-M") == 50
    coupons = await mall.api.data("query { me { coupons(status: AVAILABLE) { id } } }", token=alice)
    assert coupons["me"]["coupons"] == [{"id": coupon}]
    # a late payment for the cancelled order changes nothing
    await mall.pay(order)
    assert (await mall.me(alice))["orders"]["edges"][0]["node"]["status"] == "CANCELLED"


async def test_online_order_is_credited_to_the_pushing_guide_else_the_exclusive_guide(api, mall):
    # given: alice joined with guide-a (S1); guide-c at S2 pushed a line... but may only push
    # to members of their scope, so alice is scanned at S2 first
    alice = await mall.member("alice", guide="guide-a")
    member = await mall.member_id(alice)
    _, guide_c = mall.guides["guide-c"]
    await api.data(SCAN, {"code": await mall.member_code(alice), "store": mall.stores["S2"]}, guide_c)
    await api.data("""mutation($m: ID!, $s: ID!) { pushToCart(memberId: $m, skuId: $s, quantity: 1) {
      userErrors { code } } }""", {"m": member, "s": mall.skus["SCARF-1"]}, guide_c)
    pushed = (await mall.checkout(alice, key="a"))["order"]
    # when: a later order without a push
    await mall.add(alice, "TEE-S", 1)
    plain = (await mall.checkout(alice, key="b"))["order"]
    # when: a push older than 7 days does not count
    await api.data("""mutation($m: ID!, $s: ID!) { pushToCart(memberId: $m, skuId: $s, quantity: 1) {
      userErrors { code } } }""", {"m": member, "s": mall.skus["SCARF-1"]}, guide_c)
    from storelink.orders.models import CartLine

    async with mall.sessionmaker() as session:
        await session.execute(update(CartLine).values(
            pushed_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=8)))
        await session.commit()
    stale = (await mall.checkout(alice, key="c"))["order"]
    # then
    assert (pushed["guide"], pushed["store"], pushed["serviceGuide"]) == (
        {"name": "guide-c"}, {"code": "S2"}, {"name": "guide-a"})
    assert (plain["guide"], plain["store"], plain["serviceGuide"]) == (
        {"name": "guide-a"}, {"code": "S1"}, {"name": "guide-a"})
    assert stale["guide"] == {"name": "guide-a"}


async def test_online_join_without_guide_credits_no_store(mall):
    # given
    bob = await mall.member("bob", guide=None)
    await mall.add(bob, "TEE-S", 1)
    # when
    order = (await mall.checkout(bob))["order"]
    # then
    assert (order["store"], order["guide"], order["serviceGuide"]) == (None, None, None)


async def test_last_unit_bought_by_twenty_customers_at_once_makes_one_order(mall):
    # given: one coat left online, in twenty carts
    await mall.stock(mall.skus["COAT-L"], None, 1)
    for store in mall.stores.values():
        await mall.stock(mall.skus["COAT-L"], store, 1)  # so it can be carted
    tokens = [await mall.member(f"c{i}") for i in range(20)]
    for token in tokens:
        assert (await mall.add(token, "COAT-L", 1))["userErrors"] == []
    # when
    results = await asyncio.gather(*(mall.checkout(t, key="last") for t in tokens))
    # then
    outcomes = sorted(tuple(codes_of(r)) for r in results)
    assert outcomes == [()] + [("OUT_OF_STOCK",)] * 19
    assert await stock_of(mall, "COAT-L") == 0
    async with mall.sessionmaker() as session:
        orders = (await session.execute(select(Order.id))).all()
    assert len(orders) == 1


async def test_carts_sharing_skus_check_out_at_once_without_deadlock_and_take_exact_stock(mall):
    # given: twelve carts of the same three SKUs, added in different orders, and enough of each
    for code in ("COAT-L", "SCARF-1", "TEE-S"):
        await mall.stock(mall.skus[code], None, 100)
    tokens = [await mall.member(f"c{i}") for i in range(12)]
    for i, token in enumerate(tokens):
        for code in (("COAT-L", "SCARF-1", "TEE-S") if i % 2 else ("TEE-S", "SCARF-1", "COAT-L")):
            assert (await mall.add(token, code, 1 + i % 3))["userErrors"] == []
    taken = sum(1 + i % 3 for i in range(12))
    # when they all check out at once
    results = await asyncio.gather(*(mall.checkout(t, key="shared") for t in tokens))
    # then every order is placed (no deadlock, no error) and each SKU lost exactly what was bought
    assert [codes_of(r) for r in results] == [[]] * 12
    assert [await stock_of(mall, code) for code in ("COAT-L", "SCARF-1", "TEE-S")] == [100 - taken] * 3


async def test_a_pickup_short_of_one_sku_names_its_line_and_takes_none_of_the_others(mall):
    # given: a cart of three SKUs; store S2 holds plenty of two and a single scarf
    alice = await mall.member("alice")
    for code, units in (("COAT-L", 5), ("SCARF-1", 1), ("TEE-S", 5)):
        await mall.stock(mall.skus[code], mall.stores["S2"], units)
        assert (await mall.add(alice, code, 2))["userErrors"] == []
    lines = {line["sku"]["code"]: line["id"] for line in (await mall.api.data(
        "query { me { cart { lines { id sku { code } } } } }", token=alice))["me"]["cart"]["lines"]}
    # when
    payload = await mall.checkout(alice, fulfilment="STORE_PICKUP", pickupStoreId=mall.stores["S2"])
    # then: refused on the scarf's cart line, and no stock moved
    assert codes_of(payload) == ["OUT_OF_STOCK"] and payload["order"] is None
    assert payload["userErrors"][0]["field"] == ["cart", lines["SCARF-1"]]
    assert [await stock_of(mall, code, "S2") for code in ("COAT-L", "SCARF-1", "TEE-S")] == [5, 1, 5]


async def test_order_lists_run_constant_statements(api, mall, count_statements):
    # given
    alice = await mall.member("alice")
    for i in range(4):
        await mall.add(alice, "TEE-S", 1)
        await mall.add(alice, "SCARF-1", 1)
        await mall.checkout(alice, key=f"o{i}")
    query = """query($n: Int!) { me { orders(first: $n) { edges { node { orderNo store { code } guide { name }
      serviceGuide { name } lines { quantity sku { code product { name } } } } } } } }"""
    with count_statements() as one:
        await api.data(query, {"n": 1}, alice)
    # when
    with count_statements() as four:
        data = await api.data(query, {"n": 4}, alice)
    # then
    assert len(data["me"]["orders"]["edges"]) == 4
    assert four.count == one.count
