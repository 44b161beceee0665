"""The AI guide: training from orders, serving in context, feedback, pushes and attribution,
(the learning rules are in test_learning.py, the evaluation in test_evaluation.py)."""

from sqlalchemy import func, select

from storelink.recommend import train
from storelink.recommend.models import RecoModel, RecoShown
from tests.builders import codes_of, pk_of

RECS = """query($c: RecommendationContext!, $p: ID, $s: ID, $n: Int! = 10) {
  recommendations(context: $c, productId: $p, storeId: $s, first: $n) {
    id score reasons product { name category } sku { code } } }"""
MEMBER_RECS = """query($m: ID!, $s: ID!) { memberRecommendations(memberId: $m, storeId: $s) {
  id reasons product { name } sku { code } } }"""
FEEDBACK = "mutation($id: ID!, $f: RecommendationFeedback!) { recordRecommendationFeedback(id: $id, feedback: $f) }"
PUSH = """mutation($m: ID!, $s: ID!, $r: ID) { pushToCart(memberId: $m, skuId: $s, quantity: 1, recommendationId: $r) {
  userErrors { code field } } }"""


async def outfit_history(mall):
    """Members who buy the coat and the scarf together; others buy T-shirts."""
    _, guide = mall.guides["guide-a"]
    for i in range(4):
        token = await mall.member(f"pair{i}")
        await mall.record(guide, receipt=f"pair{i}", memberCode=await mall.member_code(token), lines=[
            {"skuId": mall.skus["COAT-M"], "quantity": 1, "unitPriceFen": 129900},
            {"skuId": mall.skus["SCARF-1"], "quantity": 1, "unitPriceFen": 39900}])
    for i in range(6):
        await mall.record(guide, receipt=f"tee{i}", lines=[{"skuId": mall.skus["TEE-S"], "quantity": 1,
                                                            "unitPriceFen": 9900}])
    steps: list[str] = []
    await train.train(mall.sessionmaker, advance=steps.append, min_orders=1)
    assert steps == ["orders read", "products read", "model built", "model stored"]  # what a terminal shows


async def test_cart_recommendations_name_their_cause_and_skip_the_cart(mall, api):
    # given
    await outfit_history(mall)
    alice = await mall.member("alice")
    await mall.add(alice, "COAT-M", 1)
    # when
    recs = (await api.data(RECS, {"c": "CART"}, alice))["recommendations"]
    # then
    assert recs[0]["product"]["name"] == "羊绒围巾"
    assert recs[0]["reasons"][0] == "常与购物车中的羊毛大衣一起购买"
    # when
    english = (await api.post(RECS, {"c": "CART"}, alice, headers={"accept-language": "en-US,en;q=0.9"}))
    # then
    assert english["data"]["recommendations"][0]["reasons"][0] == "often bought with 羊毛大衣 in your cart"
    assert "羊毛大衣" not in [r["product"]["name"] for r in recs]  # in the cart already
    assert all(r["id"] for r in recs) and recs[0]["score"] > recs[-1]["score"]


async def test_store_visit_offers_only_what_that_store_has(mall, api):
    # given
    await outfit_history(mall)
    alice = await mall.member("alice")
    member = await mall.member_id(alice)
    await mall.add(alice, "COAT-M", 1)
    await mall.stock(mall.skus["SCARF-1"], mall.stores["S1"], 0)
    _, guide = mall.guides["guide-a"]
    # when
    here = (await api.data(MEMBER_RECS, {"m": member, "s": mall.stores["S1"]}, guide))["memberRecommendations"]
    # then
    assert "羊绒围巾" not in [r["product"]["name"] for r in here]
    # when
    online = (await api.data(RECS, {"c": "CART"}, alice))["recommendations"]
    # then
    assert online[0]["product"]["name"] == "羊绒围巾"


