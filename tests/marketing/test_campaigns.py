"""Marketing campaigns: creation rules, statuses, broadcasts through the worker's sender with
credits, consent, the weekly cap, quiet hours (a controlled clock), two workers, WeChat's errors,
control groups and the report (API-NOTES "Marketing")."""
import asyncio
import datetime as dt
import hashlib

import pytest
from sqlalchemy import func, select, update

from storelink.marketing import report, sending, triggers
from storelink.marketing.models import MarketingMessage, MessageCredit
from storelink.wechat.fake import FakeWeChat
from tests.builders import codes_of, pk_of

CREATE = """mutation($i: MarketingCampaignInput!) { createMarketingCampaign(input: $i) {
  campaign { id name trigger status controlShare radiusMeters delayMinutes templateId store { code }
             audience { stores { code } } offer { title } }
  userErrors { code field message } } }"""
SET_STATUS = """mutation($id: ID!, $s: CampaignStatus!) { setMarketingCampaignStatus(id: $id, status: $s) {
  campaign { status } userErrors { code field } } }"""
LIST = "query($s: CampaignStatus) { marketingCampaigns(status: $s) { name status } }"
REPORT = """query($id: ID!, $d: Int! = 14) { node(id: $id) { ... on MarketingCampaign { report(attributionDays: $d) {
  eligible control sent unreachable suppressed failed couponsIssued couponsRedeemedOnline couponsRedeemedInStore
  treatedConverted controlConverted treatedConversionRate controlConversionRate lift liftLow liftHigh gmvFen } } } }"""
CREDITS = """mutation($t: [String!]!) { recordMessageSubscriptions(acceptedTemplateIds: $t) { templateId credits } }"""
TEMPLATE = "TPL_autumn"
NOW = dt.datetime.now(dt.timezone.utc)
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def day_time(hour: int, minute: int = 0) -> dt.datetime:
    """Tomorrow at this Shanghai time (inside any campaign made below, outside quiet hours at 10-20)."""
    tomorrow = (NOW.astimezone(SHANGHAI) + dt.timedelta(days=1)).date()
    return dt.datetime.combine(tomorrow, dt.time(hour, minute), tzinfo=SHANGHAI).astimezone(dt.timezone.utc)


def campaign_input(**kw) -> dict:
    kw.setdefault("name", "秋季上新")
    kw.setdefault("trigger", "BROADCAST")
    kw.setdefault("audience", {})
    kw.setdefault("templateId", TEMPLATE)
    kw.setdefault("startsAt", (NOW - dt.timedelta(hours=1)).isoformat())
    kw.setdefault("endsAt", (NOW + dt.timedelta(days=10)).isoformat())
    kw.setdefault("controlShare", 0.0)
    return kw


async def create(mall, token=None, **kw) -> dict:
    return (await mall.api.data(CREATE, {"i": campaign_input(**kw)}, token or mall.hq))["createMarketingCampaign"]


async def reachable_member(mall, name, phone, guide="guide-a", credits=1) -> str:
    token = await mall.member(name, guide=guide, phone=phone)
    for _ in range(credits):
        await mall.api.data(CREDITS, {"t": [TEMPLATE]}, token)
    return token


async def run_worker(app, settings, at: dt.datetime, **changes) -> None:
    """One worker round of the marketing jobs at a given time."""
    settings = settings.model_copy(update=changes) if changes else settings
    await triggers.queue_due(app.state.sessionmaker, settings, now=at)
    while await sending.deliver_due(app.state.sessionmaker, app.state.wechat, settings, now=at) > 0:
        pass


async def statuses(sessionmaker) -> dict[int, str]:
    async with sessionmaker() as session:
        rows = await session.execute(select(MarketingMessage.customer_id, MarketingMessage.status)
                                     .where(MarketingMessage.campaign_id.isnot(None)))
        return dict(rows.all())


async def report_of(mall, campaign_id, days=14) -> dict:
    return (await mall.api.data(REPORT, {"id": campaign_id, "d": days}, mall.hq))["node"]["report"]


