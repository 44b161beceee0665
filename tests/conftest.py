"""Test fixtures: a real PostgreSQL (DATABASE_URL's server, or an embedded one), a real fake-WeChat
HTTP server on 127.0.0.1, and the real app driven over ASGI."""
from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
import warnings
from dataclasses import dataclass

import asyncpg
import httpx
import pytest
from sqlalchemy import event, text
from sqlmodel import SQLModel

from storelink import migrate
from storelink.accounts import service as accounts
from storelink.app import create_app
from storelink.graphql.relay import from_global_id
from storelink.settings import Settings
from storelink.wechat.fake import FakeWeChatServer

def pk_of(gid: str) -> int:
    """The primary key inside a global ID (tests that set rows up directly need it)."""
    return int(from_global_id(gid)[1])


TEST_SECRET = "test-secret-" + "x" * 40
PASSWORD = "correct-horse-battery"
SANDBOX_SECRET = "sandbox-test-secret"


@pytest.fixture(scope="session")
def database_url():
    """A fresh, migrated database for this test session; dropped at the end."""
    admin_url = os.environ.get("DATABASE_URL")
    server = None
    if not admin_url:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pgserver

            server = pgserver.get_server(tempfile.mkdtemp(prefix="storelink-test-"), cleanup_mode="delete")
        admin_url = server.get_uri()
    name = f"storelink_test_{uuid.uuid4().hex[:10]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    base, _, query = admin_url.partition("?")
    url = base.rsplit("/", 1)[0] + "/" + name + (("?" + query) if query else "")
    migrate.upgrade(url)
    yield url
    asyncio.run(admin(f'DROP DATABASE "{name}" WITH (FORCE)'))
    if server is not None:
        server.cleanup()


@pytest.fixture(scope="session")
def wechat_server():
    server = FakeWeChatServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def settings(database_url, wechat_server) -> Settings:
    return Settings(
        database_url=database_url,
        jwt_secret=TEST_SECRET,
        debug=False,
        wechat_api_base=wechat_server.base_url,
        wechat_appid=wechat_server.fake.appid,
        wechat_secret=wechat_server.fake.secret,
        wechat_timeout_seconds=1.0,
        payment_sandbox_secret=SANDBOX_SECRET,
    )


@pytest.fixture(scope="session")
async def app(settings):
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(autouse=True)
async def _clean_world(request, wechat_server):
    """Each test starts from empty tables and a fresh fake WeChat (no order dependence)."""
    yield
    wechat_server.fake.reset()
    if "app" in request.fixturenames or "client" in request.fixturenames:
        application = request.getfixturevalue("app")
        tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
        async with application.state.engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        application.state.wechat._token = None


@pytest.fixture
async def client(app):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def sessionmaker(app):
    return app.state.sessionmaker


class Api:
    """Posts GraphQL documents the way the mini-program and the tablets do."""

    def __init__(self, client: httpx.AsyncClient):
        self.client = client

    async def post(self, query: str, variables: dict | None = None, token: str | None = None,
                   headers: dict | None = None) -> dict:
        h = {"authorization": f"Bearer {token}"} if token else {}
        h.update(headers or {})
        resp = await self.client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=h)
        assert resp.status_code == 200, resp.text
        return resp.json()

    async def data(self, query: str, variables: dict | None = None, token: str | None = None) -> dict:
        body = await self.post(query, variables, token)
        assert "errors" not in body, body
        return body["data"]


@pytest.fixture
def api(client) -> Api:
    return Api(client)


STAFF_LOGIN = """
mutation($u: String!, $p: String!) {
  staffLogin(username: $u, password: $p) {
    accessToken refreshToken expiresIn staff { id name role store { id } }
    userErrors { code field message }
  }
}
"""

WECHAT_LOGIN = """
mutation($code: String!) {
  wechatLogin(code: $code) {
    accessToken refreshToken expiresIn customer { id phoneMasked }
    userErrors { code field message }
  }
}
"""


@dataclass
class World:
    """Staff accounts made directly through the services, and their tokens."""

    api: Api
    sessionmaker: object

    async def staff(self, username: str, role: str = "HQ_ADMIN", store_id: int | None = None):
        async with self.sessionmaker() as session:
            row = await accounts.create_staff(
                session, actor=None, username=username, password=PASSWORD, name=username,
                role=role, store_id=store_id,
            )
            await session.commit()
        data = await self.api.data(STAFF_LOGIN, {"u": username, "p": PASSWORD})
        return row, data["staffLogin"]["accessToken"]

    async def customer(self, code: str = "wx-alice") -> tuple[str, dict]:
        data = await self.api.data(WECHAT_LOGIN, {"code": code})
        payload = data["wechatLogin"]
        assert payload["userErrors"] == []
        return payload["accessToken"], payload


@pytest.fixture
def world(api, sessionmaker) -> World:
    return World(api, sessionmaker)


class StatementCounter:
    def __init__(self, engine):
        self.engine = engine.sync_engine
        self.count = 0

    def _on_execute(self, *args, **kwargs):
        self.count += 1

    def __enter__(self):
        self.count = 0
        event.listen(self.engine, "before_cursor_execute", self._on_execute)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._on_execute)


@pytest.fixture
def count_statements(app):
    return lambda: StatementCounter(app.state.engine)
