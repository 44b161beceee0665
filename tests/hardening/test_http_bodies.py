"""What reaches /graphql before GraphQL: bodies that are not a JSON object, bodies too large to
read, documents that name no operation to run. Each is a JSON error with a 4xx, over real HTTP."""
from __future__ import annotations

import pytest

from storelink.limits import MAX_BODY_BYTES
from tests.hardening.common import top_codes

JSON = {"content-type": "application/json"}


@pytest.mark.parametrize("body", [b'"a string"', b"5", b"null", b"[1]", b"true", b"[" * 100_000 + b"]" * 100_000,
                                  b'{"query": ', b"\xff\xfe", b"[]", b'[{"query": "{ __typename }"}]'])
async def test_a_body_that_is_not_a_json_object_is_400(http, body):
    # when the body is not one JSON object
    resp = await http.post("/graphql", content=body, headers=JSON)
    # then the answer is a JSON error, and the connection is fine for the next request
    assert resp.status_code == 400 and resp.headers["content-type"].startswith("application/json")
    assert resp.json()["errors"][0]["message"]
    again = await http.post("/graphql", json={"query": "{ __typename }"})
    assert again.status_code == 200 and again.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("field,value", [("query", 5), ("variables", "x"), ("variables", [1]),
                                         ("extensions", "x")])
async def test_members_of_the_wrong_type_are_400(http, field, value):
    # given
    payload = {"query": "{ __typename }", field: value}
    # when
    resp = await http.post("/graphql", json=payload)
    # then
    assert resp.status_code == 400 and resp.json()["errors"][0]["message"]


async def test_a_body_over_the_limit_is_413_before_it_is_read(http):
    # given a body one byte over the limit, with its length declared
    big = b'{"query": "{ __typename }", "pad": "' + b"x" * MAX_BODY_BYTES + b'"}'
    # when it is posted
    resp = await http.post("/graphql", content=big, headers=JSON)
    # then it is refused as too large
    assert resp.status_code == 413 and top_codes(resp.json()) == ["INVALID_INPUT"]


async def test_a_chunked_body_over_the_limit_is_413(http):
    # given a body sent in chunks, with no length declared
    async def chunks():
        yield b'{"query": "{ __typename }", "pad": "'
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b"x" * 65536
        yield b'"}'

    # when it is posted
    resp = await http.post("/graphql", content=chunks(), headers=JSON)
    # then it is cut off as too large
    assert resp.status_code == 413


async def test_a_body_just_under_the_limit_is_read(http):
    # given
    pad = MAX_BODY_BYTES - 100
    # when
    resp = await http.post("/graphql", content=b'{"query": "{ __typename }", "pad": "' + b"x" * pad + b'"}',
                           headers=JSON)
    # then
    assert resp.status_code == 200 and resp.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("document,says", [
    ("query { __typename } query { __typename }", "must be the only defined operation"),
    ("query A { __typename } query B { __typename }", "Must provide operation name"),
    ("mutation A { logout } query B { __typename }", "Must provide operation name"),
    ("query { ...F }", "Unknown fragment 'F'"),
    ("query { ...F } fragment F on Query { ...G } fragment G on Query { ...F }", "Cannot spread fragment"),
    ("query { __typename ", "Syntax Error"),
])
async def test_documents_that_cannot_run_are_refused_with_their_reason(http, document, says):
    # when a document names no single operation, or a fragment that is not there
    resp = await http.post("/graphql", json={"query": document})
    body = resp.json()
    # then nothing ran and the reason is GraphQL's own
    assert resp.status_code == 200 and body.get("data") is None
    assert says in body["errors"][0]["message"]


async def test_an_operation_name_that_is_not_there_is_refused(http):
    # when
    resp = await http.post("/graphql", json={"query": "query A { __typename } query B { __typename }",
                                             "operationName": "C"})
    body = resp.json()
    # then
    assert body.get("data") is None and body["errors"][0]["message"]


async def test_a_named_operation_among_several_runs(http):
    # when
    resp = await http.post("/graphql", json={"query": "query A { a: __typename } query B { b: __typename }",
                                             "operationName": "B"})
    # then
    assert resp.json() == {"data": {"b": "Query"}}
