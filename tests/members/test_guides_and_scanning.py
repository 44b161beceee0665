import asyncio
import datetime as dt
import json

from sqlalchemy import select, update

from storelink.accounts.models import Customer
from storelink.graphql.relay import to_global_id
from storelink.members.models import BindingChange, MemberCode, Membership
from tests.builders import JOIN, codes_of, member_customer, personal_code

TRANSFER = """
mutation($f: ID!, $t: ID!) { transferMembers(fromGuideId: $f, toGuideId: $t) { transferred skipped userErrors { code field } } }
"""
MEMBER_CODE = "{ me { memberCode { code expiresAt } } }"
SCAN = """
mutation($code: String!, $store: ID!) {
  scanCode(code: $code, storeId: $store) {
    result { __typename ... on MemberScan { member { id memberNo phoneMasked joinChannel segment tags
      guide { name } joinStore { code } } } }
    userErrors { code field }
  }
}
"""
MEMBER = "query($id: ID!) { member(id: $id) { memberNo phoneMasked } }"
RETIRE = "mutation($id: ID!) { retireGuide(id: $id) { staff { name } userErrors { code } } }"


async def join_with_guide(api, world, shop, sessionmaker, guide, name, phone="13812345678"):
    token = await member_customer(api, world, name, phone)
    code = await personal_code(sessionmaker, guide[0])
    payload = (await api.data(JOIN, {"code": code}, token))["joinByCode"]
    assert payload["userErrors"] == []
    return token


async def age_binding(sessionmaker, days: int) -> None:
    async with sessionmaker() as session:
        await session.execute(update(Membership).values(
            bound_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days)))
        await session.commit()


async def reasons(sessionmaker) -> list[str]:
    async with sessionmaker() as session:
        return (await session.execute(select(BindingChange.reason).order_by(BindingChange.id))).scalars().all()


# ------------------------------------------------------------------ exclusive-guide binding

async def test_rescan_within_the_protection_period_keeps_the_guide(api, world, shop, sessionmaker):
    # given
    token = await join_with_guide(api, world, shop, sessionmaker, shop.guide_a, "alice")
    other = await personal_code(sessionmaker, shop.guide_b[0])
    await age_binding(sessionmaker, 29)

    # when
    payload = (await api.data(JOIN, {"code": other}, token))["joinByCode"]

    # then
    assert payload["isNewMember"] is False
    assert payload["membership"]["guide"] == {"name": "guide-a"}
    assert payload["membership"]["recruitedBy"] == {"name": "guide-a"}
    assert await reasons(sessionmaker) == ["JOIN"]


async def test_rescan_after_the_protection_period_rebinds(api, world, shop, sessionmaker):
    # given
    token = await join_with_guide(api, world, shop, sessionmaker, shop.guide_a, "alice")
    other = await personal_code(sessionmaker, shop.guide_c[0])
    await age_binding(sessionmaker, 31)

    # when
    payload = (await api.data(JOIN, {"code": other}, token))["joinByCode"]

    # then
    assert payload["membership"]["guide"] == {"name": "guide-c"}
    assert payload["membership"]["recruitedBy"] == {"name": "guide-a"}  # never changes
    assert payload["membership"]["joinStore"] == {"code": "S1"}
    assert await reasons(sessionmaker) == ["JOIN", "RESCAN"]


async def test_an_unbound_member_is_bound_by_a_guide_code(api, world, shop, sessionmaker):
    # given
    token = await member_customer(api, world, "alice")
    await api.data('mutation { joinOnline(consent: {privacyPolicyVersion: "2026-01", marketing: false}) { isNewMember } }',
                   token=token)
    code = await personal_code(sessionmaker, shop.guide_b[0])
    # when
    payload = (await api.data(JOIN, {"code": code}, token))["joinByCode"]
    # then
    assert payload["membership"]["guide"] == {"name": "guide-b"}
    assert payload["membership"]["joinChannel"] == "ONLINE"
    assert await reasons(sessionmaker) == ["RESCAN"]


