import asyncio
import datetime as dt
import io

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import func, select, update

from storelink.members.models import (
    BindingChange,
    ConsentRecord,
    JoinCode,
    JoinScan,
    Membership,
)
from tests.builders import JOIN, codes_of, member_customer, personal_code

STAFF_CODE = "{ staffMe { joinCode { code kind url imageUrl uses active store { code } guide { name } } } }"
CREATE_CODE = """
mutation($input: CreateJoinCodeInput!) {
  createJoinCode(input: $input) { joinCode { code kind campaign maxUses uses } userErrors { code field } }
}
"""
REVOKE = "mutation($c: String!) { revokeJoinCode(code: $c) { joinCode { code active } userErrors { code } } }"
JOIN_ONLINE = """
mutation { joinOnline(consent: {privacyPolicyVersion: "2026-01", marketing: false}) {
  isNewMember membership { joinChannel joinStore { code } guide { name } } userErrors { code } } }
"""


async def count(sessionmaker, model, *where) -> int:
    async with sessionmaker() as session:
        return (await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one()


# ------------------------------------------------------------------ join codes and QR images

async def test_every_guide_has_a_personal_code(api, shop):
    # when
    data = await api.data(STAFF_CODE, token=shop.guide_a[1])
    code = data["staffMe"]["joinCode"]
    # then
    assert code["kind"] == "GUIDE" and code["active"] and code["uses"] == 0
    assert code["store"] == {"code": "S1"} and code["guide"] == {"name": "guide-a"}
    assert len(code["code"]) <= 32
    assert code["url"] == f"http://localhost:8000/j/{code['code']}"
    assert code["imageUrl"] == f"http://localhost:8000/qr/{code['code']}"
    # when
    manager = await api.data(STAFF_CODE, token=shop.manager1)
    # then
    assert manager["staffMe"]["joinCode"] is None


async def test_qr_png_decodes_to_the_join_url(client, shop, sessionmaker):
    # given
    code = await personal_code(sessionmaker, shop.guide_a[0])
    # when
    resp = await client.get(f"/qr/{code}.png")
    # then
    assert resp.status_code == 200 and resp.headers["content-type"] == "image/png"
    assert resp.headers["cache-control"] == "public, max-age=300" and resp.headers["etag"]
    image = Image.open(io.BytesIO(resp.content))
    assert image.size[0] >= 400  # printable: 16-pixel modules
    decoded = zxingcpp.read_barcodes(image)
    assert [d.text for d in decoded] == [f"http://localhost:8000/j/{code}"]

    # when
    again = await client.get(f"/qr/{code}.png", headers={"if-none-match": resp.headers["etag"]})
    # then
    assert again.status_code == 304
    # when
    svg = await client.get(f"/qr/{code}.svg")
    # then
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.lstrip().startswith("<?xml") and "<svg" in svg.text


async def test_qr_of_unknown_revoked_or_expired_codes_is_404(api, client, shop, sessionmaker):
    # given
    code = await personal_code(sessionmaker, shop.guide_a[0])
    # when / then
    assert (await client.get("/qr/nosuchcode.png")).status_code == 404
    assert (await client.get(f"/qr/{code}.gif")).status_code == 404
    # when
    await api.data(REVOKE, {"c": code}, shop.manager1)
    # then
    assert (await client.get(f"/qr/{code}.png")).status_code == 404
    # when
    fresh = await personal_code(sessionmaker, shop.guide_a[0])
    async with sessionmaker() as session:
        await session.execute(update(JoinCode).where(JoinCode.code == fresh)
                              .values(expires_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)))
        await session.commit()
    # then
    assert (await client.get(f"/qr/{fresh}.svg")).status_code == 404


