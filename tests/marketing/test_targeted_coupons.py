"""Coupon campaigns limited by channel, stores and audience; audience previews; subscribe-message
credits (API-NOTES "Marketing")."""
from tests.builders import codes_of

PREVIEW = """query($a: AudienceInput!, $t: String) { audiencePreview(audience: $a, templateId: $t) {
  members reachable } }"""
RECORD_CREDITS = """mutation($t: [String!]!) { recordMessageSubscriptions(acceptedTemplateIds: $t) {
  templateId credits } }"""
CAMPAIGNS = "query { couponCampaigns { id title channel stores { code } audience { stores { code } tags } } }"


async def preview(mall, token, audience, template=None) -> dict:
    return await mall.api.post(PREVIEW, {"a": audience, "t": template}, token)


async def test_a_coupon_is_redeemed_only_in_its_channel_and_stores(mall):
    # given: alice holds three coupons: online only, store only, and S1 only
    alice = await mall.member("alice")
    online = (await mall.claim(alice, await mall.campaign(title="线上券", channel="ONLINE_ONLY")))["coupon"]
    store = (await mall.claim(alice, await mall.campaign(title="门店券", channel="STORE_ONLY")))["coupon"]
    s1 = (await mall.claim(alice, await mall.campaign(title="S1券", storeIds=[mall.stores["S1"]])))["coupon"]
    code = await mall.member_code(alice)
    guide_s1, guide_s2 = mall.guides["guide-a"][1], mall.guides["guide-c"][1]
    await mall.add(alice, "SCARF-1", 1)
    # when / then: each where it may not be used
    assert codes_of(await mall.record(guide_s1, receipt="R1", memberCode=code, couponCode=online["code"])) == [
        "COUPON_NOT_APPLICABLE"]
    assert codes_of(await mall.checkout(alice, key="a", couponId=store["id"])) == ["COUPON_NOT_APPLICABLE"]
    assert codes_of(await mall.checkout(alice, key="b", couponId=s1["id"])) == ["COUPON_NOT_APPLICABLE"]
    assert codes_of(await mall.record(guide_s2, store="S2", receipt="R2", memberCode=await mall.member_code(alice),
                                      couponCode=s1["code"])) == ["COUPON_NOT_APPLICABLE"]
    assert (await mall.me(alice))["cart"]["itemCount"] == 1
    # and where it may
    assert (await mall.checkout(alice, key="c", couponId=online["id"]))["order"]["discountFen"] == 2000
    await mall.add(alice, "SCARF-1", 1)
    pickup = await mall.checkout(alice, key="d", couponId=s1["id"], fulfilment="STORE_PICKUP",
                                 pickupStoreId=mall.stores["S1"])
    assert pickup["userErrors"] == [] and pickup["order"]["discountFen"] == 2000
    sale = await mall.record(guide_s1, receipt="R3", memberCode=await mall.member_code(alice), couponCode=store["code"])
    assert sale["userErrors"] == [] and sale["order"]["discountFen"] == 2000


async def test_only_members_of_its_audience_may_claim_or_see_a_campaign(mall):
    # given: a campaign for the members of S2; alice is S1's, carol S2's
    alice = await mall.member("alice")
    carol = await mall.member("carol", guide="guide-c", phone="13812345670")
    campaign = await mall.campaign(title="S2会员专享", audience={"storeIds": [mall.stores["S2"]]})
    # when / then
    assert codes_of(await mall.claim(alice, campaign)) == ["NOT_ELIGIBLE"]
    assert (await mall.claim(carol, campaign))["userErrors"] == []
    seen = {name: [c["title"] for c in (await mall.api.data(CAMPAIGNS, token=token))["couponCampaigns"]]
            for name, token in (("alice", alice), ("carol", carol), ("hq", mall.hq))}
    assert seen == {"alice": [], "carol": ["S2会员专享"], "hq": ["S2会员专享"]}
    assert (await mall.api.data(CAMPAIGNS))["couponCampaigns"] == []
    shown = (await mall.api.data(CAMPAIGNS, token=mall.hq))["couponCampaigns"][0]
    assert shown["audience"] == {"stores": [{"code": "S2"}], "tags": []} and shown["channel"] == "ANY"


