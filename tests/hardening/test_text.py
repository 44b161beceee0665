"""NUL and lone surrogates are refused in one place, before any resolver runs: INVALID_INPUT,
whether they come in a variable or written in the document, in any field; nothing is written."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from storelink.stores.models import Store
from tests.builders import STAFF_LOGIN, WEEK
from tests.hardening.common import top_codes

BAD = ["a\x00b", "\x00", "ab\ud800cd", "\udfff", "店\x00铺"]

UPSERT_STORE = "mutation($input: StoreInput!) { upsertStore(input: $input) { store { id } userErrors { code } } }"
PRODUCTS = "query($q: String) { products(query: $q) { edges { node { id } } } }"
JOIN = 'mutation($c: String!) { joinByCode(code: $c, consent: {privacyPolicyVersion: "2026-01", marketing: true}) { userErrors { code } } }'
CHECKOUT = "mutation($i: CheckoutInput!, $k: String!) { checkout(input: $i, idempotencyKey: $k) { userErrors { code } } }"
RECORD = "mutation($i: RecordStorePurchaseInput!) { recordStorePurchase(input: $i) { userErrors { code } } }"
PRODUCT = "mutation($i: ProductInput!) { upsertProduct(input: $i) { userErrors { code } } }"


def post_raw(client, query: str, variables: dict, token: str | None = None):
    # json.dumps writes a lone surrogate as the escape "\\ud800", exactly what a client may send
    headers = {"content-type": "application/json", **({"authorization": f"Bearer {token}"} if token else {})}
    return client.post("/graphql", content=json.dumps({"query": query, "variables": variables}), headers=headers)


@pytest.mark.parametrize("bad", BAD)
async def test_bad_text_in_every_kind_of_field_is_refused_and_changes_nothing(client, mall, sessionmaker, bad):
    token = await mall.member("texter")
    store_input = {"code": "S9", "name": f"店{bad}", "city": "上海", "address": "路", "lat": 31.2, "lng": 121.4,
                   "openingHours": WEEK}
    attempts = [
        (UPSERT_STORE, {"input": store_input}, mall.hq),
        (UPSERT_STORE, {"input": {**store_input, "name": "ok", "address": bad}}, mall.hq),
        (PRODUCTS, {"q": bad}, None),
        (STAFF_LOGIN, {"u": bad, "p": "whatever-password"}, None),
        (JOIN, {"c": bad}, token),
        (CHECKOUT, {"i": {"fulfilment": "DELIVERY", "address": bad}, "k": "k1"}, token),
        (CHECKOUT, {"i": {"fulfilment": "DELIVERY", "address": "上海"}, "k": bad}, token),
        (RECORD, {"i": {"storeId": mall.stores["S1"], "receiptNo": bad, "lines": []}}, mall.managers["S1"]),
        (PRODUCT, {"i": {"code": "P9", "name": "x", "category": "y", "skus": [], "tags": [bad]}}, mall.hq),
        (PRODUCT, {"i": {"code": "P9", "name": "x", "category": "y", "skus": [{"code": bad, "title": "t",
                                                                               "priceFen": 1}]}}, mall.hq),
    ]
    for query, variables, who in attempts:
        # when the text travels in a variable
        resp = await post_raw(client, query, variables, who)
        # then the whole request is refused before anything runs
        assert resp.status_code == 200, resp.text
        assert top_codes(resp.json()) == ["INVALID_INPUT"], (query, resp.text)
        assert resp.json().get("data") is None
    # and nothing was written
    async with sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(Store).where(Store.code == "S9"))).scalar() == 0


async def test_bad_text_written_in_the_document_is_refused(client):
    # when
    # a GraphQL string literal may spell NUL as \\u0000
    resp = await client.post("/graphql", json={"query": '{ products(query: "a\\u0000b") { edges { node { id } } } }'})
    # then
    assert top_codes(resp.json()) == ["INVALID_INPUT"]


async def test_bad_text_in_a_key_or_deep_inside_is_refused(client):
    # when
    resp = await post_raw(client, PRODUCTS, {"q": "ok", "x\x00": 1})
    # then
    assert top_codes(resp.json()) == ["INVALID_INPUT"]
    # when
    deep: object = "\x00"
    for _ in range(100):
        deep = [deep]
    resp = await post_raw(client, PRODUCTS, {"q": "ok", "deep": deep})
    # then
    assert top_codes(resp.json()) == ["INVALID_INPUT"]


@pytest.mark.parametrize("path", ["/qr/ab%00cd.png", "/qr/%ED%A0%80.png", "/qr/ab%00cd.svg", "/qr/%00.png",
                                  "/qr/" + "a" * 40 + ".png", "/qr/ab%00cd.wxa.png", "/qr/%ED%A0%80.wxa.png",
                                  "/qr/.wxa.png", "/qr/" + "a" * 40 + ".wxa.png"])
async def test_qr_images_of_impossible_codes_are_404(client, path):
    # when / then
    assert (await client.get(path)).status_code == 404


async def test_ordinary_chinese_and_emoji_text_still_passes(client, mall):
    # when
    resp = await post_raw(client, PRODUCTS, {"q": "羊毛大衣 🧥"})
    # then
    assert resp.status_code == 200 and "errors" not in resp.json()