async def test_a_mini_program_code_is_drawn_by_wechat_once_and_kept(api, client, shop, sessionmaker, wechat_server):
    # given a guide's code, and its URL in the API
    code = await personal_code(sessionmaker, shop.guide_a[0])
    listed = (await api.data("{ staffMe { joinCode { miniProgramCodeUrl } } }", token=shop.guide_a[1]))
    # when the tablet shows it three times
    first = await client.get(f"/qr/{code}.wxa.png")
    again = [await client.get(f"/qr/{code.upper()}.wxa.png") for _ in range(2)]
    # then WeChat drew it once, with the code as the scene and the join page
    assert listed["staffMe"]["joinCode"]["miniProgramCodeUrl"] == f"http://localhost:8000/qr/{code}.wxa.png"
    assert first.status_code == 200 and first.headers["content-type"] == "image/png"
    assert first.headers["x-code-kind"] == "mini-program" and first.headers["cache-control"] == "public, max-age=300"
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(first.content)))
    assert [d.text for d in decoded] == [f"{code}|pages/join/index"]
    assert [r.content for r in again] == [first.content, first.content]
    assert wechat_server.fake.calls["getwxacodeunlimit"] == 1


async def test_when_wechat_cannot_draw_it_the_url_qr_stands_in(client, shop, sessionmaker, wechat_server):
    # given WeChat failing once
    code = await personal_code(sessionmaker, shop.guide_a[0])
    wechat_server.fake.failing_codes = 1
    # when
    stand_in = await client.get(f"/qr/{code}.wxa.png")
    later = await client.get(f"/qr/{code}.wxa.png")
    # then the plain QR, not kept by anyone; the next request gets the real one
    assert stand_in.status_code == 200 and stand_in.headers["x-code-kind"] == "url-qr"
    assert stand_in.headers["cache-control"] == "no-store"
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(stand_in.content)))
    assert [d.text for d in decoded] == [f"http://localhost:8000/j/{code}"]
    assert later.headers["x-code-kind"] == "mini-program"


async def test_no_mini_program_code_for_a_code_that_is_not_live(api, client, shop, sessionmaker, wechat_server):
    # given
    code = await personal_code(sessionmaker, shop.guide_a[0])
    # when / then
    assert (await client.get(f"/qr/{code}.wxa.png")).status_code == 200
    # when
    await api.data(REVOKE, {"c": code}, shop.manager1)
    # then
    assert (await client.get(f"/qr/{code}.wxa.png")).status_code == 404
    assert (await client.get("/qr/nosuchcode.wxa.png")).status_code == 404
    assert (await client.get("/qr/a-b.wxa.png")).status_code == 404
    assert wechat_server.fake.calls["getwxacodeunlimit"] == 1


async def test_revoking_a_personal_code_issues_a_new_one(api, shop, sessionmaker):
    # given
    old = await personal_code(sessionmaker, shop.guide_a[0])
    # when
    revoked = (await api.data(REVOKE, {"c": old}, shop.manager1))["revokeJoinCode"]
    # then
    assert revoked == {"joinCode": {"code": old, "active": False}, "userErrors": []}
    # when
    new = (await api.data(STAFF_CODE, token=shop.guide_a[1]))["staffMe"]["joinCode"]["code"]
    # then
    assert new != old


async def test_create_join_codes_of_each_kind(api, shop):
    # given
    store = (await api.data(CREATE_CODE, {"input": {"storeId": shop.store1}}, shop.manager1))["createJoinCode"]
    campaign = (await api.data(CREATE_CODE, {"input": {"storeId": shop.store1, "campaign": "双十一", "maxUses": 100}},
                               shop.hq))["createJoinCode"]
    # when
    guide = (await api.data(CREATE_CODE, {"input": {"storeId": shop.store1, "guideId": shop.gid(shop.guide_b[0])}},
                            shop.manager1))["createJoinCode"]
    # then
    assert store["joinCode"]["kind"] == "STORE" and store["userErrors"] == []
    assert campaign["joinCode"]["kind"] == "CAMPAIGN" and campaign["joinCode"]["maxUses"] == 100
    assert guide["joinCode"]["kind"] == "GUIDE"


