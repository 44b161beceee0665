import asyncio
import datetime as dt

import jwt
import pytest
from sqlalchemy import func, select

from storelink.accounts import tokens
from storelink.accounts.models import AuthSession, Customer
from tests.builders import PASSWORD, STAFF_LOGIN, TEST_SECRET, WECHAT_LOGIN

ME = "{ me { id phoneMasked } }"
STAFF_ME = "{ staffMe { id name role } }"
BIND_PHONE = """
mutation($code: String!) {
  bindPhone(code: $code) { customer { id phoneMasked } userErrors { code field message } }
}
"""
REFRESH = """
mutation($t: String!) {
  refreshSession(refreshToken: $t) { accessToken refreshToken userErrors { code message } }
}
"""
LOGOUT = "mutation { logout }"


def error_codes(body: dict) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


async def count_customers(sessionmaker) -> int:
    async with sessionmaker() as session:
        return (await session.execute(select(func.count()).select_from(Customer))).scalar_one()


# ------------------------------------------------------------------ WeChat login

async def test_wechat_login_creates_one_customer_per_openid(api, sessionmaker):
    # given / when: the same WeChat user logs in twice
    first = (await api.data(WECHAT_LOGIN, {"code": "wx-alice"}))["wechatLogin"]
    second = (await api.data(WECHAT_LOGIN, {"code": "wx-alice"}))["wechatLogin"]

    # then
    assert first["userErrors"] == []
    assert first["customer"]["id"] == second["customer"]["id"]
    assert first["expiresIn"] == 900
    assert await count_customers(sessionmaker) == 1
    me = await api.data(ME, token=first["accessToken"])
    assert me["me"] == {"id": first["customer"]["id"], "phoneMasked": None}


async def test_session_key_never_leaves_the_server(api):
    # when
    body = await api.post(WECHAT_LOGIN, {"code": "wx-alice"})
    # then
    assert "session_key" not in str(body) and "sessionKey" not in str(body)


@pytest.mark.parametrize(
    "code, expected",
    [("bad-code", "CODE_INVALID"), ("busy-now", "UPSTREAM_UNAVAILABLE"),
     ("slow-timeout", "UPSTREAM_UNAVAILABLE"), ("   ", "INVALID_INPUT")],
)
async def test_wechat_login_failures_are_user_errors_and_create_nothing(api, sessionmaker, code, expected):
    # when
    body = await api.post(WECHAT_LOGIN, {"code": code})

    # then
    assert "errors" not in body
    payload = body["data"]["wechatLogin"]
    assert [e["code"] for e in payload["userErrors"]] == [expected]
    assert payload["accessToken"] is None
    assert await count_customers(sessionmaker) == 0


async def test_chinese_by_default_english_on_request(api):
    # given
    chinese = await api.post(WECHAT_LOGIN, {"code": "bad-code"}, headers={"accept-language": "zh-CN,zh;q=0.9"})
    default = await api.post(WECHAT_LOGIN, {"code": "bad-code"})
    # when
    english = await api.post(WECHAT_LOGIN, {"code": "bad-code"}, headers={"accept-language": "en-GB,en;q=0.9"})
    # then
    assert chinese["data"]["wechatLogin"]["userErrors"][0]["message"] == "微信登录未通过，请重试"
    assert default["data"]["wechatLogin"]["userErrors"][0]["message"] == "微信登录未通过，请重试"
    assert english["data"]["wechatLogin"]["userErrors"][0]["message"] == "WeChat did not accept the login; please try again"


# ------------------------------------------------------------------ phone binding

async def test_bind_phone_masks_the_number_and_codes_are_single_use(api, world):
    # given
    token, _ = await world.customer()

    # when
    bound = (await api.data(BIND_PHONE, {"code": "phone-13812345678"}, token))["bindPhone"]
    reused = (await api.data(BIND_PHONE, {"code": "phone-13812345678"}, token))["bindPhone"]

    # then
    assert bound["userErrors"] == []
    assert bound["customer"]["phoneMasked"] == "138****5678"
    assert [e["code"] for e in reused["userErrors"]] == ["CODE_INVALID"]
    assert (await api.data(ME, token=token))["me"]["phoneMasked"] == "138****5678"


