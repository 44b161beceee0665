"""The online cart and guides pushing into it from the tablet."""
from sqlalchemy import select

from storelink.outbox.models import OutboxMessage
from storelink.worker import run_once
from tests.builders import codes_of

UPDATE = """mutation($id: ID!, $q: Int!) { updateCartLine(lineId: $id, quantity: $q) {
  cart { itemCount subtotalFen lines { quantity addedByGuide { name } } } userErrors { code field } } }"""
PUSH = """mutation($m: ID!, $s: ID!, $q: Int!) { pushToCart(memberId: $m, skuId: $s, quantity: $q) {
  cart { itemCount lines { quantity sku { code } addedByGuide { name } } } userErrors { code field } } }"""
MEMBER_CART = """query($id: ID!) { member(id: $id) { cart { itemCount subtotalFen lines { sku { code } addedByGuide { name } } } } }"""


async def test_adding_merges_lines_and_totals(mall):
    # given
    token = await mall.member("alice")
    await mall.add(token, "SCARF-1", 1)
    payload = await mall.add(token, "SCARF-1", 2)
    # when
    payload = await mall.add(token, "TEE-S", 1) if payload["userErrors"] == [] else payload
    cart = payload["cart"]
    # then
    assert [(ln["sku"]["code"], ln["quantity"], ln["lineTotalFen"]) for ln in cart["lines"]] == [
        ("SCARF-1", 3, 119700), ("TEE-S", 1, 9900)]
    assert (cart["itemCount"], cart["subtotalFen"]) == (4, 129600)


async def test_cart_quantities_are_checked(mall):
    # given
    token = await mall.member("alice")
    zero = await mall.add(token, "SCARF-1", 0)
    too_many = await mall.add(token, "SCARF-1", 51)  # 50 online, 10 in each store
    await mall.add(token, "SCARF-1", 45)
    # when
    merged_over = await mall.add(token, "SCARF-1", 6)
    # then
    assert codes_of(zero) == ["INVALID_INPUT"]
    assert codes_of(too_many) == ["OUT_OF_STOCK"]
    assert codes_of(merged_over) == ["OUT_OF_STOCK"]
    assert (await mall.me(token))["cart"]["itemCount"] == 45  # refused adds changed nothing


async def test_update_and_remove_lines(api, mall):
    # given
    alice = await mall.member("alice")
    bob = await mall.member("bob")
    line = (await mall.add(alice, "SCARF-1", 2))["cart"]["lines"][0]["id"]
    not_hers = await api.data(UPDATE, {"id": line, "q": 1}, bob)
    changed = await api.data(UPDATE, {"id": line, "q": 5}, alice)
    # when
    removed = await api.data(UPDATE, {"id": line, "q": 0}, alice)
    # then
    assert codes_of(not_hers["updateCartLine"]) == ["NOT_FOUND"]
    assert changed["updateCartLine"]["cart"]["itemCount"] == 5
    assert removed["updateCartLine"]["cart"] == {"itemCount": 0, "subtotalFen": 0, "lines": []}


async def test_guide_push_marks_the_line_and_notifies_the_customer(api, mall, app, wechat_server):
    # given
    alice = await mall.member("alice")
    member = await mall.member_id(alice)
    _, guide = mall.guides["guide-a"]
    await mall.add(alice, "SCARF-1", 1)
    # when: the guide pushes the scarf and a coat; the customer then changes the scarf
    pushed = await api.data(PUSH, {"m": member, "s": mall.skus["SCARF-1"], "q": 1}, guide)
    await api.data(PUSH, {"m": member, "s": mall.skus["COAT-M"], "q": 1}, guide)
    line = (await mall.add(alice, "TEE-S", 1))["cart"]["lines"][0]["id"]
    changed = await api.data(UPDATE, {"id": line, "q": 4}, alice)
    await run_once(app.state.sessionmaker, app.state.wechat)
    # then
    assert pushed["pushToCart"]["cart"]["lines"] == [
        {"quantity": 2, "sku": {"code": "SCARF-1"}, "addedByGuide": {"name": "guide-a"}}]
    assert changed["updateCartLine"]["cart"]["lines"][0] == {"quantity": 4, "addedByGuide": {"name": "guide-a"}}
    seen = await api.data(MEMBER_CART, {"id": member}, guide)
    assert [ln["sku"]["code"] for ln in seen["member"]["cart"]["lines"]] == ["SCARF-1", "COAT-M", "TEE-S"]
    sent = wechat_server.fake.sent_messages
    assert [m["template_id"] for m in sent] == ["cart-push", "cart-push"]
    assert sent[0]["data"]["thing1"]["value"] == "羊绒围巾"


async def test_push_is_limited_to_store_staff_of_the_members_scope(api, mall):
    # given
    alice = await mall.member("alice")  # joined at S1
    member = await mall.member_id(alice)
    _, other_store_guide = mall.guides["guide-c"]
    _, own_guide = mall.guides["guide-a"]
    outside = await api.data(PUSH, {"m": member, "s": mall.skus["SCARF-1"], "q": 1}, other_store_guide)
    by_hq = await api.data(PUSH, {"m": member, "s": mall.skus["SCARF-1"], "q": 1}, mall.hq)
    by_customer = await api.data(PUSH, {"m": member, "s": mall.skus["SCARF-1"], "q": 1}, alice)
    # when
    unknown_sku = await api.data(PUSH, {"m": member, "s": "U2t1Ojk5OTk5", "q": 1}, own_guide)
    # then
    assert codes_of(outside["pushToCart"]) == ["FORBIDDEN"]
    assert codes_of(by_hq["pushToCart"]) == ["FORBIDDEN"]
    assert codes_of(by_customer["pushToCart"]) == ["FORBIDDEN"]
    assert codes_of(unknown_sku["pushToCart"]) == ["NOT_FOUND"]
    assert (await mall.me(alice))["cart"]["itemCount"] == 0
    # when / then
    async with mall.sessionmaker() as session:
        assert (await session.execute(select(OutboxMessage.id))).first() is None
