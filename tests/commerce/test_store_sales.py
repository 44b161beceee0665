"""Store purchases from the till, refunds, and the member's recent orders on the tablet."""
import asyncio

from storelink.graphql.relay import to_global_id
from tests.builders import codes_of

REFUND = """mutation($id: ID!, $r: String!) { refundOrder(id: $id, reason: $r) {
  order { status } userErrors { code field } } }"""
MEMBER = """query($id: ID!, $n: Int!) { member(id: $id) { points tier recentOrders(first: $n) {
  orderNo channel totalFen store { code } guide { name } lines { sku { code product { name } } } } } }"""
SCAN = """mutation($code: String!, $store: ID!) { scanCode(code: $code, storeId: $store) {
  result { __typename ... on CouponScan { coupon { status campaign { title } } member { memberNo } } }
  userErrors { code } } }"""
STOCK = """query($id: ID!, $s: ID!) { node(id: $id) { ... on Sku { onlineStock stockAt(storeId: $s) } } }"""


async def store_stock(mall, sku="SCARF-1", store="S1") -> int:
    data = await mall.api.data(STOCK, {"id": mall.skus[sku], "s": mall.stores[store]})
    return data["node"]["stockAt"]


async def test_member_code_sale_is_credited_and_earns_points(mall):
    # given
    alice = await mall.member("alice", guide="guide-b")
    _, guide = mall.guides["guide-a"]
    # when: guide-a serves alice at the till
    payload = await mall.record(guide, memberCode=await mall.member_code(alice))
    # then
    order = payload["order"]
    assert payload["userErrors"] == []
    assert (order["channel"], order["status"], order["totalFen"], order["pointsEarned"]) == ("STORE", "COMPLETED", 39900, 399)
    assert (order["store"], order["guide"], order["serviceGuide"]) == ({"code": "S1"}, {"name": "guide-a"}, {"name": "guide-b"})
    assert await store_stock(mall) == 9
    assert (await mall.me(alice))["membership"]["points"] == 399


async def test_a_receipt_is_recorded_once_even_when_sent_twice_at_once(mall):
    # given
    _, guide = mall.guides["guide-a"]
    # when
    results = await asyncio.gather(*(mall.record(guide, receipt="R-77") for _ in range(4)))
    # then
    assert {r["order"]["orderNo"] for r in results} == {results[0]["order"]["orderNo"]}
    assert all(r["userErrors"] == [] for r in results)
    assert await store_stock(mall) == 9
    # when
    # the same receipt number at another store is another sale
    other = await mall.record(mall.managers["S2"], store="S2", receipt="R-77")
    # then
    assert other["order"]["orderNo"] != results[0]["order"]["orderNo"]


async def test_guest_sale_and_manager_without_guide(mall):
    # when
    payload = await mall.record(mall.managers["S1"])
    # then
    assert payload["order"]["guide"] is None and payload["order"]["pointsEarned"] == 0
    assert payload["order"]["serviceGuide"] is None


async def test_a_scanned_member_code_still_names_the_member_at_that_store(api, mall):
    # given
    alice = await mall.member("alice")
    _, guide = mall.guides["guide-a"]
    _, guide_c = mall.guides["guide-c"]
    code = await mall.member_code(alice)
    await api.data(SCAN, {"code": code, "store": mall.stores["S1"]}, guide)  # the tablet uses it up
    here = await mall.record(guide, receipt="R1", memberCode=code)
    # when
    elsewhere = await mall.record(guide_c, store="S2", receipt="R2", memberCode=code)
    # then
    assert here["order"]["pointsEarned"] == 399
    assert codes_of(elsewhere) == ["CODE_USED_UP"]


