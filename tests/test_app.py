"""Cross-cutting behaviour: health, limits, introspection, error masking, logs, settings, schema."""
import logging
from pathlib import Path

import httpx
import pytest
import strawberry
from pydantic import ValidationError

from storelink.api.schema import schema_sdl
from storelink.app import create_app
from storelink.graphql.errors import ErrorPolicy
from storelink.graphql.relay import to_global_id
from storelink.logs import RedactingFilter, redact
from storelink.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


async def test_health_and_readiness(client):
    # when / then
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    # when
    ready = await client.get("/readyz")
    # then
    assert ready.status_code == 200 and ready.json()["database"] == "up"
    assert ready.headers["x-request-id"]


async def test_readiness_fails_when_the_database_is_gone(settings):
    # given
    app = create_app(settings.model_copy(update={"database_url": "postgresql://nobody@127.0.0.1:1/none"}))
    # when
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            resp = await c.get("/readyz")
    # then
    assert resp.status_code == 503


async def test_too_deep_a_query_is_refused(api):
    # given
    # The schema has no cycles deep enough yet, so the depth rule is shown on a nested document;
    # it is checked before (and whatever else) the document contains.
    selection = "id"
    for _ in range(11):
        selection = f"store(id: \"x\") {{ {selection} }}"
    # when
    body = await api.post("{ " + selection + " }")
    # then
    assert body.get("data") is None
    assert any("exceeds maximum operation depth of 10" in e["message"] for e in body["errors"])


async def test_alias_and_token_limits(api):
    # given
    aliases = "{ " + " ".join(f"a{i}: store(id: \"x\") {{ id }}" for i in range(16)) + " }"
    # when
    body = await api.post(aliases)
    # then
    assert body["errors"][0]["message"] == "16 aliases found. Allowed: 15"
    # when
    tokens = "{ " + " ".join(["__typename"] * 2100) + " }"
    body = await api.post(tokens)
    # then
    assert body.get("data") is None
    assert "2000 tokens" in body["errors"][0]["message"]


async def test_a_malformed_document_gets_a_clean_error_twice(api):
    # when / then
    # Twice: the second time the parse cache must not hand back anything for it.
    for _ in range(2):
        body = await api.post("{ store(id: ")
        assert body.get("data") is None
        assert body["errors"][0]["message"].startswith("Syntax Error")


async def test_introspection_and_suggestions_are_off_without_debug(api):
    # when
    body = await api.post("{ __schema { types { name } } }")
    # then
    assert body["errors"] and body.get("data") is None
    # when
    body = await api.post("{ nearbyStore(lat: 1, lng: 1) { distanceMeters } }")
    # then
    assert "Did you mean" not in body["errors"][0]["message"]


async def test_introspection_is_on_with_debug(settings):
    # given
    app = create_app(settings.model_copy(update={"debug": True}))
    # when
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            resp = await c.post("/graphql", json={"query": "{ __schema { queryType { name } } }"})
            ide = await c.get("/graphql", headers={"accept": "text/html"})
    # then
    assert resp.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
    assert ide.status_code == 200 and "graphiql" in ide.text.lower()


async def test_no_ide_without_debug(client):
    # when
    resp = await client.get("/graphql", headers={"accept": "text/html"})
    # then
    assert "graphiql" not in resp.text.lower()


@strawberry.type
class _Broken:
    @strawberry.field
    def boom(self) -> str:
        raise RuntimeError("db password hunter2 for 13812345678")


@pytest.mark.server_error_expected
async def test_unexpected_errors_are_masked_and_logged_with_the_request_id(caplog):
    # given
    schema = strawberry.Schema(query=_Broken, extensions=[ErrorPolicy])
    handler_filter = RedactingFilter()
    caplog.handler.addFilter(handler_filter)
    # when
    with caplog.at_level(logging.ERROR, logger="storelink.graphql"):
        result = await schema.execute("{ boom }")
    error = result.errors[0]
    # then
    assert error.message == "系统繁忙，请稍后再试"  # no request: Chinese, the default
    assert error.extensions["code"] == "INTERNAL" and "requestId" in error.extensions
    assert "hunter2" not in str(result.errors)
    logged = caplog.text
    assert "boom" in logged and "RuntimeError" in logged
    assert "13812345678" not in " ".join(r.getMessage() for r in caplog.records)