async def test_cold_start_and_bad_input(mall, api):
    # when
    # no orders, no training: still an answer
    anyone = (await api.data(RECS, {"c": "HOME"}))["recommendations"]
    # then
    assert len(anyone) == 3
    # when
    no_product = await api.post(RECS, {"c": "PRODUCT"})
    no_store = await api.post(RECS, {"c": "STORE_VISIT"})
    too_many = await api.post(RECS, {"c": "HOME", "n": 51})
    # then
    assert no_product["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert no_store["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert too_many["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    # when
    alice = await mall.member("alice")
    bob = await mall.member("bob", guide="guide-c")  # joined at S2
    _, guide_a = mall.guides["guide-a"]
    outside = await api.post(MEMBER_RECS, {"m": await mall.member_id(bob), "s": mall.stores["S1"]}, guide_a)
    other_store = await api.post(MEMBER_RECS, {"m": await mall.member_id(alice), "s": mall.stores["S2"]}, guide_a)
    unknown = await api.post(MEMBER_RECS, {"m": "TWVtYmVyUHJvZmlsZTo5OTk5OQ==", "s": mall.stores["S1"]}, guide_a)
    by_customer = await api.post(MEMBER_RECS, {"m": await mall.member_id(alice), "s": mall.stores["S1"]}, alice)
    # then
    assert [b["errors"][0]["extensions"]["code"] for b in (outside, other_store, unknown, by_customer)] == [
        "FORBIDDEN", "FORBIDDEN", "NOT_FOUND", "FORBIDDEN"]


async def test_feedback_push_and_attribution(mall, api):
    # given
    await outfit_history(mall)
    alice = await mall.member("alice")
    member = await mall.member_id(alice)
    bob = await mall.member("bob")
    await mall.add(alice, "COAT-M", 1)
    _, guide = mall.guides["guide-a"]
    # when
    rec = (await api.data(MEMBER_RECS, {"m": member, "s": mall.stores["S1"]}, guide))["memberRecommendations"][0]
    # then
    assert rec["sku"]["code"] == "SCARF-1"
    # feedback: the guide who saw it and the member may give it; someone else may not
    assert (await api.data(FEEDBACK, {"id": rec["id"], "f": "CLICKED"}, guide))["recordRecommendationFeedback"] is True
    assert (await api.data(FEEDBACK, {"id": rec["id"], "f": "DISMISSED"}, bob))["recordRecommendationFeedback"] is False
    # when
    # a push names the recommendation; a wrong one is refused
    wrong = await api.data(PUSH, {"m": member, "s": mall.skus["TEE-S"], "r": rec["id"]}, guide)
    pushed = await api.data(PUSH, {"m": member, "s": mall.skus["SCARF-1"], "r": rec["id"]}, guide)
    # then
    assert codes_of(wrong["pushToCart"]) == ["NOT_FOUND"] and pushed["pushToCart"]["userErrors"] == []
    # when
    # the paid order with that SKU is attributed to the recommendation
    await mall.pay((await mall.checkout(alice))["order"])
    async with mall.sessionmaker() as session:
        shown = await session.get(RecoShown, pk_of(rec["id"]))
    # then
    assert shown.clicked_at is not None and shown.pushed_at is not None and shown.order_id is not None


async def test_worker_retrains_when_the_model_is_missing_or_old(mall, app):
    # given
    import datetime as dt

    await outfit_history(mall)  # trains once
    every = dt.timedelta(hours=24)
    # when / then
    assert await train.retrain_if_due(app.state.sessionmaker, every=every, min_orders=1) is False  # fresh
    assert await train.retrain_if_due(app.state.sessionmaker, every=dt.timedelta(0), min_orders=1) is True
    # when / then
    async with mall.sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(RecoModel))).scalar_one() == 2


async def test_product_context_unknown_product_and_an_empty_store(mall, api):
    # given
    await outfit_history(mall)
    # when
    # looking at the coat: the scarf that goes with it, never the coat itself
    viewed = (await api.data(RECS, {"c": "PRODUCT", "p": mall.products["COAT"]}))["recommendations"]
    # then
    assert viewed[0]["product"]["name"] == "羊绒围巾"
    assert "羊毛大衣" not in [r["product"]["name"] for r in viewed]
    # when
    # a product that does not exist: no error, the popular items
    unknown = (await api.data(RECS, {"c": "PRODUCT", "p": "UHJvZHVjdDo5OTk5OQ=="}))["recommendations"]
    # then
    assert unknown and all(r["reasons"] == ["近期热销"] for r in unknown)  # brand-wide, never "online"
    # when
    # a store with nothing on its shelves: nothing to suggest there
    alice = await mall.member("alice")
    for sku in mall.skus.values():
        await mall.stock(sku, mall.stores["S1"], 0)
    _, guide = mall.guides["guide-a"]
    empty = await api.data(MEMBER_RECS, {"m": await mall.member_id(alice), "s": mall.stores["S1"]}, guide)
    # then
    assert empty["memberRecommendations"] == []