async def test_an_audience_preview_counts_members_and_those_a_message_reaches(mall):
    # given: alice bought a cashmere scarf at S1 (tags 羊绒, 冬季, 配饰); bob bought nothing and
    # turned marketing off; carol joined at S2
    alice = await mall.member("alice")
    bob = await mall.member("bob", phone="13812345679")
    await mall.api.data("mutation { setMarketingConsent(granted: false) { userErrors { code } } }", token=bob)
    await mall.member("carol", guide="guide-c", phone="13812345670")
    assert (await mall.record(mall.guides["guide-a"][1], memberCode=await mall.member_code(alice)))["userErrors"] == []

    async def size(audience, template=None):
        return (await preview(mall, mall.hq, audience, template))["data"]["audiencePreview"]

    # when / then
    assert await size({}) == {"members": 3, "reachable": 2}
    assert await size({"tags": ["羊绒"]}) == {"members": 1, "reachable": 1}
    assert await size({"tags": ["羊绒", "夏季"]}) == {"members": 0, "reachable": 0}
    assert await size({"storeIds": [mall.stores["S1"]]}) == {"members": 2, "reachable": 1}
    assert await size({"lastPurchaseMinDays": 30}) == {"members": 2, "reachable": 1}  # never bought: bob, carol
    assert await size({"lastPurchaseMaxDays": 7}) == {"members": 1, "reachable": 1}
    assert await size({"segments": ["NEW"], "tiers": ["REGULAR"]}) == {"members": 3, "reachable": 2}
    assert await size({"tiers": ["GOLD"]}) == {"members": 0, "reachable": 0}
    # a template: only members holding a credit for it
    assert await size({}, "TPL_new-arrivals") == {"members": 3, "reachable": 0}
    await mall.api.data(RECORD_CREDITS, {"t": ["TPL_new-arrivals"]}, alice)
    await mall.api.data(RECORD_CREDITS, {"t": ["TPL_new-arrivals"]}, bob)  # no consent: still unreachable
    assert await size({}, "TPL_new-arrivals") == {"members": 3, "reachable": 1}


async def test_a_store_manager_previews_only_their_store_and_bad_rules_are_refused(mall):
    # given
    manager, guide = mall.managers["S1"], mall.guides["guide-a"][1]
    own = {"storeIds": [mall.stores["S1"]]}
    # when / then
    assert "errors" not in await preview(mall, manager, own)
    for token, audience in ((manager, {}), (manager, {"storeIds": [mall.stores["S2"]]}),
                            (manager, {"storeIds": [mall.stores["S1"], mall.stores["S2"]]}), (guide, own)):
        assert (await preview(mall, token, audience))["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    bad = [({"tags": [f"t{i}" for i in range(11)]}, "INVALID_INPUT"), ({"tags": [""]}, "INVALID_INPUT"),
           ({"lastPurchaseMinDays": -1}, "INVALID_INPUT"), ({"lastPurchaseMaxDays": 99999}, "INVALID_INPUT"),
           ({"lastPurchaseMinDays": 30, "lastPurchaseMaxDays": 7}, "INVALID_INPUT"),
           ({"storeIds": ["U3RvcmU6OTk5"]}, "NOT_FOUND"), ({"storeIds": ["nonsense"]}, "INVALID_INPUT"),
           ({"segments": ["NOPE"]}, "INVALID_INPUT")]
    for audience, code in bad:
        assert (await preview(mall, mall.hq, audience))["errors"][0]["extensions"]["code"] == code, audience
    for template in ("", "has space", "x" * 65, "模板"):
        assert (await preview(mall, mall.hq, {}, template))["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


async def test_a_campaign_with_unknown_stores_or_a_bad_audience_is_refused(mall):
    # given
    from tests.builders import CREATE_CAMPAIGN
    import datetime as dt

    now = dt.datetime.now(dt.timezone.utc)
    base = {"title": "券", "discountFen": 100, "validFrom": now.isoformat(),
            "validUntil": (now + dt.timedelta(days=1)).isoformat()}
    # when
    unknown = await mall.api.data(CREATE_CAMPAIGN, {"input": {**base, "storeIds": ["U3RvcmU6OTk5"]}}, mall.hq)
    bad_rule = await mall.api.data(CREATE_CAMPAIGN, {"input": {**base, "audience": {"lastPurchaseMinDays": -3}}},
                                   mall.hq)
    # then
    assert codes_of(unknown["createCouponCampaign"]) == ["NOT_FOUND"]
    assert codes_of(bad_rule["createCouponCampaign"]) == ["INVALID_INPUT"]
    assert (await mall.api.data(CAMPAIGNS, token=mall.hq))["couponCampaigns"] == []


async def test_subscribe_message_credits_add_up_per_template(mall):
    # given
    alice = await mall.member("alice")
    # when: she accepts two templates, then one again (named twice in one call: once)
    first = (await mall.api.data(RECORD_CREDITS, {"t": ["TPL_a", "TPL_b"]}, alice))["recordMessageSubscriptions"]
    second = (await mall.api.data(RECORD_CREDITS, {"t": ["TPL_a", "TPL_a"]}, alice))["recordMessageSubscriptions"]
    bad = await mall.api.post(RECORD_CREDITS, {"t": ["TPL_c", "bad id"]}, alice)
    by_staff = await mall.api.post(RECORD_CREDITS, {"t": ["TPL_a"]}, mall.hq)
    # then
    assert first == [{"templateId": "TPL_a", "credits": 1}, {"templateId": "TPL_b", "credits": 1}]
    assert second == [{"templateId": "TPL_a", "credits": 2}]
    assert bad["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert by_staff["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    mine = await mall.api.data("query { me { messageSubscriptions { templateId credits } } }", token=alice)
    assert mine["me"]["messageSubscriptions"] == [{"templateId": "TPL_a", "credits": 2},
                                                  {"templateId": "TPL_b", "credits": 1}]