def test_logs_redact_phones_tokens_and_codes():
    # given
    line = ("login 13812345678 Authorization: Bearer abc.def.ghi "
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig GET /sns/jscode2session?appid=a&js_code=0a1b2c&secret=s")
    # when
    clean = redact(line)
    # then
    assert "13812345678" not in clean and "138****5678" in clean
    assert "abc.def.ghi" not in clean and "eyJhbGciOiJIUzI1NiJ9" not in clean
    assert "0a1b2c" not in clean and "secret=s" not in clean


@pytest.mark.parametrize("secret", [None, "short", "changeme"])
def test_settings_refuse_a_missing_or_weak_secret(monkeypatch, secret):
    # given
    monkeypatch.delenv("DEBUG", raising=False)
    monkeypatch.delenv("JWT_SECRET", raising=False)
    # when / then
    with pytest.raises(ValidationError):
        Settings(jwt_secret=secret)


@pytest.mark.parametrize("key", [None, "short"])
def test_settings_refuse_a_missing_or_short_phone_key(monkeypatch, key):
    # given
    monkeypatch.delenv("DEBUG", raising=False)
    monkeypatch.delenv("PHONE_ENCRYPTION_KEY", raising=False)
    # when / then
    with pytest.raises(ValidationError, match="PHONE_ENCRYPTION_KEY|phone encryption keys"):
        Settings(jwt_secret="s" * 40, phone_encryption_key=key)


def test_settings_from_environment(monkeypatch, tmp_path):
    # given
    monkeypatch.setenv("JWT_SECRET", "s" * 40)
    monkeypatch.setenv("PHONE_ENCRYPTION_KEY", "k" * 40)
    monkeypatch.setenv("MEMBER_CODE_TTL_SECONDS", "45")
    monkeypatch.setenv("BINDING_PROTECTION_DAYS", "14")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://shop.example.cn")
    # when
    s = Settings()
    # then
    assert (s.member_code_ttl_seconds, s.binding_protection_days, s.public_base_url) == (
        45, 14, "https://shop.example.cn")
    monkeypatch.delenv("JWT_SECRET")
    monkeypatch.setenv("DEBUG", "1")
    monkeypatch.setenv("STORELINK_DATA_DIR", str(tmp_path))
    assert len(Settings().jwt_secret) >= 32  # DEBUG gets a random key kept in the data directory


def test_exported_schema_is_current():
    # when / then
    assert (ROOT / "schema.graphql").read_text() == schema_sdl(), "run `storelink export-schema`"


async def test_sibling_fields_share_the_signed_in_caller(api, world, count_statements):
    # given: sibling fields resolve concurrently, and each asks who is calling
    _, token = await world.staff("hq-race")
    # when
    with count_statements() as counted:
        data = await api.data("{ a: staffMe { name } b: staffMe { name } c: staffMe { name } }", token=token)
    # then: all three see the caller, looked up once
    assert data == {"a": {"name": "hq-race"}, "b": {"name": "hq-race"}, "c": {"name": "hq-race"}}
    assert counted.count <= 3


@pytest.mark.parametrize("document", [
    '{ node(id: "%s") { id } }' % to_global_id("Order", 1),
    '{ node(id: "%s") { id } }' % to_global_id("Appointment", 1),
    'mutation { recordRecommendationFeedback(id: "%s", feedback: CLICKED) }' % to_global_id("Recommendation", 1),
])
async def test_fields_open_to_customers_and_staff_refuse_anonymous_callers(api, document):
    # when
    body = await api.post(document)
    # then
    assert body["data"] in (None, {"node": None})  # node is nullable; the Boolean is not
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
