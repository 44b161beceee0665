"""What sets campaigns off: a location near an open store (reportLocation), and the delayed
triggers the worker looks for; a guide's one-to-one message (API-NOTES "Marketing")."""
import asyncio
import datetime as dt
import json
from zoneinfo import ZoneInfo

from sqlalchemy import select

from storelink.marketing.models import MarketingMessage, MessageCredit
from tests.builders import codes_of, pk_of
from tests.marketing.test_campaigns import CREDITS, TEMPLATE, create, reachable_member, run_worker

REPORT = """mutation($l: GeoPointInput!) { reportLocation(location: $l) {
  coupons { campaign { title } } userErrors { code field } } }"""
SEND = """mutation($m: ID!, $t: String!, $c: ID, $p: [ID!]! = [], $n: String) {
  sendToMember(memberId: $m, templateId: $t, couponCampaignId: $c, productIds: $p, note: $n) {
    sent coupon { campaign { title } } userErrors { code field } } }"""
COUPON_FIELDS = "id code status claimedAt redeemedAt"
NEAR_S2 = {"lat": 31.23, "lng": 121.505}  # about 480 m from S2, 3.3 km from S1
NO_QUIET = {"marketing_quiet_hours": "00:00-00:00"}


async def messages(sessionmaker) -> list[MarketingMessage]:
    async with sessionmaker() as session:
        return list((await session.execute(select(MarketingMessage).order_by(MarketingMessage.id))).scalars())


async def report(mall, token, where=NEAR_S2) -> dict:
    return (await mall.api.data(REPORT, {"l": where}, token))["reportLocation"]


# ---------------------------------------------------------------- STORE_NEARBY

async def test_a_member_near_an_open_store_gets_the_coupon_at_once_and_only_once(mall, app, settings,
                                                                                wechat_server):
    # given
    alice = await reachable_member(mall, "alice", "13800000001")
    offer = await mall.campaign(title="到店立减")
    assert (await create(mall, trigger="STORE_NEARBY", radiusMeters=1000, offerCampaignId=offer))["userErrors"] == []
    # when
    first = (await mall.api.data(REPORT.replace("coupons {", f"coupons {{ {COUPON_FIELDS}"), {"l": NEAR_S2},
                                 alice))["reportLocation"]
    again = await report(mall, alice)
    await run_worker(app, settings, dt.datetime.now(dt.timezone.utc), **NO_QUIET)
    # then: the payload (built from the coupon just inserted) is the coupon as stored
    stored = (await mall.api.data(f"query {{ me {{ coupons {{ {COUPON_FIELDS} campaign {{ title }} }} }} }}",
                                  token=alice))["me"]["coupons"]
    assert [c["campaign"] for c in stored] == [{"title": "到店立减"}] and stored[0]["status"] == "AVAILABLE"
    assert first == {"coupons": stored, "userErrors": []}
    assert again == {"coupons": [], "userErrors": []}
    [row] = await messages(mall.sessionmaker)
    assert (row.store_id, row.distance_band, row.status) == (pk_of(mall.stores["S2"]), "0-500m", "SENT")
    assert len(wechat_server.fake.sent_messages) == 1


async def test_a_hundred_reports_at_once_are_limited_and_still_give_one_coupon(mall):
    # given
    alice = await reachable_member(mall, "alice", "13800000001")
    offer = await mall.campaign(title="到店立减", perCustomerLimit=5)
    await create(mall, trigger="STORE_NEARBY", offerCampaignId=offer)
    # when
    results = await asyncio.gather(*(report(mall, alice) for _ in range(100)))
    # then
    limited = [r for r in results if codes_of(r) == ["RATE_LIMITED"]]
    assert len(limited) == 90 and all(r["coupons"] == [] for r in limited)
    assert sum(len(r["coupons"]) for r in results) == 1
    assert len(await messages(mall.sessionmaker)) == 1