async def test_bind_phone_needs_a_customer(api, world):
    # given
    _, staff_token = await world.staff("hq-root")
    anonymous = (await api.data(BIND_PHONE, {"code": "phone-13812345678"}))["bindPhone"]
    # when
    as_staff = (await api.data(BIND_PHONE, {"code": "phone-13812345678"}, staff_token))["bindPhone"]
    # then
    assert [e["code"] for e in anonymous["userErrors"]] == ["UNAUTHENTICATED"]
    assert [e["code"] for e in as_staff["userErrors"]] == ["FORBIDDEN"]


async def test_wechat_access_token_has_one_refresher_at_a_time(app, wechat_server):
    # given: no cached token; when: twenty calls need it at once
    client = app.state.wechat
    client._token = None
    tokens_seen = await asyncio.gather(*[client.access_token() for _ in range(20)])

    # then: one stable_token round trip served all of them
    assert wechat_server.fake.calls["stable_token"] == 1
    assert len(set(tokens_seen)) == 1


# ------------------------------------------------------------------ staff login and throttling

async def test_staff_login_and_staff_me(api, world):
    # given
    row, token = await world.staff("hq-root")
    # when
    me = (await api.data(STAFF_ME, token=token))["staffMe"]
    # then
    assert me["name"] == "hq-root" and me["role"] == "HQ_ADMIN"


async def test_wrong_password_is_unauthenticated(api, world):
    # given
    await world.staff("hq-root")
    # when
    payload = (await api.data(STAFF_LOGIN, {"u": "hq-root", "p": "wrong-password"}))["staffLogin"]
    # then
    assert [e["code"] for e in payload["userErrors"]] == ["UNAUTHENTICATED"]
    assert payload["accessToken"] is None


async def test_repeated_failures_lock_the_username_even_for_the_right_password(api, world):
    await world.staff("hq-root")
    # when: five concurrent wrong guesses
    results = await asyncio.gather(
        *[api.data(STAFF_LOGIN, {"u": "hq-root", "p": f"guess-{i}"}) for i in range(5)]
    )
    assert all(r["staffLogin"]["userErrors"][0]["code"] == "UNAUTHENTICATED" for r in results)

    # then: every one was counted, so even the right password is now refused
    locked = (await api.data(STAFF_LOGIN, {"u": "HQ-Root", "p": PASSWORD}))["staffLogin"]
    assert [e["code"] for e in locked["userErrors"]] == ["RATE_LIMITED"]
    assert locked["accessToken"] is None


async def test_unknown_usernames_are_throttled_too(api):
    # given
    for i in range(5):
        await api.data(STAFF_LOGIN, {"u": "nobody", "p": f"guess-{i}"})
    # when
    payload = (await api.data(STAFF_LOGIN, {"u": "nobody", "p": "again"}))["staffLogin"]
    # then
    assert [e["code"] for e in payload["userErrors"]] == ["RATE_LIMITED"]


async def test_a_customer_token_cannot_read_staff_data(api, world):
    # given
    token, _ = await world.customer()
    # when
    body = await api.post(STAFF_ME, token=token)
    # then
    assert body["data"]["staffMe"] is None
    assert error_codes(body) == ["FORBIDDEN"]


async def test_no_token_is_unauthenticated(api):
    # when
    body = await api.post(ME)
    # then
    assert body["data"]["me"] is None
    assert error_codes(body) == ["UNAUTHENTICATED"]


# ------------------------------------------------------------------ bad tokens

def forge(**overrides) -> str:
    now = dt.datetime.now(dt.timezone.utc)
    claims = {"iss": tokens.ISSUER, "aud": tokens.AUDIENCE, "typ": "access", "sub": "customer:1",
              "sid": "x", "iat": now, "exp": now + dt.timedelta(minutes=5)}
    secret = overrides.pop("secret", TEST_SECRET)
    algorithm = overrides.pop("algorithm", "HS256")
    claims.update(overrides)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, secret, algorithm=algorithm)