@pytest.mark.parametrize(
    "override, code, field",
    [({"expiresAt": "2020-01-01T00:00:00+08:00"}, "INVALID_INPUT", "expiresAt"),
     ({"maxUses": 0}, "INVALID_INPUT", "maxUses"),
     ({"campaign": " "}, "INVALID_INPUT", "campaign"),
     ({"guideId": "GUIDE_C"}, "NOT_FOUND", "guideId"),
     ({"storeId": "U3RvcmU6OTk5"}, "NOT_FOUND", "storeId")],
)
async def test_bad_join_code_input(api, shop, sessionmaker, override, code, field):
    # given
    if override.get("guideId") == "GUIDE_C":
        override = {"guideId": shop.gid(shop.guide_c[0])}
    before = await count(sessionmaker, JoinCode)
    # when
    payload = (await api.data(CREATE_CODE, {"input": {"storeId": shop.store1, **override}}, shop.manager1))
    # then
    assert payload["createJoinCode"]["userErrors"] == [{"code": code, "field": ["input", field]}]
    assert await count(sessionmaker, JoinCode) == before


async def test_only_managers_of_the_store_or_hq_create_and_revoke_codes(api, shop, sessionmaker):
    # when / then
    for token in (shop.manager2, shop.guide_a[1]):
        payload = await api.data(CREATE_CODE, {"input": {"storeId": shop.store1}}, token)
        assert codes_of(payload["createJoinCode"]) == ["FORBIDDEN"]
    # when
    code = await personal_code(sessionmaker, shop.guide_a[0])
    # then
    assert codes_of((await api.data(REVOKE, {"c": code}, shop.manager2))["revokeJoinCode"]) == ["FORBIDDEN"]
    assert codes_of((await api.data(REVOKE, {"c": "nope"}, shop.hq))["revokeJoinCode"]) == ["NOT_FOUND"]


# ------------------------------------------------------------------ joining

async def test_join_with_a_guide_code_credits_store_and_guide(api, world, shop, sessionmaker):
    # given
    token = await member_customer(api, world, "alice")
    code = await personal_code(sessionmaker, shop.guide_a[0])

    # when
    payload = (await api.data(JOIN, {"code": code.upper(), "m": True}, token))["joinByCode"]

    # then
    assert payload["userErrors"] == [] and payload["isNewMember"] is True
    m = payload["membership"]
    assert m["joinChannel"] == "GUIDE_QR" and m["joinStore"] == {"code": "S1"}
    assert m["recruitedBy"] == {"name": "guide-a"} and m["guide"] == {"name": "guide-a"}
    assert len(m["memberNo"]) == 10
    async with sessionmaker() as session:
        jc = (await session.execute(select(JoinCode).where(JoinCode.code == code))).scalar_one()
        consents = (await session.execute(select(ConsentRecord.kind, ConsentRecord.policy_version,
                                                 ConsentRecord.granted).order_by(ConsentRecord.id))).all()
        history = (await session.execute(select(BindingChange.reason))).scalars().all()
        scans = (await session.execute(select(JoinScan.outcome, JoinScan.store_id))).all()
    assert jc.uses == 1
    assert consents == [("PRIVACY", "2026-01", True), ("MARKETING", None, True)]
    assert history == ["JOIN"]
    assert scans == [("JOINED", jc.store_id)]
    # when
    me = await api.data("{ me { membership { memberNo points tier } } }", token=token)
    # then
    assert me["me"]["membership"] == {"memberNo": m["memberNo"], "points": 0, "tier": "REGULAR"}


