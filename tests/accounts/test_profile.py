"""The customer's own profile (updateProfile) and the privacy policy the mini-program shows."""
import pytest

from tests.builders import codes_of, member_customer

UPDATE = """
mutation($n: String, $a: String) {
  updateProfile(nickname: $n, avatarUrl: $a) { customer { nickname avatarUrl } userErrors { code field message } }
}
"""
ME = "{ me { nickname avatarUrl } }"
AVATAR = "https://thirdwx.qlogo.cn/mmopen/vi_32/abc/132"


async def test_a_customer_edits_nickname_and_avatar(api, world):
    # given
    token, _ = await world.customer("wx-alice")
    # when
    both = (await api.data(UPDATE, {"n": "  小红  ", "a": AVATAR}, token))["updateProfile"]
    only_name = (await api.data(UPDATE, {"n": "Alice 🌸"}, token))["updateProfile"]
    # then: a null argument leaves that field as it was
    assert both == {"customer": {"nickname": "小红", "avatarUrl": AVATAR}, "userErrors": []}
    assert only_name["customer"] == {"nickname": "Alice 🌸", "avatarUrl": AVATAR}
    assert (await api.data(ME, token=token))["me"] == {"nickname": "Alice 🌸", "avatarUrl": AVATAR}


@pytest.mark.parametrize("variables, field", [
    ({"n": ""}, "nickname"),
    ({"n": "   "}, "nickname"),
    ({"n": "长" * 33}, "nickname"),
    ({"n": "a\x07b"}, "nickname"),
    ({"n": "line\nbreak"}, "nickname"),
    ({"a": "http://example.com/a.png"}, "avatarUrl"),
    ({"a": "https://"}, "avatarUrl"),
    ({"a": "javascript:alert(1)"}, "avatarUrl"),
    ({"a": "https://example.com/a b.png"}, "avatarUrl"),
    ({"a": "https://example.com/" + "a" * 1010}, "avatarUrl"),
])
async def test_bad_profile_values_change_nothing(api, world, variables, field):
    # given
    token, _ = await world.customer("wx-alice")
    await api.data(UPDATE, {"n": "小红", "a": AVATAR}, token)
    # when: a good value beside the bad one
    payload = (await api.data(UPDATE, {"n": "小明", "a": AVATAR + "?v=2", **variables}, token))["updateProfile"]
    # then
    assert codes_of(payload) == ["INVALID_INPUT"] and payload["userErrors"][0]["field"] == [field]
    assert payload["customer"] is None
    assert (await api.data(ME, token=token))["me"] == {"nickname": "小红", "avatarUrl": AVATAR}


async def test_the_longest_allowed_values_are_kept(api, world):
    # given
    token, _ = await world.customer("wx-alice")
    longest = "https://example.com/" + "a" * (1024 - len("https://example.com/"))
    # when
    payload = (await api.data(UPDATE, {"n": "长" * 32, "a": longest}, token))["updateProfile"]
    # then
    assert payload["userErrors"] == [] and payload["customer"] == {"nickname": "长" * 32, "avatarUrl": longest}


async def test_only_a_signed_in_customer_edits_a_profile(api, world):
    # given
    anonymous = (await api.data(UPDATE, {"n": "x"}))["updateProfile"]
    _, staff_token = await world.staff("admin")
    # when
    staff = (await api.data(UPDATE, {"n": "x"}, staff_token))["updateProfile"]
    # then
    assert codes_of(anonymous) == ["UNAUTHENTICATED"]
    assert codes_of(staff) == ["FORBIDDEN"]


async def test_the_privacy_policy_is_public_and_is_what_joining_requires(api, world):
    # given
    policy = (await api.data("{ privacyPolicy { version url } }"))["privacyPolicy"]
    token = await member_customer(api, world, "bob")
    # when: joining with the version the API named
    joined = await api.data(
        "mutation($v: String!) { joinOnline(consent: {privacyPolicyVersion: $v, marketing: false}) "
        "{ userErrors { code } } }", {"v": policy["version"]}, token)
    # then
    assert policy == {"version": "2026-01", "url": None}
    assert joined["joinOnline"]["userErrors"] == []