def held_out(campaign_pk: int, customer_pk: int, share: float) -> bool:
    """The control rule, written independently of the SQL: md5("campaign:member") < share."""
    return int(hashlib.md5(f"{campaign_pk}:{customer_pk}".encode()).hexdigest()[:8], 16) / 2**32 < share


# ---------------------------------------------------------------- creating and running campaigns

async def test_hq_and_store_managers_create_campaigns_within_their_reach(mall):
    # given
    s1 = {"storeIds": [mall.stores["S1"]]}
    offer = await mall.campaign(title="到店礼")
    # when
    hq = await create(mall, trigger="STORE_NEARBY", offerCampaignId=offer)
    manager = await create(mall, mall.managers["S1"], name="S1回购", trigger="AFTER_STORE_PURCHASE", audience=s1,
                           delayMinutes=60)
    other_store = await create(mall, mall.managers["S1"], audience={"storeIds": [mall.stores["S2"]]})
    brand_wide = await create(mall, mall.managers["S1"])
    guide = await mall.api.post(CREATE, {"i": campaign_input(audience=s1)}, mall.guides["guide-a"][1])
    # then
    assert hq["userErrors"] == [] and hq["campaign"]["radiusMeters"] == 3000 and hq["campaign"]["store"] is None
    assert hq["campaign"]["offer"] == {"title": "到店礼"} and hq["campaign"]["status"] == "RUNNING"
    assert manager["campaign"]["store"] == {"code": "S1"} and manager["campaign"]["delayMinutes"] == 60
    assert codes_of(other_store) == ["FORBIDDEN"] and codes_of(brand_wide) == ["FORBIDDEN"]
    assert codes_of(guide["data"]["createMarketingCampaign"]) == ["FORBIDDEN"]
    assert [c["name"] for c in (await mall.api.data(LIST, token=mall.managers["S1"]))["marketingCampaigns"]] == [
        "S1回购"]
    assert len((await mall.api.data(LIST, token=mall.hq))["marketingCampaigns"]) == 2
    assert (await mall.api.post(LIST, token=mall.guides["guide-a"][1]))["errors"][0]["extensions"]["code"] == \
        "FORBIDDEN"
    # a manager cannot see HQ's campaign by its id either
    assert (await mall.api.data("query($id: ID!) { node(id: $id) { id } }", {"id": hq["campaign"]["id"]},
                                mall.managers["S1"]))["node"] is None


@pytest.mark.parametrize("change, code, field", [
    ({"controlShare": 0.6}, "INVALID_INPUT", "controlShare"),
    ({"controlShare": -0.1}, "INVALID_INPUT", "controlShare"),
    ({"endsAt": (NOW - dt.timedelta(hours=2)).isoformat()}, "INVALID_INPUT", "endsAt"),
    ({"startsAt": (NOW + dt.timedelta(days=800)).isoformat(), "endsAt": (NOW + dt.timedelta(days=801)).isoformat()},
     "INVALID_INPUT", "endsAt"),
    ({"trigger": "STORE_NEARBY", "radiusMeters": 99}, "INVALID_INPUT", "radiusMeters"),
    ({"trigger": "STORE_NEARBY", "radiusMeters": 50_001}, "INVALID_INPUT", "radiusMeters"),
    ({"radiusMeters": 500}, "INVALID_INPUT", "radiusMeters"),
    ({"delayMinutes": 30}, "INVALID_INPUT", "delayMinutes"),
    ({"trigger": "CART_ABANDONED", "delayMinutes": 10_081}, "INVALID_INPUT", "delayMinutes"),
    ({"offerCampaignId": "Q291cG9uQ2FtcGFpZ246OTk5"}, "NOT_FOUND", "offerCampaignId"),
    ({"offerCampaignId": "garbage"}, "INVALID_INPUT", "offerCampaignId"),
    ({"templateId": "has space"}, "INVALID_INPUT", "templateId"),
    ({"templateId": "x" * 65}, "INVALID_INPUT", "templateId"),
    ({"name": "  "}, "INVALID_INPUT", "name"),
    ({"name": "名" * 101}, "INVALID_INPUT", "name"),
    ({"audience": {"lastPurchaseMinDays": -1}}, "INVALID_INPUT", "lastPurchaseMinDays"),
])
async def test_a_campaign_that_cannot_be_is_refused_and_nothing_is_saved(mall, change, code, field):
    # when
    payload = await create(mall, **change)
    # then
    assert codes_of(payload) == [code] and payload["userErrors"][0]["field"][-1] == field
    assert (await mall.api.data(LIST, token=mall.hq))["marketingCampaigns"] == []