async def test_joining_again_returns_the_membership(api, world, shop, sessionmaker):
    # given
    token = await member_customer(api, world, "alice")
    code = await personal_code(sessionmaker, shop.guide_a[0])
    first = (await api.data(JOIN, {"code": code}, token))["joinByCode"]
    # when
    second = (await api.data(JOIN, {"code": code}, token))["joinByCode"]
    # then
    assert second["isNewMember"] is False and second["userErrors"] == []
    assert second["membership"]["memberNo"] == first["membership"]["memberNo"]
    # when / then
    async with sessionmaker() as session:
        assert (await session.execute(select(JoinCode.uses).where(JoinCode.code == code))).scalar_one() == 1
        outcomes = (await session.execute(select(JoinScan.outcome).order_by(JoinScan.id))).scalars().all()
    assert outcomes == ["JOINED", "ALREADY_MEMBER"]


async def test_concurrent_joins_of_one_customer_make_one_member(api, world, shop, sessionmaker):
    # given
    token = await member_customer(api, world, "alice")
    code = await personal_code(sessionmaker, shop.guide_a[0])
    # when
    results = await asyncio.gather(*[api.data(JOIN, {"code": code}, token) for _ in range(10)])
    payloads = [r["joinByCode"] for r in results]
    # then
    assert all(p["userErrors"] == [] for p in payloads)
    assert sum(p["isNewMember"] for p in payloads) == 1
    assert len({p["membership"]["memberNo"] for p in payloads}) == 1
    assert await count(sessionmaker, Membership) == 1


async def test_store_campaign_and_online_joins(api, world, shop):
    # given
    store_code = (await api.data(CREATE_CODE, {"input": {"storeId": shop.store2}}, shop.manager2))
    campaign = (await api.data(CREATE_CODE, {"input": {"storeId": shop.store1, "campaign": "春季"}}, shop.hq))
    t1 = await member_customer(api, world, "s1")
    t2 = await member_customer(api, world, "s2")
    t3 = await member_customer(api, world, "s3")
    by_store = (await api.data(JOIN, {"code": store_code["createJoinCode"]["joinCode"]["code"]}, t1))["joinByCode"]
    by_campaign = (await api.data(JOIN, {"code": campaign["createJoinCode"]["joinCode"]["code"]}, t2))["joinByCode"]
    # when
    online = (await api.data(JOIN_ONLINE, token=t3))["joinOnline"]
    # then
    assert by_store["membership"]["joinChannel"] == "STORE_QR" and by_store["membership"]["guide"] is None
    assert by_store["membership"]["joinStore"] == {"code": "S2"}
    assert by_campaign["membership"]["joinChannel"] == "CAMPAIGN_QR"
    assert online == {"isNewMember": True, "membership": {"joinChannel": "ONLINE", "joinStore": None, "guide": None},
                      "userErrors": []}
    # when
    again = (await api.data(JOIN_ONLINE, token=t3))["joinOnline"]
    # then
    assert again["isNewMember"] is False


async def test_phone_and_consent_are_required(api, world, shop, sessionmaker):
    # given
    code = await personal_code(sessionmaker, shop.guide_a[0])
    no_phone, _ = await world.customer("wx-nophone")
    phone = await member_customer(api, world, "alice")

    # when
    missing_phone = (await api.data(JOIN, {"code": code}, no_phone))["joinByCode"]
    old_policy = (await api.data(JOIN, {"code": code, "v": "2019-01"}, phone))["joinByCode"]
    online_no_phone = (await api.data(JOIN_ONLINE, token=no_phone))["joinOnline"]

    # then
    assert codes_of(missing_phone) == ["PHONE_REQUIRED"]
    assert codes_of(old_policy) == ["CONSENT_REQUIRED"]
    assert old_policy["userErrors"][0]["field"] == ["consent", "privacyPolicyVersion"]
    assert codes_of(online_no_phone) == ["PHONE_REQUIRED"]
    assert await count(sessionmaker, Membership) == 0
    assert await count(sessionmaker, ConsentRecord) == 0
    # when / then
    async with sessionmaker() as session:
        assert (await session.execute(select(JoinCode.uses).where(JoinCode.code == code))).scalar_one() == 0
        outcomes = sorted((await session.execute(select(JoinScan.outcome))).scalars().all())
    assert outcomes == ["CONSENT_REQUIRED", "PHONE_REQUIRED"]