async def test_members_of_a_retired_guide_can_rebind_at_once(api, world, shop, sessionmaker):
    # given
    token = await join_with_guide(api, world, shop, sessionmaker, shop.guide_a, "alice")
    old_code = await personal_code(sessionmaker, shop.guide_a[0])
    # when
    retired = (await api.data(RETIRE, {"id": shop.gid(shop.guide_a[0])}, shop.manager1))["retireGuide"]
    # then
    assert retired["userErrors"] == []

    # when
    # the retired guide's token and code stop working
    body = await api.post("{ staffMe { name } }", token=shop.guide_a[1])
    # then
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # when
    newcomer = await member_customer(api, world, "bob", "13900001111")
    # then
    assert codes_of((await api.data(JOIN, {"code": old_code}, newcomer))["joinByCode"]) == ["CODE_EXPIRED"]

    # when
    other = await personal_code(sessionmaker, shop.guide_b[0])
    payload = (await api.data(JOIN, {"code": other}, token))["joinByCode"]
    # then
    assert payload["membership"]["guide"] == {"name": "guide-b"}


async def test_retiring_needs_the_stores_manager(api, shop):
    # when / then
    for token in (shop.manager2, shop.guide_b[1]):
        payload = (await api.data(RETIRE, {"id": shop.gid(shop.guide_a[0])}, token))["retireGuide"]
        assert codes_of(payload) == ["FORBIDDEN"]


# ------------------------------------------------------------------ transfers

async def test_transfer_moves_bound_members_at_most_twice_in_90_days(api, world, shop, sessionmaker):
    # given
    for i in range(3):
        await join_with_guide(api, world, shop, sessionmaker, shop.guide_a, f"m{i}", f"1380000{i:04d}")
    a, b = shop.gid(shop.guide_a[0]), shop.gid(shop.guide_b[0])

    # when
    first = (await api.data(TRANSFER, {"f": a, "t": b}, shop.manager1))["transferMembers"]
    back = (await api.data(TRANSFER, {"f": b, "t": a}, shop.manager1))["transferMembers"]
    third = (await api.data(TRANSFER, {"f": a, "t": b}, shop.manager1))["transferMembers"]

    # then
    assert first == {"transferred": 3, "skipped": 0, "userErrors": []}
    assert back == {"transferred": 3, "skipped": 0, "userErrors": []}
    assert third == {"transferred": 0, "skipped": 3, "userErrors": []}
    async with sessionmaker() as session:
        guides = set((await session.execute(select(Membership.guide_id))).scalars())
    assert guides == {shop.guide_a[0].id}
    assert (await reasons(sessionmaker)).count("TRANSFER") == 6


async def test_transfer_rules(api, world, shop, sessionmaker):
    # given
    await join_with_guide(api, world, shop, sessionmaker, shop.guide_a, "alice")
    a, b, c = (shop.gid(g[0]) for g in (shop.guide_a, shop.guide_b, shop.guide_c))
    cases = [
        (shop.manager2, {"f": a, "t": b}, ["FORBIDDEN"]),  # another store's manager
        (shop.guide_a[1], {"f": a, "t": b}, ["FORBIDDEN"]),  # guides may not
        (shop.manager1, {"f": a, "t": c}, ["FORBIDDEN"]),  # across stores
        (shop.manager1, {"f": a, "t": a}, ["INVALID_INPUT"]),
        (shop.manager1, {"f": a, "t": to_global_id("Staff", 9999)}, ["NOT_FOUND"]),
        (shop.manager1, {"f": a, "t": "%%"}, ["INVALID_INPUT"]),
    ]
    # when / then
    for token, args, expected in cases:
        assert codes_of((await api.data(TRANSFER, args, token))["transferMembers"]) == expected, args
    assert await reasons(sessionmaker) == ["JOIN"]


# ------------------------------------------------------------------ member codes and the scanner

async def test_member_code_scan_identifies_the_member_once(api, world, shop, sessionmaker):
    # given
    token = await join_with_guide(api, world, shop, sessionmaker, shop.guide_a, "alice")
    # when
    issued = (await api.data(MEMBER_CODE, token=token))["me"]["memberCode"]
    expires = dt.datetime.fromisoformat(issued["expiresAt"])
    # then
    assert 0 < (expires - dt.datetime.now(dt.timezone.utc)).total_seconds() <= 60

    # when
    first = (await api.data(SCAN, {"code": issued["code"], "store": shop.store1}, shop.guide_b[1]))["scanCode"]
    again = (await api.data(SCAN, {"code": issued["code"], "store": shop.store1}, shop.guide_b[1]))["scanCode"]

    member = first["result"]["member"]
    # then
    assert first["userErrors"] == [] and first["result"]["__typename"] == "MemberScan"
    assert member["phoneMasked"] == "138****5678" and member["guide"] == {"name": "guide-a"}
    assert member["joinStore"] == {"code": "S1"} and member["segment"] == "NEW" and member["tags"] == []
    assert codes_of(again) == ["CODE_USED_UP"]