async def test_statuses_pause_resume_and_end_for_good(mall):
    # given
    cid = (await create(mall))["campaign"]["id"]
    later = (await create(mall, name="下月", startsAt=(NOW + dt.timedelta(days=3)).isoformat()))["campaign"]["id"]

    async def set_to(campaign, status):
        return (await mall.api.data(SET_STATUS, {"id": campaign, "s": status}, mall.hq))["setMarketingCampaignStatus"]

    # when / then
    assert (await set_to(cid, "PAUSED"))["campaign"]["status"] == "PAUSED"
    assert [c["name"] for c in (await mall.api.data(LIST, {"s": "PAUSED"}, mall.hq))["marketingCampaigns"]] == [
        "秋季上新"]
    assert (await set_to(cid, "RUNNING"))["campaign"]["status"] == "RUNNING"
    assert (await set_to(later, "PAUSED"))["campaign"]["status"] == "PAUSED"
    assert (await set_to(later, "SCHEDULED"))["campaign"]["status"] == "SCHEDULED"
    assert (await set_to(cid, "ENDED"))["campaign"]["status"] == "ENDED"
    for status in ("RUNNING", "PAUSED", "ENDED"):
        assert codes_of(await set_to(cid, status)) == ["INVALID_STATE"]
    assert codes_of(await set_to("TWFya2V0aW5nQ2FtcGFpZ246OTk=", "PAUSED")) == ["NOT_FOUND"]
    assert codes_of((await mall.api.data(SET_STATUS, {"id": later, "s": "PAUSED"}, mall.managers["S1"]))[
        "setMarketingCampaignStatus"]) == ["NOT_FOUND"]


async def test_a_broadcast_reaches_each_reachable_member_once_and_counts_the_rest(mall, app, settings,
                                                                                 wechat_server):
    # given: alice and bob hold a credit; carol has none; dave holds one but turned marketing off
    alice = await reachable_member(mall, "alice", "13800000001")
    await reachable_member(mall, "bob", "13800000002")
    await reachable_member(mall, "carol", "13800000003", credits=0)
    dave = await reachable_member(mall, "dave", "13800000004")
    await mall.api.data("mutation { setMarketingConsent(granted: false) { userErrors { code } } }", token=dave)
    offer = await mall.campaign(title="上新券")
    campaign = (await create(mall, offerCampaignId=offer))["campaign"]
    # when: two workers at once, then another round
    await asyncio.gather(*(run_worker(app, settings, day_time(10)) for _ in range(2)))
    await run_worker(app, settings, day_time(11))
    # then
    sent = wechat_server.fake.sent_messages
    assert len(sent) == 2 and {m["template_id"] for m in sent} == {TEMPLATE}
    assert sent[0]["data"]["thing1"] == {"value": "秋季上新"} and sent[0]["data"]["thing2"] == {"value": "上新券"}
    assert sorted((await statuses(mall.sessionmaker)).values()) == ["SENT", "SENT", "UNREACHABLE", "UNREACHABLE"]
    async with mall.sessionmaker() as session:
        left = (await session.execute(select(MessageCredit.credits).where(
            MessageCredit.customer_id == await mall.customer_pk(alice)))).scalar_one()
    assert left == 0
    coupons = (await mall.api.data("query { me { coupons { campaign { title } } } }", token=alice))["me"]["coupons"]
    assert coupons == [{"campaign": {"title": "上新券"}}]
    assert await report_of(mall, campaign["id"]) == {
        "eligible": 4, "control": 0, "sent": 2, "unreachable": 2, "suppressed": 0, "failed": 0,
        "couponsIssued": 2, "couponsRedeemedOnline": 0, "couponsRedeemedInStore": 0, "treatedConverted": 0,
        "controlConverted": 0, "treatedConversionRate": 0.0, "controlConversionRate": 0.0, "lift": 0.0,
        "liftLow": -1.0, "liftHigh": pytest.approx(3.8414588 / 7.8414588, abs=1e-6),
        "gmvFen": 0}