async def test_store_purchase_refuses_bad_input(mall):
    # given
    alice = await mall.member("alice")
    bob = await mall.member("bob", guide="guide-c")  # joined at S2: outside S1's scope
    _, guide = mall.guides["guide-a"]
    _, guide_c = mall.guides["guide-c"]
    scarf = mall.skus["SCARF-1"]
    cases = [
        ({"lines": []}, "INVALID_INPUT", ["input", "lines"]),
        ({"lines": [{"skuId": scarf, "quantity": 0, "unitPriceFen": 100}]}, "INVALID_INPUT",
         ["input", "lines", "0", "quantity"]),
        ({"lines": [{"skuId": scarf, "quantity": 1, "unitPriceFen": -1}]}, "INVALID_INPUT",
         ["input", "lines", "0", "unitPriceFen"]),
        ({"lines": [{"skuId": scarf, "quantity": 11, "unitPriceFen": 100}]}, "OUT_OF_STOCK", ["input", "lines", "0"]),
        ({"lines": [{"skuId": "U2t1Ojk5OTk5", "quantity": 1, "unitPriceFen": 100}]}, "NOT_FOUND",
         ["input", "lines", "0", "skuId"]),
        ({"memberCode": "M" + "A" * 24}, "CODE_INVALID", ["input", "memberCode"]),
        ({"memberId": await mall.member_id(bob)}, "FORBIDDEN", None),
        ({"guideId": to_global_id("Staff", mall.guides["guide-c"][0].id)}, "NOT_FOUND", ["input", "guideId"]),
        ({"receiptNo": " "}, "INVALID_INPUT", ["input", "receiptNo"]),
    ]
    # when / then
    for i, (given, code, field) in enumerate(cases):
        receipt = given.pop("receiptNo", f"bad-{i}")
        payload = await mall.record(guide, receipt=receipt, **given)
        assert (codes_of(payload), payload["userErrors"][0]["field"]) == ([code], field), (given, payload)
    # when
    other_store = await mall.record(guide_c, store="S1", receipt="x")
    # then
    assert codes_of(other_store) == ["FORBIDDEN"]
    assert await store_stock(mall) == 10
    assert (await mall.me(alice))["membership"]["points"] == 0


async def test_coupon_scanned_then_redeemed_at_the_till(api, mall):
    alice = await mall.member("alice")
    _, guide = mall.guides["guide-a"]
    campaign = await mall.campaign(title="冬季礼券", discountFen=5000, minSpendFen=30000)
    code = (await mall.claim(alice, campaign))["coupon"]["code"]
    # when
    scanned = await api.data(SCAN, {"code": code, "store": mall.stores["S1"]}, guide)
    cheap = await mall.record(guide, receipt="R0", couponCode=code,
                              lines=[{"skuId": mall.skus["TEE-S"], "quantity": 1, "unitPriceFen": 9900}])
    sale = await mall.record(guide, receipt="R1", couponCode=code)
    rescanned = await api.data(SCAN, {"code": code, "store": mall.stores["S1"]}, guide)
    # then
    assert scanned["scanCode"]["result"]["__typename"] == "CouponScan"
    assert scanned["scanCode"]["result"]["coupon"] == {"status": "AVAILABLE", "campaign": {"title": "冬季礼券"}}
    assert codes_of(cheap) == ["COUPON_NOT_APPLICABLE"]
    assert (sale["order"]["discountFen"], sale["order"]["totalFen"], sale["order"]["pointsEarned"]) == (5000, 34900, 349)
    assert codes_of(rescanned["scanCode"]) == ["CODE_USED_UP"]


async def test_one_coupon_used_online_and_in_store_at_the_same_moment_is_used_once(mall):
    # given
    alice = await mall.member("alice")
    _, guide = mall.guides["guide-a"]
    campaign = await mall.campaign(discountFen=1000)
    coupon = (await mall.claim(alice, campaign))["coupon"]
    await mall.add(alice, "TEE-S", 1)
    # when
    online, store = await asyncio.gather(
        mall.checkout(alice, key="race", couponId=coupon["id"]),
        mall.record(guide, receipt="race", couponCode=coupon["code"]),
    )
    used = [p for p in (online, store) if p["userErrors"] == []]
    refused = [codes_of(p) for p in (online, store) if p["userErrors"]]
    # then
    assert len(used) == 1 and used[0]["order"]["discountFen"] == 1000
    assert refused == [["CODE_USED_UP"]]