async def test_two_tablets_scanning_one_code_at_once(api, world, shop, sessionmaker):
    # given
    token = await join_with_guide(api, world, shop, sessionmaker, shop.guide_a, "alice")
    code = (await api.data(MEMBER_CODE, token=token))["me"]["memberCode"]["code"]
    tablets = [shop.guide_a[1], shop.guide_b[1], shop.manager1] * 3
    # when
    results = await asyncio.gather(*[api.data(SCAN, {"code": code, "store": shop.store1}, t) for t in tablets])
    outcomes = sorted(codes_of(r["scanCode"])[0] if codes_of(r["scanCode"]) else "OK" for r in results)
    # then
    assert outcomes == ["CODE_USED_UP"] * 8 + ["OK"]


async def test_forged_late_and_foreign_codes(api, world, shop, sessionmaker):
    # given
    token = await join_with_guide(api, world, shop, sessionmaker, shop.guide_a, "alice")
    code = (await api.data(MEMBER_CODE, token=token))["me"]["memberCode"]["code"]
    forged = code[:10] + ("A" if code[10] != "A" else "B") + code[11:]
    other_kind = "C" + code[1:]
    async with sessionmaker() as session:
        await session.execute(update(MemberCode).values(
            expires_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)))
        await session.commit()
    store = shop.store1
    # when / then
    assert codes_of((await api.data(SCAN, {"code": forged, "store": store}, shop.guide_a[1]))["scanCode"]) == ["CODE_INVALID"]
    assert codes_of((await api.data(SCAN, {"code": other_kind, "store": store}, shop.guide_a[1]))["scanCode"]) == ["CODE_INVALID"]
    assert codes_of((await api.data(SCAN, {"code": "hello", "store": store}, shop.guide_a[1]))["scanCode"]) == ["CODE_INVALID"]
    assert codes_of((await api.data(SCAN, {"code": code, "store": store}, shop.guide_a[1]))["scanCode"]) == ["CODE_EXPIRED"]


async def test_scanning_needs_staff_of_that_store(api, world, shop, sessionmaker):
    # given
    token = await join_with_guide(api, world, shop, sessionmaker, shop.guide_a, "alice")
    code = (await api.data(MEMBER_CODE, token=token))["me"]["memberCode"]["code"]
    args = {"code": code, "store": shop.store1}
    # when / then
    assert codes_of((await api.data(SCAN, args, shop.guide_c[1]))["scanCode"]) == ["FORBIDDEN"]
    assert codes_of((await api.data(SCAN, args, token))["scanCode"]) == ["FORBIDDEN"]
    assert codes_of((await api.data(SCAN, args))["scanCode"]) == ["UNAUTHENTICATED"]
    # the code is still unused: the right tablet can scan it
    assert (await api.data(SCAN, args, shop.guide_a[1]))["scanCode"]["userErrors"] == []


async def test_guessing_scan_codes_is_throttled(api, world, shop, sessionmaker):
    # given
    token = await join_with_guide(api, world, shop, sessionmaker, shop.guide_a, "alice")
    code = (await api.data(MEMBER_CODE, token=token))["me"]["memberCode"]["code"]
    for i in range(20):
        await api.data(SCAN, {"code": f"M{i:024d}", "store": shop.store1}, shop.guide_b[1])
    # when
    blocked = (await api.data(SCAN, {"code": code, "store": shop.store1}, shop.guide_b[1]))["scanCode"]
    # then
    assert codes_of(blocked) == ["RATE_LIMITED"]
    # another tablet is not affected
    assert (await api.data(SCAN, {"code": code, "store": shop.store1}, shop.guide_a[1]))["scanCode"]["userErrors"] == []


async def test_only_members_get_a_member_code(api, world):
    # given
    token, _ = await world.customer("wx-stranger")
    # when
    body = await api.post(MEMBER_CODE, token=token)
    # then
    assert body["errors"][0]["extensions"]["code"] == "INVALID_STATE"


# ------------------------------------------------------------------ who sees a member

