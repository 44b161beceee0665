"""One member ID: enrolment at the till by phone, the WeChat customer who binds that phone taking
over the membership with its history (in either order, and at once), and till sales by phone."""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from storelink.accounts.models import Customer
from storelink.members.models import ConsentRecord, Membership
from storelink.phone_cipher import keyring
from tests.builders import BIND_PHONE, codes_of, pk_of
from tests.hardening.common import gql

ENROLL = """
mutation($i: TillEnrollInput!) { enrollAtTill(input: $i) {
  isNewMember membership { memberNo joinChannel joinStore { code } recruitedBy { name } guide { name } points }
  userErrors { code field } } }
"""
JOIN_ONLINE = ('mutation { joinOnline(consent: {privacyPolicyVersion: "2026-01", marketing: false}) '
               '{ membership { memberNo joinChannel } userErrors { code } } }')
ME = """query { me { phoneMasked membership { memberNo joinChannel points guide { name } }
  orders(first: 10) { edges { node { orderNo channel totalFen } } } } }"""
CONSENT = {"privacyPolicyVersion": "2026-01", "marketing": True}


def enroll_input(mall, phone: str, **extra) -> dict:
    return {"i": {"storeId": mall.stores["S1"], "phone": phone, "consent": CONSENT, **extra}}


async def _memberships_with_phone(sessionmaker, phone: str) -> int:
    async with sessionmaker() as session:
        return (await session.execute(
            select(func.count()).select_from(Membership).join(Customer, Customer.id == Membership.customer_id)
            .where(Customer.phone_index.in_(keyring().indexes(phone)), Customer.deleted_at.is_(None)))).scalar_one()


async def test_a_guide_enrolls_a_customer_at_the_till(api, mall, sessionmaker):
    # when guide a enrolls a phone given at the till
    payload = (await api.data(ENROLL, enroll_input(mall, "138 0013 8000"), mall.guides["guide-a"][1]))["enrollAtTill"]
    # then a TILL member credited to the store and guide exists, with consent recorded at the till
    assert payload["userErrors"] == [] and payload["isNewMember"] is True
    membership = payload["membership"]
    assert (membership["joinChannel"], membership["joinStore"]["code"], membership["recruitedBy"]["name"],
            membership["guide"]["name"]) == ("TILL", "S1", "guide-a", "guide-a")
    async with sessionmaker() as session:
        consents = (await session.execute(select(ConsentRecord.kind, ConsentRecord.store_id,
                                                 ConsentRecord.recorded_by_id))).all()
    assert sorted(consents) == sorted([("PRIVACY", pk_of(mall.stores["S1"]), mall.guides["guide-a"][0].id),
                                       ("MARKETING", pk_of(mall.stores["S1"]), mall.guides["guide-a"][0].id)])
    # and enrolling the same phone again returns that membership with ALREADY_MEMBER
    again = (await api.data(ENROLL, enroll_input(mall, "+86 13800138000"), mall.managers["S1"]))["enrollAtTill"]
    assert codes_of(again) == ["ALREADY_MEMBER"] and again["isNewMember"] is False
    assert again["membership"]["memberNo"] == membership["memberNo"]
    assert await _memberships_with_phone(sessionmaker, "13800138000") == 1


async def test_till_first_then_wechat_takes_over_the_history(api, world, mall):
    # given a till member who bought in store (points) and later opens the mini-program
    enrolled = (await api.data(ENROLL, enroll_input(mall, "13900139000"), mall.guides["guide-a"][1]))["enrollAtTill"]
    sale = await mall.record(mall.guides["guide-a"][1], receipt="T-1", memberPhone="13900139000")
    assert sale["userErrors"] == [] and sale["order"]["pointsEarned"] == 399
    token, _ = await world.customer("wx-till-member")
    # when they bind that phone in WeChat
    bound = (await api.data(BIND_PHONE, {"c": "phone-13900139000-a"}, token))["bindPhone"]
    # then they are that member: number, channel, guide, points and the till order
    me = (await api.data(ME, token=token))["me"]
    assert bound["userErrors"] == []
    assert me["membership"] == {"memberNo": enrolled["membership"]["memberNo"], "joinChannel": "TILL", "points": 399,
                                "guide": {"name": "guide-a"}}
    assert [e["node"]["orderNo"] for e in me["orders"]["edges"]] == [sale["order"]["orderNo"]]
    # and joining now keeps that membership
    join = (await api.data(JOIN_ONLINE, token=token))["joinOnline"]
    assert join["membership"]["memberNo"] == enrolled["membership"]["memberNo"]


async def test_wechat_first_then_the_till_makes_their_membership(api, world, mall, sessionmaker):
    # given a WeChat customer who bound a phone but never joined
    token, _ = await world.customer("wx-phone-only")
    await api.data(BIND_PHONE, {"c": "phone-13700137000-a"}, token)
    # when a guide enrolls that phone at the till
    payload = (await api.data(ENROLL, enroll_input(mall, "13700137000"), mall.guides["guide-b"][1]))["enrollAtTill"]
    # then the membership is that customer's: no second customer was made
    me = (await api.data(ME, token=token))["me"]
    assert payload["userErrors"] == [] and me["membership"]["memberNo"] == payload["membership"]["memberNo"]
    async with sessionmaker() as session:
        holders = (await session.execute(select(func.count()).select_from(Customer)
                                         .where(Customer.phone_index.in_(keyring().indexes("13700137000"))))).scalar_one()
    assert holders == 1


