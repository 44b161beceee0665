"""Referrals (裂变): invite codes and their QR, REFERRAL joins credited to the inviter's guide,
rewards on the invitee's first paid order under the monthly limit, one per phone, no
self-referral (API-NOTES "Marketing")."""
import asyncio

from tests.builders import JOIN, codes_of, member_customer

REFERRAL = "query { me { referral { code url imageUrl joined rewarded } membership { points } } }"
PROGRAM = """mutation($i: ReferralProgramInput!) { setReferralProgram(input: $i) {
  program { inviterPoints inviteePoints monthlyLimit active } userErrors { code field } } }"""
MEMBERSHIP = "query { me { membership { joinChannel points joinStore { code } guide { name } recruitedBy { name } } } }"


async def invite(mall, token) -> dict:
    return (await mall.api.data(REFERRAL, token=token))["me"]


async def join_with(mall, code, name, phone) -> tuple[str, dict]:
    token = await member_customer(mall.api, mall.world, name, phone)
    joined = (await mall.api.data(JOIN, {"code": code}, token))["joinByCode"]
    return token, joined


async def points(mall, token) -> int:
    return (await mall.api.data(MEMBERSHIP, token=token))["me"]["membership"]["points"]


async def buy_in_store(mall, token, receipt) -> None:
    sale = await mall.record(mall.guides["guide-a"][1], receipt=receipt, memberCode=await mall.member_code(token))
    assert sale["userErrors"] == [], sale


async def test_a_friend_joins_with_an_invite_and_is_credited_to_the_inviters_guide(mall):
    # given: alice is guide-a's member at S1
    alice = await mall.member("alice", phone="13800000001")
    mine = (await invite(mall, alice))["referral"]
    # when: bob joins with her code; alice scans her own
    bob, joined = await join_with(mall, mine["code"], "bob", "13800000002")
    again = (await mall.api.data(JOIN, {"code": mine["code"]}, alice))["joinByCode"]
    # then
    assert joined["isNewMember"] is True and joined["userErrors"] == []
    assert joined["membership"]["joinChannel"] == "REFERRAL" and joined["membership"]["joinStore"] == {"code": "S1"}
    assert joined["membership"]["guide"] == {"name": "guide-a"} == joined["membership"]["recruitedBy"]
    assert again["isNewMember"] is False and again["userErrors"] == []
    assert (await mall.api.data(MEMBERSHIP, token=alice))["me"]["membership"]["joinChannel"] == "GUIDE_QR"
    assert (await invite(mall, alice))["referral"]["joined"] == 1
    assert mine["url"].endswith("/j/" + mine["code"]) and mine["imageUrl"].endswith("/qr/" + mine["code"])
    image = await mall.client.get(f"/qr/{mine['code']}.png")
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    forged = mine["code"][:-1] + ("z" if mine["code"][-1] != "z" else "y")
    assert (await mall.client.get(f"/qr/{forged}.png")).status_code == 404
    _, refused = await join_with(mall, forged, "carol", "13800000003")
    assert codes_of(refused) == ["CODE_INVALID"]
    # a customer who is not a member has no invite code
    stranger, _ = await mall.world.customer("wx-stranger")
    assert (await invite(mall, stranger))["referral"] is None


async def test_an_inviter_without_a_guide_credits_no_one(mall):
    # given: alice joined online
    alice = await mall.member("alice", guide=None, phone="13800000001")
    code = (await invite(mall, alice))["referral"]["code"]
    # when
    _, joined = await join_with(mall, code, "bob", "13800000002")
    # then
    assert joined["membership"]["joinChannel"] == "REFERRAL"
    assert (joined["membership"]["joinStore"], joined["membership"]["guide"]) == (None, None)


