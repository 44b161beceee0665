"""trackActivity: what customers look at, checked, kept 180 days, exported and erased with them."""
import datetime as dt
import json

from sqlalchemy import func, select, update

from storelink.marketing.activity import prune
from storelink.marketing.models import Activity

TRACK = """mutation($k: ActivityKind!, $p: ID, $s: ID, $q: String) {
  trackActivity(kind: $k, productId: $p, storeId: $s, query: $q) }"""


async def rows(mall) -> list[tuple]:
    async with mall.sessionmaker() as session:
        return (await session.execute(select(Activity.kind, Activity.product_id, Activity.store_id, Activity.query)
                                      .order_by(Activity.id))).all()


async def test_views_and_searches_are_recorded_with_what_each_names(mall):
    # given
    alice = await mall.member("alice")
    # when
    for variables in ({"k": "PRODUCT_VIEW", "p": mall.products["COAT"]}, {"k": "STORE_VIEW", "s": mall.stores["S2"]},
                      {"k": "SEARCH", "q": "  羊绒   围巾 "}):
        assert (await mall.api.data(TRACK, variables, alice))["trackActivity"] is True
    # then
    found = await rows(mall)
    assert [(k, q) for k, _, _, q in found] == [("PRODUCT_VIEW", None), ("STORE_VIEW", None), ("SEARCH", "羊绒 围巾")]
    assert found[0][1] is not None and found[1][2] is not None


async def test_bad_activity_is_refused_and_records_nothing(mall):
    # given
    alice = await mall.member("alice")
    bad = [({"k": "PRODUCT_VIEW"}, "INVALID_INPUT"), ({"k": "SEARCH", "q": ""}, "INVALID_INPUT"),
           ({"k": "SEARCH", "q": "x" * 101}, "INVALID_INPUT"),
           ({"k": "SEARCH", "q": "围巾", "p": mall.products["COAT"]}, "INVALID_INPUT"),
           ({"k": "PRODUCT_VIEW", "p": "UHJvZHVjdDo5OTk"}, "NOT_FOUND"), ({"k": "STORE_VIEW", "s": "U3RvcmU6OTk5"}, "NOT_FOUND"),
           ({"k": "STORE_VIEW", "s": mall.products["COAT"]}, "NOT_FOUND"), ({"k": "VISIT"}, "INVALID_INPUT")]
    # when / then
    for variables, code in bad:
        body = await mall.api.post(TRACK, variables, alice)
        assert body["errors"][0]["extensions"]["code"] == code, variables
    staff = await mall.api.post(TRACK, {"k": "SEARCH", "q": "围巾"}, mall.hq)
    anonymous = await mall.api.post(TRACK, {"k": "SEARCH", "q": "围巾"})
    assert staff["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await rows(mall) == []


async def test_activity_older_than_180_days_is_forgotten(mall, app):
    # given: two searches, one of them 181 days old
    alice = await mall.member("alice")
    for q in ("旧", "新"):
        await mall.api.data(TRACK, {"k": "SEARCH", "q": q}, alice)
    async with mall.sessionmaker() as session:
        await session.execute(update(Activity).where(Activity.query == "旧").values(
            at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=181)))
        await session.commit()
    # when the worker prunes
    gone = await prune(app.state.sessionmaker)
    # then
    assert gone == 1 and [q for *_, q in await rows(mall)] == ["新"]


async def test_activity_and_credits_are_exported_and_erased_with_the_customer(mall):
    # given
    alice = await mall.member("alice")
    await mall.api.data(TRACK, {"k": "SEARCH", "q": "大衣"}, alice)
    await mall.api.data('mutation { recordMessageSubscriptions(acceptedTemplateIds: ["TPL_a"]) { credits } }',
                        token=alice)
    # when / then: her export holds them
    export = json.loads((await mall.api.data("mutation { exportMyData }", token=alice))["exportMyData"])
    assert [a["query"] for a in export["activity"]] == ["大衣"]
    assert export["messageSubscriptions"] == [{"templateId": "TPL_a", "credits": 1}]
    # when she deletes her account, they go
    await mall.api.data("mutation { deleteMyAccount { deleted } }", token=alice)
    async with mall.sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(Activity))).scalar_one() == 0