async def test_unknown_expired_revoked_and_used_up_codes(api, world, shop, sessionmaker):
    # given
    token = await member_customer(api, world, "alice")
    expired = (await api.data(CREATE_CODE, {"input": {"storeId": shop.store1}}, shop.hq))["createJoinCode"]["joinCode"]["code"]
    revoked = (await api.data(CREATE_CODE, {"input": {"storeId": shop.store1}}, shop.hq))["createJoinCode"]["joinCode"]["code"]
    used_up = (await api.data(CREATE_CODE, {"input": {"storeId": shop.store1, "maxUses": 1}}, shop.hq))["createJoinCode"]["joinCode"]["code"]
    async with sessionmaker() as session:
        await session.execute(update(JoinCode).where(JoinCode.code == expired)
                              .values(expires_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)))
        await session.commit()
    await api.data(REVOKE, {"c": revoked}, shop.hq)
    other = await member_customer(api, world, "bob", "13900001111")
    # when / then
    assert (await api.data(JOIN, {"code": used_up}, other))["joinByCode"]["isNewMember"] is True

    # when
    results = {c: codes_of((await api.data(JOIN, {"code": c}, token))["joinByCode"])
               for c in ["zzzzzzzzzz", expired, revoked, used_up, "x" * 40]}
    # then
    assert results == {"zzzzzzzzzz": ["CODE_INVALID"], expired: ["CODE_EXPIRED"], revoked: ["CODE_EXPIRED"],
                       used_up: ["CODE_USED_UP"], "x" * 40: ["CODE_INVALID"]}
    assert await count(sessionmaker, Membership) == 1
    assert await count(sessionmaker, JoinScan) == 6  # bob's join and the five failures


async def test_the_last_uses_of_a_code_go_to_exactly_that_many_customers(api, world, shop, sessionmaker):
    # given
    code = (await api.data(CREATE_CODE, {"input": {"storeId": shop.store1, "maxUses": 3}}, shop.hq))
    code = code["createJoinCode"]["joinCode"]["code"]
    tokens = [await member_customer(api, world, f"c{i}", f"1380000{i:04d}") for i in range(10)]

    # when
    results = await asyncio.gather(*[api.data(JOIN, {"code": code}, t) for t in tokens])

    outcomes = sorted(codes_of(r["joinByCode"])[0] if codes_of(r["joinByCode"]) else "JOINED" for r in results)
    # then
    assert outcomes == ["CODE_USED_UP"] * 7 + ["JOINED"] * 3
    assert await count(sessionmaker, Membership) == 3
    # when / then
    async with sessionmaker() as session:
        assert (await session.execute(select(JoinCode.uses).where(JoinCode.code == code))).scalar_one() == 3


async def test_joining_needs_a_customer(api, shop, sessionmaker):
    # given
    code = await personal_code(sessionmaker, shop.guide_a[0])
    # when / then
    assert codes_of((await api.data(JOIN, {"code": code}))["joinByCode"]) == ["UNAUTHENTICATED"]
    assert codes_of((await api.data(JOIN, {"code": code}, shop.guide_b[1]))["joinByCode"]) == ["FORBIDDEN"]
    assert await count(sessionmaker, Membership) == 0


async def test_guessing_join_codes_is_throttled(api, world, shop, sessionmaker):
    # given
    token = await member_customer(api, world, "alice")
    code = await personal_code(sessionmaker, shop.guide_a[0])
    for i in range(10):
        await api.data(JOIN, {"code": f"guess{i:05d}"}, token)
    # when
    payload = (await api.data(JOIN, {"code": code}, token))["joinByCode"]
    # then
    assert codes_of(payload) == ["RATE_LIMITED"]
    assert await count(sessionmaker, Membership) == 0