async def test_forged_expired_and_misaddressed_tokens_are_refused(api, world):
    # given
    good, payload = await world.customer()
    claims = jwt.decode(good, options={"verify_signature": False})
    base = {"sub": claims["sub"], "sid": claims["sid"]}
    past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
    bad_tokens = [
        forge(**base, secret="another-secret-" + "y" * 40),
        forge(**base, exp=past, iat=past - dt.timedelta(minutes=15)),
        forge(**base, aud="someone-else"),
        forge(**base, iss="someone-else"),
        forge(**base, typ="refresh"),
        forge(**base, typ=None),
        jwt.encode({**base, "iss": tokens.ISSUER, "aud": tokens.AUDIENCE, "typ": "access"}, None,
                   algorithm="none"),
        good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB"),
        "not-a-jwt",
    ]
    # when / then
    for bad in bad_tokens:
        body = await api.post(ME, token=bad)
        assert error_codes(body) == ["UNAUTHENTICATED"], bad
    # and the good one still works
    assert (await api.data(ME, token=good))["me"]["id"] == payload["customer"]["id"]


# ------------------------------------------------------------------ refresh and logout

async def test_refresh_rotates_and_reuse_revokes_the_family(api, world):
    token, login = await world.customer()
    first = (await api.data(REFRESH, {"t": login["refreshToken"]}))["refreshSession"]
    assert first["userErrors"] == [] and first["refreshToken"] != login["refreshToken"]
    assert (await api.data(ME, token=first["accessToken"]))["me"] is not None

    # when: the old (rotated) refresh token is presented again
    reuse = (await api.data(REFRESH, {"t": login["refreshToken"]}))["refreshSession"]

    # then: refused, and the whole family is dead, including the newest tokens
    assert [e["code"] for e in reuse["userErrors"]] == ["UNAUTHENTICATED"]
    newest = (await api.data(REFRESH, {"t": first["refreshToken"]}))["refreshSession"]
    assert [e["code"] for e in newest["userErrors"]] == ["UNAUTHENTICATED"]
    assert error_codes(await api.post(ME, token=first["accessToken"])) == ["UNAUTHENTICATED"]
    assert error_codes(await api.post(ME, token=token)) == ["UNAUTHENTICATED"]


async def test_concurrent_use_of_one_refresh_token_yields_one_rotation(api, world):
    # given
    _, login = await world.customer()
    # when
    results = await asyncio.gather(
        *[api.data(REFRESH, {"t": login["refreshToken"]}) for _ in range(8)]
    )
    successes = [r for r in results if not r["refreshSession"]["userErrors"]]
    # then
    assert len(successes) <= 1
    assert all(
        r["refreshSession"]["userErrors"][0]["code"] == "UNAUTHENTICATED"
        for r in results if r not in successes
    )


async def test_unknown_refresh_token(api):
    # when
    payload = (await api.data(REFRESH, {"t": "nope"}))["refreshSession"]
    # then
    assert [e["code"] for e in payload["userErrors"]] == ["UNAUTHENTICATED"]


async def test_logout_ends_access_and_refresh(api, world, sessionmaker):
    # given
    token, login = await world.customer()
    # when / then
    assert (await api.data(LOGOUT, token=token))["logout"] is True

    assert error_codes(await api.post(ME, token=token)) == ["UNAUTHENTICATED"]
    # when
    refreshed = (await api.data(REFRESH, {"t": login["refreshToken"]}))["refreshSession"]
    # then
    assert [e["code"] for e in refreshed["userErrors"]] == ["UNAUTHENTICATED"]
    assert (await api.data(LOGOUT, token=token))["logout"] is False
    async with sessionmaker() as session:
        reasons = (await session.execute(select(AuthSession.revoke_reason))).scalars().all()
    assert reasons == ["logout"]


async def test_a_deactivated_staff_token_stops_working(api, world, sessionmaker):
    # given
    row, token = await world.staff("hq-root")
    async with sessionmaker() as session:
        staff = await session.get(type(row), row.id)
        staff.active = False
        await session.commit()
    # when / then
    assert error_codes(await api.post(STAFF_ME, token=token)) == ["UNAUTHENTICATED"]