async def test_the_weekly_cap_counts_every_campaign_and_quiet_hours_hold_messages(mall, app, settings,
                                                                                 wechat_server):
    # given: alice holds 3 credits; three campaigns; the cap is 2 a week
    alice = await reachable_member(mall, "alice", "13800000001", credits=3)
    for name in ("一", "二", "三"):
        assert (await create(mall, name=name))["userErrors"] == []
    # when: the worker runs at 22:30 Shanghai (quiet hours 21:00-09:00)
    await run_worker(app, settings, day_time(22, 30))
    # then nothing goes; each waits until 09:00
    assert wechat_server.fake.sent_messages == []
    async with mall.sessionmaker() as session:
        due = set((await session.execute(select(MarketingMessage.due_at))).scalars())
    assert due == {day_time(9) + dt.timedelta(days=1)}
    # when: 08:59, then 09:00, then three times more
    await run_worker(app, settings, day_time(8, 59) + dt.timedelta(days=1))
    assert wechat_server.fake.sent_messages == []
    for _ in range(4):
        await run_worker(app, settings, day_time(9) + dt.timedelta(days=1))
    # then two went, the third was suppressed (one per round; the cap counts both campaigns)
    assert len(wechat_server.fake.sent_messages) == 2
    async with mall.sessionmaker() as session:
        found = (await session.execute(select(MarketingMessage.customer_id, MarketingMessage.status))).all()
    assert sorted(found) == [(await mall.customer_pk(alice), s) for s in ("SENT", "SENT", "SUPPRESSED")]


async def test_wechat_errors_are_retried_and_a_refusal_spends_the_credit_for_good(mall, app, settings,
                                                                                 wechat_server):
    # given: alice's message fails once with "system busy"; bob refused the template (43101)
    await reachable_member(mall, "alice", "13800000001")
    await reachable_member(mall, "bob", "13800000002")
    wechat_server.fake.refusing.add(FakeWeChat.openid_for("wx-bob"))
    wechat_server.fake.failing_sends = 1
    campaign = (await create(mall))["campaign"]
    # when
    await run_worker(app, settings, day_time(10))
    await run_worker(app, settings, day_time(10) + dt.timedelta(minutes=5))
    await run_worker(app, settings, day_time(10) + dt.timedelta(minutes=10))
    # then alice got hers on the retry, bob's failed once and was not asked again
    assert [m["touser"] for m in wechat_server.fake.sent_messages] == [FakeWeChat.openid_for("wx-alice")]
    assert wechat_server.fake.calls["subscribe_send"] == 3
    report_ = await report_of(mall, campaign["id"])
    assert (report_["sent"], report_["failed"]) == (1, 1)
    async with mall.sessionmaker() as session:
        assert set((await session.execute(select(MessageCredit.credits))).scalars()) == {0}


