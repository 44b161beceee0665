"""A variable that does not fit its type is the client's mistake: INVALID_INPUT with GraphQL's own
message (in English; a Chinese caller reads what the code means, GraphQL's words kept in
extensions.detail for the developer), never "Unexpected error." (the autouse guard also fails the
test on a logged error)."""
from __future__ import annotations

import json

import pytest

from tests.hardening.common import top_codes

SLOTS = 'query($d: Date!) { availableSlots(storeId: "U3RvcmU6MQ", serviceId: "U2VydmljZVR5cGU6MQ", date: $d) { remaining } }'
NEARBY = "query($n: Int!) { nearbyStores(lat: 31.2, lng: 121.4, first: $n) { distanceMeters } }"
NEARBY_F = "query($x: Float!) { nearbyStores(lat: $x, lng: 121.4) { distanceMeters } }"
COORD = "query($c: CoordSystem!) { nearbyStores(lat: 31.2, lng: 121.4, coordSystem: $c) { distanceMeters } }"
OPEN_AT = 'query($t: DateTime!) { store(id: "U3RvcmU6MQ") { isOpenAt(at: $t) } }'
UPSERT_STORE = "mutation($input: StoreInput!) { upsertStore(input: $input) { userErrors { code } } }"

CASES = [
    (SLOTS, {"d": "2026-13-01"}, "month must be in 1..12"),
    (SLOTS, {"d": "tomorrow"}, "Date"),
    (SLOTS, {"d": 20260101}, "Expected a string"),
    (SLOTS, {}, "to be provided"),
    (NEARBY, {"n": "abc"}, "Int cannot represent"),
    (NEARBY, {"n": 1.5}, "Int cannot represent"),
    (NEARBY, {"n": 2**40}, "Int cannot represent"),
    (NEARBY, {"n": None}, "non-null"),
    (COORD, {"c": "MERCATOR"}, "does not exist in 'CoordSystem'"),
    (OPEN_AT, {"t": "2026-02-30T10:00:00+08:00"}, "DateTime"),
    (UPSERT_STORE, {"input": {"code": "S1", "nickname": "x"}}, "unknown field 'nickname'"),
]


@pytest.mark.parametrize("query,variables,says", CASES)
async def test_a_variable_of_the_wrong_shape_is_invalid_input(http, query, variables, says):
    # when a variable does not fit its type
    resp = await http.post("/graphql", json={"query": query, "variables": variables},
                           headers={"accept-language": "en"})
    chinese = (await http.post("/graphql", json={"query": query, "variables": variables})).json()
    body = resp.json()
    # then GraphQL says why, coded INVALID_INPUT, and nothing ran
    assert resp.status_code == 200 and body.get("data") is None
    assert set(top_codes(body)) == {"INVALID_INPUT"}
    assert any(says in e["message"] for e in body["errors"])
    assert {e["message"] for e in chinese["errors"]} == {"输入有误，请检查后重试"}
    assert any(says in e["extensions"]["detail"] for e in chinese["errors"])


async def test_nan_is_not_a_float(http):
    # given a JSON body with NaN (Python's json reads it; GraphQL's Float may not hold it)
    raw = json.dumps({"query": NEARBY_F, "variables": {"x": float("nan")}})
    # when it is posted
    resp = await http.post("/graphql", content=raw, headers={"content-type": "application/json"})
    # then it is the client's mistake
    assert resp.status_code == 200 and top_codes(resp.json()) == ["INVALID_INPUT"]


async def test_the_same_value_inline_is_a_validation_error(http):
    # when the bad value is written in the document
    resp = await http.post("/graphql", json={"query": SLOTS.replace("$d", '"2026-13-01"').replace(
        "query(: Date!) ", "query ")})
    # then validation refuses it with its own message
    assert resp.status_code == 200 and "errors" in resp.json() and "INTERNAL" not in resp.text