async def test_no_coupon_when_too_far_closed_outside_the_audience_or_not_a_member(mall):
    # given: a 300 m campaign; one for S1's members only; S2 closed today
    alice = await reachable_member(mall, "alice", "13800000001")  # S1's member
    carol = await reachable_member(mall, "carol", "13800000003", guide="guide-c")  # S2's member
    offer = await mall.campaign(title="到店立减")
    await create(mall, name="近店", trigger="STORE_NEARBY", radiusMeters=300, offerCampaignId=offer)
    await create(mall, name="S2会员", trigger="STORE_NEARBY", audience={"storeIds": [mall.stores["S2"]]},
                 offerCampaignId=offer)
    # when / then: 480 m from S2 is beyond 300 m; alice is not S2's member
    assert (await report(mall, alice))["coupons"] == []
    # S2 closed today: carol gets nothing either
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    closed = await mall.api.data("""mutation($i: SpecialDayInput!) { setSpecialDay(input: $i) { userErrors { code } } }""",
                                 {"i": {"storeId": mall.stores["S2"], "date": today, "closed": True}}, mall.hq)
    assert closed["setSpecialDay"]["userErrors"] == []
    assert (await report(mall, carol))["coupons"] == []
    # a customer who never joined, and a location that is not on Earth
    stranger, _ = await mall.world.customer("wx-stranger")
    assert (await report(mall, stranger)) == {"coupons": [], "userErrors": []}
    bad = await mall.api.post(REPORT, {"l": {"lat": 91, "lng": 121.5}}, carol)
    assert codes_of(bad["data"]["reportLocation"]) == ["INVALID_INPUT"]
    assert await messages(mall.sessionmaker) == []


# ---------------------------------------------------------------- delayed triggers

async def test_an_abandoned_cart_is_followed_up_after_the_delay_unless_an_order_followed(mall, app, settings,
                                                                                        wechat_server):
    # given: alice leaves a coat in her cart; bob puts one in and checks out
    alice = await reachable_member(mall, "alice", "13800000001")
    bob = await reachable_member(mall, "bob", "13800000002")
    await create(mall, trigger="CART_ABANDONED", delayMinutes=60)
    await mall.add(alice, "COAT-M")
    await mall.add(bob, "COAT-M")
    assert (await mall.checkout(bob))["userErrors"] == []
    now = dt.datetime.now(dt.timezone.utc)
    # when: 30 minutes later, then 61
    await run_worker(app, settings, now + dt.timedelta(minutes=30), **NO_QUIET)
    assert await messages(mall.sessionmaker) == []
    await run_worker(app, settings, now + dt.timedelta(minutes=61), **NO_QUIET)
    # then alice alone, once, however often the worker looks
    await run_worker(app, settings, now + dt.timedelta(minutes=90), **NO_QUIET)
    rows = await messages(mall.sessionmaker)
    assert [(r.customer_id, r.status) for r in rows] == [(await mall.customer_pk(alice), "SENT")]
    assert len(wechat_server.fake.sent_messages) == 1


async def test_after_a_store_purchase_and_after_browsing_members_are_brought_back_online(mall, app, settings):
    # given: carol bought in the store; dave too, then online; erin looked at the scarf and left;
    # fay looked at it and put it in her cart
    carol = await reachable_member(mall, "carol", "13800000003")
    dave = await reachable_member(mall, "dave", "13800000004")
    erin = await reachable_member(mall, "erin", "13800000005")
    fay = await reachable_member(mall, "fay", "13800000006")
    store_to_online = (await create(mall, name="回购", trigger="AFTER_STORE_PURCHASE", delayMinutes=0))["campaign"]
    browse = (await create(mall, name="看过", trigger="BROWSE_ABANDONED", delayMinutes=10))["campaign"]
    for i, token in enumerate((carol, dave)):
        sale = await mall.record(mall.guides["guide-a"][1], receipt=f"R{i}", memberCode=await mall.member_code(token))
        assert sale["userErrors"] == []
    await mall.add(dave, "TEE-S")
    assert (await mall.checkout(dave))["userErrors"] == []
    view = "mutation($p: ID!) { trackActivity(kind: PRODUCT_VIEW, productId: $p) }"
    for token in (erin, fay):
        await mall.api.data(view, {"p": mall.products["SCARF"]}, token)
    await mall.add(fay, "SCARF-1")
    # when
    await run_worker(app, settings, dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=11), **NO_QUIET)
    # then
    reached = {(r.campaign_id, r.customer_id) for r in await messages(mall.sessionmaker)}
    assert reached == {(pk_of(store_to_online["id"]), await mall.customer_pk(carol)),
                       (pk_of(browse["id"]), await mall.customer_pk(erin))}


# ---------------------------------------------------------------- a guide's one-to-one message

