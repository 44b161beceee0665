"""Persisted operations: APQ hashes, documents from the apps' manifests, and trusted-only mode."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import httpx
import pytest

from storelink.app import create_app
from tests.builders import PHONE_KEY, TEST_SECRET

PRIVACY = "query Privacy { privacyPolicy { version } }"
PRODUCTS = "query Products($n: Int!) { products(first: $n) { edges { cursor } } }"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def apq(text: str) -> dict:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha(text)}}


def trust(database_url: str, tmp_path, manifest: object) -> subprocess.CompletedProcess:
    """`storelink trust-documents FILE`, as an operator runs it after a mini-program build."""
    path = tmp_path / "persisted-documents.json"
    path.write_text(manifest if isinstance(manifest, str) else json.dumps(manifest), encoding="utf-8")
    env = {**os.environ, "DATABASE_URL": database_url, "JWT_SECRET": TEST_SECRET, "PHONE_ENCRYPTION_KEY": PHONE_KEY}
    env.pop("DEBUG", None)
    return subprocess.run([sys.executable, "-m", "storelink", "trust-documents", str(path)], env=env,
                          capture_output=True, text=True, timeout=120)


def errors(resp: httpx.Response) -> list[tuple[str, str]]:
    assert resp.status_code == 200, resp.text
    return [(e["extensions"]["code"], e["message"]) for e in resp.json().get("errors", [])]


async def test_an_unknown_hash_asks_for_the_text_then_the_hash_alone_works(client):
    # when: the APQ dance - hash only, then hash and text, then hash only again
    unknown = await client.post("/graphql", json={"extensions": apq(PRIVACY)})
    registered = await client.post("/graphql", json={"query": PRIVACY, "extensions": apq(PRIVACY)})
    by_hash = await client.post("/graphql", json={"extensions": apq(PRIVACY)})
    # then
    assert errors(unknown) == [("PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound")]
    assert registered.json() == by_hash.json() == {"data": {"privacyPolicy": {"version": "2026-01"}}}


async def test_a_hash_that_does_not_match_its_text_is_refused(client):
    # when
    resp = await client.post("/graphql", json={"query": PRIVACY, "extensions": apq(PRODUCTS)})
    # then
    assert errors(resp) == [("INVALID_INPUT", "哈希值与查询内容不符")]
    # when
    # and the text was not remembered under the wrong hash
    again = await client.post("/graphql", json={"extensions": apq(PRODUCTS)}, headers={"accept-language": "en"})
    # then
    assert errors(again) == [("PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound")]


@pytest.mark.parametrize("body", [
    {"extensions": {"persistedQuery": {"version": 2, "sha256Hash": "0" * 64}}},
    {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "abc"}}},
    {"extensions": {"persistedQuery": "yes"}},
    {"documentId": 17},
    {"documentId": "x" * 201},
    {"doc_id": ""},
])
async def test_malformed_persisted_requests_are_input_errors(client, body):
    # when
    resp = await client.post("/graphql", json=body, headers={"accept-language": "en"})
    # then
    assert [code for code, _ in errors(resp)] == ["INVALID_INPUT"]


async def test_documents_from_a_manifest_run_by_id_or_hash(client, database_url, tmp_path):
    # given a graphql-codegen manifest (sha256 ids) and a relay one (its own ids)
    codegen = trust(database_url, tmp_path, {sha(PRIVACY): PRIVACY})
    relay = trust(database_url, tmp_path, {"a1b2c3": PRODUCTS, sha(PRIVACY): PRIVACY})
    # when
    by_codegen_id = await client.post("/graphql", json={"documentId": sha(PRIVACY)})
    by_relay_id = await client.post("/graphql", json={"doc_id": "a1b2c3", "variables": {"n": 1}})
    by_hash = await client.post("/graphql", json={"extensions": apq(PRODUCTS), "variables": {"n": 1}})
    unknown_id = await client.post("/graphql", json={"documentId": "nope"})
    # then
    assert (codegen.returncode, codegen.stdout.strip()) == (0, "1 documents trusted, 0 already trusted")
    assert (relay.returncode, relay.stdout.strip()) == (0, "1 documents trusted, 1 already trusted")
    assert by_codegen_id.json() == {"data": {"privacyPolicy": {"version": "2026-01"}}}
    assert by_relay_id.json() == by_hash.json() == {"data": {"products": {"edges": []}}}
    assert errors(unknown_id) == [("PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound")]


async def test_apollo_manifests_load_too(client, database_url, tmp_path):
    # when
    manifest = {"format": "apollo-persisted-query-manifest", "version": 1,
                "operations": [{"id": sha(PRIVACY), "name": "Privacy", "type": "query", "body": PRIVACY}]}
    # then
    assert trust(database_url, tmp_path, manifest).returncode == 0
    # when
    resp = await client.post("/graphql", json={"documentId": sha(PRIVACY)})
    # then
    assert resp.json() == {"data": {"privacyPolicy": {"version": "2026-01"}}}


@pytest.mark.parametrize("manifest, says", [
    ("not json", "not JSON"),
    ([PRIVACY], "expected a JSON object"),
    ({}, "expected a JSON object"),
    ({"ok": PRIVACY, "bad": "query { noSuchField }"}, "does not fit the schema"),
    ({"ok": PRIVACY, "broken": "query {"}, "does not fit the schema"),
    ({"ok": PRIVACY, "empty": "  "}, "documents non-empty text"),
])
async def test_a_bad_manifest_loads_nothing(client, database_url, tmp_path, manifest, says):
    # when
    run = trust(database_url, tmp_path, manifest)
    # then
    assert run.returncode != 0 and says in run.stderr and "nothing was loaded" in run.stderr
    # when
    resp = await client.post("/graphql", json={"documentId": "ok"})
    # then
    assert errors(resp) == [("PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound")]


async def test_a_trusted_id_keeps_its_text(client, database_url, tmp_path):
    # when / then
    assert trust(database_url, tmp_path, {"op1": PRIVACY}).returncode == 0
    changed = trust(database_url, tmp_path, {"op1": PRODUCTS})
    assert changed.returncode != 0 and "already trusted with other text" in changed.stderr
    # when
    resp = await client.post("/graphql", json={"documentId": "op1"})
    # then
    assert resp.json() == {"data": {"privacyPolicy": {"version": "2026-01"}}}


async def test_trusted_only_mode_runs_only_the_apps_documents(app, settings, database_url, tmp_path):
    # given a server that accepts trusted documents only, and one trusted document
    assert trust(database_url, tmp_path, {"privacy": PRIVACY}).returncode == 0
    strict = create_app(settings.model_copy(update={"trusted_documents_only": True}))
    async with strict.router.lifespan_context(strict):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=strict), base_url="http://t") as client:
            # when
            by_id = await client.post("/graphql", json={"documentId": "privacy"})
            trusted_text = await client.post("/graphql", json={"query": PRIVACY})
            raw = await client.post("/graphql", json={"query": PRODUCTS, "variables": {"n": 1}})
            raw_en = await client.post("/graphql", json={"query": PRODUCTS, "variables": {"n": 1}},
                                       headers={"accept-language": "en"})
            registering = await client.post("/graphql", json={"query": PRODUCTS, "extensions": apq(PRODUCTS),
                                                              "variables": {"n": 1}})
            hash_only = await client.post("/graphql", json={"extensions": apq(PRODUCTS), "variables": {"n": 1}})
    # then
    assert by_id.json() == trusted_text.json() == {"data": {"privacyPolicy": {"version": "2026-01"}}}
    assert errors(raw) == [("TRUSTED_DOCUMENT_REQUIRED", "仅接受应用已登记的操作，请发送文档编号")]
    assert errors(raw_en) == [("TRUSTED_DOCUMENT_REQUIRED",
                               "Only the app's registered operations are accepted; send a documentId")]
    assert [c for c, _ in errors(registering)] == ["TRUSTED_DOCUMENT_REQUIRED"]
    assert [c for c, _ in errors(hash_only)] == ["PERSISTED_QUERY_NOT_FOUND"]