async def test_a_member_cannot_take_over_another_membership(api, world, mall, sessionmaker):
    # given a till member, and a WeChat member of their own
    await api.data(ENROLL, enroll_input(mall, "13600136000"), mall.guides["guide-a"][1])
    token = await mall.member("app-member")
    before = (await api.data(ME, token=token))["me"]
    # when the app member binds the till member's phone
    bound = (await api.data("mutation($c: String!) { bindPhone(code: $c) { userErrors { code } } }",
                            {"c": "phone-13600136000-x"}, token))["bindPhone"]
    # then it is refused and nothing moved
    assert codes_of(bound) == ["ALREADY_MEMBER"]
    assert (await api.data(ME, token=token))["me"] == before
    assert await _memberships_with_phone(sessionmaker, "13600136000") == 1


@pytest.mark.parametrize("phone", ["123", "1381234567", "138123456789", "+1 415 555 0100", "23812345678",
                                   "1381234567x", "１３８１２３４５６７８", "12812345678", ""])
async def test_malformed_and_foreign_phones_are_refused(api, mall, sessionmaker, phone):
    # when
    payload = (await api.data(ENROLL, enroll_input(mall, phone), mall.guides["guide-a"][1]))["enrollAtTill"]
    # then
    assert codes_of(payload) == ["INVALID_INPUT"] and payload["userErrors"][0]["field"] == ["input", "phone"]
    # when / then
    async with sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(Membership))).scalar_one() == 0


async def test_who_may_enroll_where(api, mall):
    # given
    guide_c = mall.guides["guide-c"][1]  # works at S2
    other_store = (await api.data(ENROLL, enroll_input(mall, "13500135000"), guide_c))["enrollAtTill"]
    customer = (await api.data(ENROLL, enroll_input(mall, "13500135000"), await mall.member("c")))["enrollAtTill"]
    foreign_guide = (await api.data(ENROLL, enroll_input(
        mall, "13500135000", guideId=(await api.data("query { staffMe { id } }", token=guide_c))["staffMe"]["id"]),
        mall.managers["S1"]))["enrollAtTill"]
    # when
    old_policy = (await api.data(ENROLL, {"i": {**enroll_input(mall, "13500135000")["i"],
                                                 "consent": {"privacyPolicyVersion": "2020-01", "marketing": True}}},
                                 mall.managers["S1"]))["enrollAtTill"]
    # then
    assert codes_of(other_store) == ["FORBIDDEN"] and codes_of(customer) == ["FORBIDDEN"]
    assert codes_of(foreign_guide) == ["NOT_FOUND"] and codes_of(old_policy) == ["CONSENT_REQUIRED"]


async def test_till_sales_by_phone(api, mall):
    # given a till member
    enrolled = (await api.data(ENROLL, enroll_input(mall, "13400134000"), mall.guides["guide-a"][1]))["enrollAtTill"]
    guide = mall.guides["guide-a"][1]
    # when sales name the member's phone, an unknown phone, a bad one, or a phone and a code
    member_sale = await mall.record(guide, receipt="P-1", memberPhone="134-0013-4000")
    guest_sale = await mall.record(guide, receipt="P-2", memberPhone="13300133000")
    bad = await mall.record(guide, receipt="P-3", memberPhone="12345")
    both = await mall.record(guide, receipt="P-4", memberPhone="13400134000", memberCode="M123")
    # then the member earns, the unknown phone is a guest sale, the rest are refused
    assert member_sale["userErrors"] == [] and member_sale["order"]["pointsEarned"] == 399
    assert guest_sale["userErrors"] == [] and guest_sale["order"]["pointsEarned"] == 0
    assert codes_of(bad) == ["INVALID_INPUT"] and codes_of(both) == ["INVALID_INPUT"]
    assert enrolled["membership"]["points"] == 0


async def test_a_till_enrolment_and_a_wechat_bind_and_join_at_once_make_one_member(http, api, world, mall,
                                                                                  sessionmaker):
    # given ten customers in the mini-program, each about to bind a phone a guide is enrolling
    phones = [f"1310013{i:04d}" for i in range(10)]
    tokens = [(await world.customer(f"wx-race-{i}"))[0] for i in range(10)]

    async def app_side(token: str, phone: str):
        await gql(http, BIND_PHONE, {"c": f"phone-{phone}-race"}, token)
        return await gql(http, JOIN_ONLINE, token=token)

    # when both sides run at once, over real HTTP
    await asyncio.gather(*[coro for token, phone in zip(tokens, phones) for coro in (
        app_side(token, phone), gql(http, ENROLL, enroll_input(mall, phone), mall.guides["guide-a"][1]))])
    # then each phone has exactly one membership, and it is the WeChat customer's
    for token, phone in zip(tokens, phones):
        assert await _memberships_with_phone(sessionmaker, phone) == 1
        me = (await api.data(ME, token=token))["me"]
        assert me["membership"] is not None, phone


async def test_two_tills_enrolling_one_phone_at_once_make_one_member(http, mall, sessionmaker):
    # given
    answers = await asyncio.gather(*[gql(http, ENROLL, enroll_input(mall, "13200132000"), token)
                                     for token in (mall.guides["guide-a"][1], mall.guides["guide-b"][1]) * 3])
    # when
    outcomes = sorted(codes_of(body["data"]["enrollAtTill"]) for _, body in answers)
    # then
    assert outcomes == [[]] + [["ALREADY_MEMBER"]] * 5
    assert await _memberships_with_phone(sessionmaker, "13200132000") == 1