async def test_a_guide_messages_their_own_member_with_a_coupon_under_the_same_rules(mall, settings, wechat_server):
    # given: alice is guide-a's, with 3 credits; carol is guide-c's
    alice = await reachable_member(mall, "alice", "13800000001", credits=3)
    carol = await reachable_member(mall, "carol", "13800000003", guide="guide-c")
    guide = mall.guides["guide-a"][1]
    alice_id, carol_id = await mall.member_id(alice), await mall.member_id(carol)
    offer = await mall.campaign(title="导购专享")
    s2_only = await mall.campaign(title="S2专享", audience={"storeIds": [mall.stores["S2"]]})

    async def send(member, **kw):
        variables = {"m": member, "t": TEMPLATE, **kw}
        return (await mall.api.data(SEND, variables, guide))["sendToMember"]

    # when / then
    first = await send(alice_id, c=offer, p=[mall.products["SCARF"]], n="新到围巾")
    assert first == {"sent": True, "coupon": {"campaign": {"title": "导购专享"}}, "userErrors": []}
    assert codes_of(await send(carol_id)) == ["NOT_FOUND"]
    assert codes_of(await send(alice_id, c=s2_only)) == ["NOT_ELIGIBLE"]
    assert codes_of(await send(alice_id, t="TPL_other")) == ["NOT_ELIGIBLE"]
    assert codes_of(await send(alice_id, n="x" * 21)) == ["INVALID_INPUT"]
    assert (await send(alice_id))["sent"] is True
    capped = await send(alice_id)  # the weekly cap of 2
    assert capped["sent"] is False and codes_of(capped) == ["RATE_LIMITED"]
    assert len(wechat_server.fake.sent_messages) == 2
    assert "products=" in wechat_server.fake.sent_messages[0]["page"]
    async with mall.sessionmaker() as session:
        left = (await session.execute(select(MessageCredit.credits).where(
            MessageCredit.customer_id == await mall.customer_pk(alice)))).scalar_one()
    assert left == 1
    coupons = (await mall.api.data("query { me { coupons { campaign { title } } } }", token=alice))["me"]["coupons"]
    assert coupons == [{"campaign": {"title": "导购专享"}}]
    assert (await mall.api.data(CREDITS, {"t": [TEMPLATE]}, carol))["recordMessageSubscriptions"][0]["credits"] == 2
    export = json.loads((await mall.api.data("mutation { exportMyData }", token=alice))["exportMyData"])
    assert [(m["status"], m["guideStaffId"]) for m in export["marketingMessages"]] == [
        ("SENT", mall.guides["guide-a"][0].id)] * 2


async def test_after_an_attended_appointment_the_member_is_followed_up(mall, app, settings):
    # given: alice checked in at S1 for a fitting (written as the check-in leaves it); bob's was cancelled
    from storelink.appointments.models import Appointment, ServiceType

    alice = await reachable_member(mall, "alice", "13800000001")
    bob = await reachable_member(mall, "bob", "13800000002")
    campaign = (await create(mall, trigger="AFTER_APPOINTMENT", delayMinutes=30))["campaign"]
    now = dt.datetime.now(dt.timezone.utc)
    async with mall.sessionmaker() as session:
        service = ServiceType(code="FIT", name="试衣", duration_minutes=30)
        session.add(service)
        await session.flush()
        for token, status, token_no in ((alice, "CHECKED_IN", "t1"), (bob, "CANCELLED", "t2")):
            session.add(Appointment(
                customer_id=await mall.customer_pk(token), store_id=pk_of(mall.stores["S1"]), service_id=service.id,
                start_at=now, end_at=now + dt.timedelta(minutes=30), local_day=now.date(), status=status,
                check_in_token=token_no, checked_in_at=now if status == "CHECKED_IN" else None))
        await session.commit()
    # when: before the delay, then after it
    await run_worker(app, settings, now + dt.timedelta(minutes=20), **NO_QUIET)
    assert await messages(mall.sessionmaker) == []
    await run_worker(app, settings, now + dt.timedelta(minutes=31), **NO_QUIET)
    # then
    assert [(r.campaign_id, r.customer_id) for r in await messages(mall.sessionmaker)] == [
        (pk_of(campaign["id"]), await mall.customer_pk(alice))]


async def test_a_nearby_campaigns_audience_of_segments_and_tags_is_checked_too(mall):
    # given: near S2, one campaign for new members (alice is one), one for 羊绒 buyers (she is not)
    alice = await reachable_member(mall, "alice", "13800000001")
    new_members = await mall.campaign(title="新会员到店礼")
    cashmere = await mall.campaign(title="羊绒到店礼")
    await create(mall, trigger="STORE_NEARBY", audience={"segments": ["NEW"]}, offerCampaignId=new_members)
    await create(mall, trigger="STORE_NEARBY", audience={"tags": ["羊绒"]}, offerCampaignId=cashmere)
    # when
    got = await report(mall, alice)
    # then
    assert got == {"coupons": [{"campaign": {"title": "新会员到店礼"}}], "userErrors": []}