async def test_rewards_on_the_first_paid_order_within_the_monthly_limit(mall):
    # given: 100 points to the inviter, 50 to the invitee, one reward a month
    program = await mall.api.data(PROGRAM, {"i": {"inviterPoints": 100, "inviteePoints": 50, "monthlyLimit": 1}},
                                  mall.hq)
    assert program["setReferralProgram"]["program"] == {
        "inviterPoints": 100, "inviteePoints": 50, "monthlyLimit": 1, "active": True}
    alice = await mall.member("alice", phone="13800000001")
    code = (await invite(mall, alice))["referral"]["code"]
    bob, _ = await join_with(mall, code, "bob", "13800000002")
    carol, _ = await join_with(mall, code, "carol", "13800000003")
    before = await points(mall, alice)
    # when: bob's and carol's first orders are paid at the same moment, then bob buys again
    await asyncio.gather(buy_in_store(mall, bob, "R1"), buy_in_store(mall, carol, "R2"))
    await buy_in_store(mall, bob, "R3")
    # then: both invitees rewarded once; alice once (the month's limit)
    earned = 399  # a 399-yuan scarf earns 399 points
    assert await points(mall, bob) == 2 * earned + 50 and await points(mall, carol) == earned + 50
    assert await points(mall, alice) == before + 100
    assert (await invite(mall, alice))["referral"] | {"code": "", "url": "", "imageUrl": ""} == {
        "code": "", "url": "", "imageUrl": "", "joined": 2, "rewarded": 1}


async def test_a_phone_is_rewarded_as_an_invitee_once_and_an_inactive_program_rewards_nothing(mall):
    # given
    await mall.api.data(PROGRAM, {"i": {"inviterPoints": 100, "inviteePoints": 50}}, mall.hq)
    alice = await mall.member("alice", phone="13800000001")
    dave = await mall.member("dave", guide="guide-c", phone="13800000004")
    bob, _ = await join_with(mall, (await invite(mall, alice))["referral"]["code"], "bob", "13800000002")
    await buy_in_store(mall, bob, "R1")
    assert await points(mall, bob) == 399 + 50
    # when: bob deletes his account and joins again, same phone, with dave's invite
    await mall.api.data("mutation { deleteMyAccount { deleted } }", token=bob)
    dave_before = await points(mall, dave)
    bob_again, joined = await join_with(mall, (await invite(mall, dave))["referral"]["code"], "bob2", "13800000002")
    assert joined["isNewMember"] is True
    await buy_in_store(mall, bob_again, "R2")
    # then: no second invitee reward for that phone, so none for dave either
    assert await points(mall, bob_again) == 399 and await points(mall, dave) == dave_before
    # and with the program off, a new invitee's first order earns only its own points
    off = await mall.api.data(PROGRAM, {"i": {"inviterPoints": 100, "inviteePoints": 50, "active": False}}, mall.hq)
    assert off["setReferralProgram"]["program"]["active"] is False
    erin, _ = await join_with(mall, (await invite(mall, alice))["referral"]["code"], "erin", "13800000005")
    await buy_in_store(mall, erin, "R3")
    assert await points(mall, erin) == 399


async def test_only_hq_sets_the_program_and_bad_values_are_refused(mall):
    # given
    read = "query { referralProgram { inviterPoints monthlyLimit } }"
    assert (await mall.api.data(read, token=mall.hq))["referralProgram"] is None
    # when / then
    for values, code in (({"inviterPoints": -1, "inviteePoints": 0}, "INVALID_INPUT"),
                         ({"inviterPoints": 0, "inviteePoints": 100_001}, "INVALID_INPUT"),
                         ({"inviterPoints": 1, "inviteePoints": 1, "monthlyLimit": -1}, "INVALID_INPUT")):
        assert codes_of((await mall.api.data(PROGRAM, {"i": values}, mall.hq))["setReferralProgram"]) == [code]
    manager = await mall.api.data(PROGRAM, {"i": {"inviterPoints": 1, "inviteePoints": 1}}, mall.managers["S1"])
    assert codes_of(manager["setReferralProgram"]) == ["FORBIDDEN"]
    assert (await mall.api.data(read, token=mall.hq))["referralProgram"] is None
    await mall.api.data(PROGRAM, {"i": {"inviterPoints": 5, "inviteePoints": 1, "monthlyLimit": 3}}, mall.hq)
    alice = await mall.member("alice", phone="13800000001")
    assert (await mall.api.data(read, token=alice))["referralProgram"] == {"inviterPoints": 5, "monthlyLimit": 3}
    assert (await mall.api.post(read))["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
