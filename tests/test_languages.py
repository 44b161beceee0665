"""The customer's journey read in Chinese and in English: every message in the caller's language.

One walk through the mini-program's everyday mistakes and successes, once with
`Accept-Language: zh-CN` (no English word in any message) and once with `en` (no Chinese)."""
import re

import pytest

from tests.builders import ADD, CHECKOUT, CLAIM, WECHAT_LOGIN
from tests.test_i18n import LATIN_ALLOWED

CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]")
JOIN_ONLINE = """mutation($v: String!) { joinOnline(consent: {privacyPolicyVersion: $v, marketing: true}) {
  userErrors { code message } } }"""
PROFILE = "mutation($a: String) { updateProfile(avatarUrl: $a) { userErrors { code message } } }"
BIND_PHONE = "mutation($c: String!) { bindPhone(code: $c) { userErrors { code message } } }"
RECS = "query { recommendations(context: CART, first: 5) { reasons } }"


class Journey:
    """Posts as one customer in one language and keeps every message the API said."""

    def __init__(self, api, lang: str):
        self.api, self.lang, self.token = api, lang, None
        self.messages: list[str] = []
        self.reasons: list[str] = []

    async def post(self, query: str, variables: dict | None = None) -> dict:
        body = await self.api.post(query, variables, self.token, headers={"accept-language": self.lang})
        self.messages += [e["message"] for e in body.get("errors", [])]
        for payload in (body.get("data") or {}).values():
            if isinstance(payload, dict) and payload.get("userErrors"):
                self.messages += [e["message"] for e in payload["userErrors"]]
        return body

    async def walk(self, mall, name: str, phone: str) -> None:
        assert (await self.post(WECHAT_LOGIN, {"code": "bad-code"}))["data"]["wechatLogin"]["userErrors"]
        self.token = (await self.post(WECHAT_LOGIN, {"code": f"wx-{name}"}))["data"]["wechatLogin"]["accessToken"]
        await self.post(JOIN_ONLINE, {"v": "2026-01"})  # PHONE_REQUIRED
        await self.post(BIND_PHONE, {"c": "bad-code"})  # CODE_INVALID
        await self.post(BIND_PHONE, {"c": f"phone-{phone}-{name}"})
        await self.post(JOIN_ONLINE, {"v": "1999-01"})  # CONSENT_REQUIRED
        await self.post(JOIN_ONLINE, {"v": "2026-01"})
        await self.post(PROFILE, {"a": "http://insecure.example/a.png"})
        await self.post(ADD, {"sku": mall.skus["COAT-M"], "q": 0})
        await self.post(ADD, {"sku": mall.skus["COAT-M"], "q": 999})
        await self.post(ADD, {"sku": "bm90LWFuLWlk", "q": 1})
        await self.post(ADD, {"sku": mall.skus["COAT-M"], "q": 1})
        self.reasons += [r for rec in (await self.post(RECS))["data"]["recommendations"] for r in rec["reasons"]]
        await self.post(CHECKOUT, {"input": {"fulfilment": "DELIVERY"}, "key": "k0"})
        await self.post(CHECKOUT, {"input": {"fulfilment": "STORE_PICKUP"}, "key": "k0"})
        await self.post(CHECKOUT, {"input": {"fulfilment": "STORE_PICKUP", "pickupStoreId": mall.stores["S1"],
                                             "pointsToRedeem": 5}, "key": "k0"})
        await self.post(CLAIM, {"c": "Q291cG9uQ2FtcGFpZ246OTk5OTk="})
        await self.post("query { clientBook { totalCount } }")  # FORBIDDEN, a top-level error
        await self.post("query($n: Int!) { products(first: $n) { edges { cursor } } }", {"n": "lots"})
        await self.post("query { products(first: 1000) { edges { cursor } } }")
        await self.post("query { products(first: 5, after: \"%%%\") { edges { cursor } } }")
        self.token = None
        await self.post("query { me { memberCode { code } } }")


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
async def test_the_journey_speaks_the_callers_language(api, mall, lang):
    # given
    journey = Journey(api, lang)
    # when
    await journey.walk(mall, f"lang-{lang}", "13912340000" if lang == "en" else "13912341111")
    # then: every step that failed said so, in one language
    assert len(journey.messages) == 17 and journey.reasons
    if lang == "zh-CN":
        english = {m: words for m in journey.messages + journey.reasons
                   if (words := set(re.findall(r"[A-Za-z]+", m)) - LATIN_ALLOWED)}
        assert english == {}
        assert all(CJK.search(m) for m in journey.messages)
    else:
        assert [m for m in journey.messages if CJK.search(m)] == []
        # reasons name the brand's own products (Chinese names); the words around them are English
        assert all(re.sub(r"羊\w+|纯棉T恤|S1店", "", r).isascii() for r in journey.reasons), journey.reasons