async def test_the_control_group_is_held_out_by_hash_and_measures_the_lift(mall, app, settings, wechat_server):
    # given: ten reachable members, half held out
    tokens = [await reachable_member(mall, f"m{i}", f"1380000{i:04d}") for i in range(10)]
    campaign = (await create(mall, controlShare=0.5))["campaign"]
    await run_worker(app, settings, day_time(10))
    pks = [await mall.customer_pk(t) for t in tokens]
    expected = {pk: held_out(pk_of(campaign["id"]), pk, 0.5) for pk in pks}
    # then
    found = await statuses(mall.sessionmaker)
    assert {pk: found[pk] == "CONTROL" for pk in pks} == expected
    assert len(wechat_server.fake.sent_messages) == 10 - sum(expected.values())
    # when: two days later every treated member and one control member buy in the store
    async with mall.sessionmaker() as session:
        await session.execute(update(MarketingMessage).values(eligible_at=func.now() - dt.timedelta(days=2)))
        await session.commit()
    buyers = [t for t, pk in zip(tokens, pks) if not expected[pk]] + \
             [t for t, pk in zip(tokens, pks) if expected[pk]][:1]
    for i, token in enumerate(buyers):
        sale = await mall.record(mall.guides["guide-a"][1], receipt=f"R{i}", memberCode=await mall.member_code(token))
        assert sale["userErrors"] == []
    # then
    got = await report_of(mall, campaign["id"])
    treated, control = 10 - sum(expected.values()), sum(expected.values())
    lift, low, high = report.lift_interval(treated, treated, 1, control)
    assert (got["eligible"], got["control"], got["treatedConverted"], got["controlConverted"]) == (
        10, control, treated, 1)
    assert got["lift"] == pytest.approx(1 - 1 / control) and got["liftLow"] == pytest.approx(low)
    assert got["gmvFen"] == 39900 * treated and low < got["lift"] < high
    # with a one-day window those orders came too late
    assert (await report_of(mall, campaign["id"], days=1))["treatedConverted"] == 0
    assert "errors" in await mall.api.post(REPORT, {"id": campaign["id"], "d": 0}, mall.hq)


def test_the_lift_interval_is_newcombes_hybrid_score_interval():
    # when
    # Newcombe (1998), Table II example (a): 56/70 vs 48/80 -> 0.2000, 95% CI 0.0524 to 0.3339
    lift, low, high = report.lift_interval(56, 70, 48, 80)
    # then
    assert (round(lift, 4), round(low, 4), round(high, 4)) == (0.2, 0.0524, 0.3339)
    # nothing known on either side: the whole range
    assert report.lift_interval(0, 0, 0, 0) == (0.0, -1.0, 1.0)


async def test_ending_a_campaign_withdraws_its_waiting_messages(mall, app, settings, wechat_server):
    # given: queued at 22:30, waiting out quiet hours
    await reachable_member(mall, "alice", "13800000001")
    campaign = (await create(mall))["campaign"]
    await run_worker(app, settings, day_time(22, 30))
    # when
    await mall.api.data(SET_STATUS, {"id": campaign["id"], "s": "ENDED"}, mall.hq)
    await run_worker(app, settings, day_time(9) + dt.timedelta(days=1))
    # then
    assert wechat_server.fake.sent_messages == []
    assert list((await statuses(mall.sessionmaker)).values()) == ["CANCELLED"]


async def test_two_worker_processes_send_a_broadcast_once_to_each_member(mall, database_url, settings, wechat_server,
                                                                        tmp_path):
    # given: 30 reachable members and a broadcast; two `storelink worker` processes on the database
    import os
    import subprocess
    import sys

    from tests.builders import PHONE_KEY, TEST_SECRET

    for i in range(30):
        await reachable_member(mall, f"w{i}", f"1390000{i:04d}")
    campaign = (await create(mall))["campaign"]
    env = {**os.environ, "DATABASE_URL": database_url, "JWT_SECRET": TEST_SECRET, "PHONE_ENCRYPTION_KEY": PHONE_KEY,
           "WECHAT_API_BASE": settings.wechat_api_base, "WECHAT_APPID": settings.wechat_appid,
           "WECHAT_SECRET": settings.wechat_secret, "MARKETING_QUIET_HOURS": "00:00-00:00",
           "RECOMMENDER_RETRAIN_HOURS": "0"}
    env.pop("DEBUG", None)
    # when
    workers = [subprocess.Popen([sys.executable, "-m", "storelink", "worker"], env=env, cwd=tmp_path,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
    try:
        for _ in range(300):
            found = await statuses(mall.sessionmaker)
            if len(found) == 30 and "PENDING" not in found.values():
                break
            await asyncio.sleep(0.1)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(30)
    # then
    received = [m["touser"] for m in wechat_server.fake.sent_messages]
    assert len(received) == 30 and len(set(received)) == 30
    assert (await report_of(mall, campaign["id"]))["sent"] == 30
    assert [w.returncode for w in workers] == [0, 0]  # SIGTERM ends the loop, not the round in hand