async def test_member_scope_follows_join_binding_and_todays_scans(api, world, shop, sessionmaker):
    token = await join_with_guide(api, world, shop, sessionmaker, shop.guide_a, "alice")
    async with sessionmaker() as session:
        membership = (await session.execute(select(Membership))).scalar_one()
    gid = to_global_id("MemberProfile", membership.id)

    seen_at_join_store = await api.post(MEMBER, {"id": gid}, shop.guide_b[1])
    elsewhere = await api.post(MEMBER, {"id": gid}, shop.guide_c[1])
    by_hq = await api.post(MEMBER, {"id": gid}, shop.hq)
    by_customer = await api.post(MEMBER, {"id": gid}, token)
    via_node = await api.post("query($id: ID!) { node(id: $id) { ... on MemberProfile { memberNo } } }",
                              {"id": gid}, shop.guide_c[1])

    assert seen_at_join_store["data"]["member"]["phoneMasked"] == "138****5678"
    assert elsewhere["errors"][0]["extensions"]["code"] == "FORBIDDEN" and elsewhere["data"]["member"] is None
    assert by_hq["data"]["member"]["memberNo"] == membership.member_no
    assert by_customer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert via_node["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    # when the member shows their code at store 2 today, store 2 may see them
    code = (await api.data(MEMBER_CODE, token=token))["me"]["memberCode"]["code"]
    assert (await api.data(SCAN, {"code": code, "store": shop.store2}, shop.guide_c[1]))["scanCode"]["userErrors"] == []
    assert (await api.data(MEMBER, {"id": gid}, shop.guide_c[1]))["member"]["memberNo"] == membership.member_no


async def test_staff_never_see_a_full_phone_number(api, world, shop, sessionmaker):
    # given
    token = await join_with_guide(api, world, shop, sessionmaker, shop.guide_a, "alice")
    code = (await api.data(MEMBER_CODE, token=token))["me"]["memberCode"]["code"]
    # when
    body = await api.post(SCAN, {"code": code, "store": shop.store1}, shop.guide_a[1])
    # then
    assert "13812345678" not in json.dumps(body)


# ------------------------------------------------------------------ privacy

async def test_export_holds_every_personal_datum(api, world, shop, sessionmaker):
    # given
    token = await join_with_guide(api, world, shop, sessionmaker, shop.guide_a, "alice")
    (await api.data(MEMBER_CODE, token=token))
    # when
    data = json.loads((await api.data("mutation { exportMyData }", token=token))["exportMyData"])
    # then
    assert data["customer"]["phone"] == "13812345678"
    assert data["customer"]["wechatOpenid"].startswith("o")
    assert data["membership"]["joinChannel"] == "GUIDE_QR"
    assert [c["kind"] for c in data["consents"]] == ["PRIVACY", "MARKETING"]
    assert [s["outcome"] for s in data["joinCodeScans"]] == ["JOINED"]
    assert [b["reason"] for b in data["guideBindings"]] == ["JOIN"]
    assert len(data["memberCodeUses"]) == 1 and len(data["sessions"]) == 1
    # when
    body = await api.post("mutation { exportMyData }", token=shop.guide_a[1])
    # then
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_delete_anonymises_and_ends_the_session(api, world, shop, sessionmaker):
    # given
    token = await join_with_guide(api, world, shop, sessionmaker, shop.guide_a, "alice")
    # when
    deleted = (await api.data("mutation { deleteMyAccount { deleted userErrors { code } } }", token=token))
    # then
    assert deleted["deleteMyAccount"] == {"deleted": True, "userErrors": []}

    # when
    body = await api.post("{ me { id } }", token=token)
    # then
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    async with sessionmaker() as session:
        customer = (await session.execute(select(Customer))).scalar_one()
        membership = (await session.execute(select(Membership))).scalar_one()
    assert (customer.openid, customer.unionid, customer.nickname) == (None, None, None)
    assert (customer.phone_sealed, customer.phone_index, customer.phone_masked) == (None, None, None)
    assert customer.deleted_at is not None
    assert membership.recruited_by_id == shop.guide_a[0].id  # KPI facts stay

    # when
    # the same WeChat user starts afresh
    fresh, payload = await world.customer("wx-alice")
    # then
    assert payload["customer"]["id"] != to_global_id("Customer", customer.id)


async def test_marketing_consent_can_be_withdrawn(api, world, shop, sessionmaker):
    # given
    token = await join_with_guide(api, world, shop, sessionmaker, shop.guide_a, "alice")
    # when
    consent = await api.data("mutation { setMarketingConsent(granted: false) { marketing userErrors { code } } }", token=token)
    # then
    assert consent["setMarketingConsent"] == {"marketing": False, "userErrors": []}
    # when
    data = json.loads((await api.data("mutation { exportMyData }", token=token))["exportMyData"])
    # then
    assert [(c["kind"], c["granted"]) for c in data["consents"]] == [
        ("PRIVACY", True), ("MARKETING", True), ("MARKETING", False)]
