"""Money never overflows GraphQL's 32-bit Int: a cart or an order may come to at most 2^31-1 fen
(INVALID_INPUT, nothing changed); sums over many orders are Long."""
from __future__ import annotations

import datetime as dt

from storelink.limits import MAX_INT
from tests.builders import codes_of

ADD = "mutation($s: ID!, $q: Int!) { addToCart(skuId: $s, quantity: $q) { cart { subtotalFen } userErrors { code field } } }"
UPDATE = "mutation($l: ID!, $q: Int!) { updateCartLine(lineId: $l, quantity: $q) { userErrors { code } } }"
PUSH = ("mutation($m: ID!, $s: ID!, $q: Int!) { pushToCart(memberId: $m, skuId: $s, quantity: $q) "
        "{ userErrors { code } } }")
CART = "query { me { cart { subtotalFen itemCount lines { id quantity } } } }"
KPIS = ("query($id: ID!, $f: Date!, $t: Date!) { storeKpis(storeId: $id, from: $f, to: $t) "
        "{ storeGmvFen onlineGmvFen } }")
BOARD = ("query($f: Date!, $t: Date!) { guideLeaderboard(from: $f, to: $t, metric: GMV) "
         "{ rank report { storeGmvFen } } }")


async def _expensive_sku(api, mall, price_fen: int = 100_000_000) -> str:
    payload = await api.data("""mutation($i: ProductInput!) { upsertProduct(input: $i) {
        product { skus { id } } userErrors { code } } }""", {"i": {
        "code": "GOLD", "name": "金条", "category": "珠宝", "skus": [{"code": "GOLD-1", "title": "1kg",
                                                                      "priceFen": price_fen}]}}, mall.hq)
    sku = payload["upsertProduct"]["product"]["skus"][0]["id"]
    await mall.stock(sku, None, 1000)
    return sku


async def test_a_cart_cannot_pass_the_cap(api, mall):
    # given a member and a SKU at a million yuan
    token = await mall.member("whale")
    gold = await _expensive_sku(api, mall)
    # when 21 units fit (2,100,000,000 fen) and a 22nd would not
    first = (await api.data(ADD, {"s": gold, "q": 21}, token))["addToCart"]
    second = (await api.data(ADD, {"s": gold, "q": 1}, token))["addToCart"]
    # then the 22nd is refused and the cart is what it was
    assert first["userErrors"] == [] and first["cart"]["subtotalFen"] == 2_100_000_000
    assert codes_of(second) == ["INVALID_INPUT"]
    cart = (await api.data(CART, token=token))["me"]["cart"]
    assert cart["subtotalFen"] == 2_100_000_000 <= MAX_INT
    # and raising the line's quantity past the cap is refused the same way
    bumped = (await api.data(UPDATE, {"l": cart["lines"][0]["id"], "q": 30}, token))["updateCartLine"]
    assert codes_of(bumped) == ["INVALID_INPUT"]
    assert (await api.data(CART, token=token))["me"]["cart"]["itemCount"] == 21


async def test_thirty_units_at_a_million_yuan_are_refused(api, mall):
    # given
    token = await mall.member("whale2")
    gold = await _expensive_sku(api, mall)
    # when
    payload = (await api.data(ADD, {"s": gold, "q": 30}, token))["addToCart"]
    # then
    assert codes_of(payload) == ["INVALID_INPUT"]
    assert (await api.data(CART, token=token))["me"]["cart"] == {"subtotalFen": 0, "itemCount": 0, "lines": []}


async def test_a_guide_cannot_push_a_cart_past_the_cap(api, mall):
    # given
    token = await mall.member("whale3")
    gold = await _expensive_sku(api, mall)
    member = await mall.member_id(token)
    # when
    payload = (await api.data(PUSH, {"m": member, "s": gold, "q": 30}, mall.guides["guide-a"][1]))["pushToCart"]
    # then
    assert codes_of(payload) == ["INVALID_INPUT"]
    assert (await api.data(CART, token=token))["me"]["cart"]["itemCount"] == 0


async def test_a_till_sale_cannot_pass_the_cap(api, mall):
    # given
    gold = await _expensive_sku(api, mall)
    await mall.stock(gold, mall.stores["S1"], 100)
    lines = [{"skuId": gold, "quantity": 22, "unitPriceFen": 100_000_000}]
    # when
    payload = await mall.record(mall.managers["S1"], receipt="BIG", lines=lines)
    # then
    assert codes_of(payload) == ["INVALID_INPUT"]


async def test_sums_over_many_orders_are_long(api, mall):
    # given two legal till sales of 2,000,000,000 fen each, on one day, credited to one guide
    gold = await _expensive_sku(api, mall)
    await mall.stock(gold, mall.stores["S1"], 100)
    for receipt in ("R-1", "R-2"):
        lines = [{"skuId": gold, "quantity": 20, "unitPriceFen": 100_000_000}]
        payload = await mall.record(mall.guides["guide-a"][1], receipt=receipt, lines=lines)
        assert payload["userErrors"] == [], payload
    today = dt.date.today().isoformat()
    period = {"f": (dt.date.today() - dt.timedelta(days=1)).isoformat(),
              "t": (dt.date.today() + dt.timedelta(days=1)).isoformat()}
    # when the store's KPIs and the leaderboard are read
    kpis = (await api.data(KPIS, {"id": mall.stores["S1"], **period}, mall.hq))["storeKpis"]
    board = (await api.data(BOARD, period, mall.hq))["guideLeaderboard"]
    # then the sums pass 2^31 exactly
    assert kpis["storeGmvFen"] == 4_000_000_000 > MAX_INT and today
    assert board[0]["report"]["storeGmvFen"] == 4_000_000_000