async def test_refund_restores_stock_points_and_coupon(api, mall):
    # given: alice spent 300 points and a coupon on a paid online order
    alice = await mall.member("alice")
    _, guide = mall.guides["guide-a"]
    await mall.record(guide, receipt="earn", memberCode=await mall.member_code(alice))  # +399
    campaign = await mall.campaign(discountFen=1000)
    coupon = (await mall.claim(alice, campaign))["coupon"]["id"]
    await mall.add(alice, "COAT-M", 1)
    order = (await mall.checkout(alice, couponId=coupon, pointsToRedeem=300))["order"]
    await mall.pay(order)  # total 128600 -> +1286 points
    assert (await mall.me(alice))["membership"]["points"] == 399 - 300 + 1286
    # when
    by_guide = await api.data(REFUND, {"id": order["id"], "r": "顾客不喜欢"}, guide)
    no_reason = await api.data(REFUND, {"id": order["id"], "r": " "}, mall.managers["S1"])
    other_store = await api.data(REFUND, {"id": order["id"], "r": "x"}, mall.managers["S2"])
    refunded = await api.data(REFUND, {"id": order["id"], "r": "顾客不喜欢"}, mall.managers["S1"])
    twice = await api.data(REFUND, {"id": order["id"], "r": "again"}, mall.hq)
    # then
    assert codes_of(by_guide["refundOrder"]) == ["FORBIDDEN"]
    assert codes_of(no_reason["refundOrder"]) == ["INVALID_INPUT"]
    assert codes_of(other_store["refundOrder"]) == ["FORBIDDEN"]
    assert refunded["refundOrder"]["order"]["status"] == "REFUNDED"
    assert codes_of(twice["refundOrder"]) == ["INVALID_STATE"]
    assert (await mall.me(alice))["membership"]["points"] == 399
    data = await api.data(STOCK, {"id": mall.skus["COAT-M"], "s": mall.stores["S1"]})
    assert data["node"]["onlineStock"] == 50
    coupons = await api.data("query { me { coupons(status: AVAILABLE) { id } } }", token=alice)
    assert coupons["me"]["coupons"] == [{"id": coupon}]


async def test_refund_may_leave_a_negative_balance(api, mall):
    # given
    alice = await mall.member("alice")
    _, guide = mall.guides["guide-a"]
    sale = (await mall.record(guide, receipt="a", memberCode=await mall.member_code(alice)))["order"]
    await mall.add(alice, "TEE-S", 1)
    await mall.checkout(alice, key="spend", pointsToRedeem=399)  # all points spent
    # when
    refunded = await api.data(REFUND, {"id": sale["id"], "r": "退货"}, mall.managers["S1"])
    # then
    assert refunded["refundOrder"]["order"]["status"] == "REFUNDED"
    assert (await mall.me(alice))["membership"]["points"] == -399
    assert await store_stock(mall) == 10


async def test_member_recent_orders_on_the_tablet_in_constant_statements(api, mall, count_statements):
    # given
    alice = await mall.member("alice")
    member = await mall.member_id(alice)
    _, guide = mall.guides["guide-a"]
    recorded = [(await mall.record(guide, receipt=f"r{i}", memberId=member))["order"]["orderNo"] for i in range(4)]
    with count_statements() as one:
        await api.data(MEMBER, {"id": member, "n": 1}, guide)
    # when
    with count_statements() as four:
        data = await api.data(MEMBER, {"id": member, "n": 4}, guide)
    orders = data["member"]["recentOrders"]
    # then
    assert [o["orderNo"] for o in orders] == recorded[::-1]  # newest first
    assert orders[0]["lines"][0]["sku"]["product"]["name"] == "羊绒围巾"
    assert data["member"]["points"] == 4 * 399
    assert four.count == one.count
