"""Test fixtures: a real PostgreSQL (DATABASE_URL's server, or an embedded one), a real fake-WeChat
HTTP server on 127.0.0.1, and the real app driven over ASGI."""
from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
import warnings

import asyncpg
import httpx
import pytest
from sqlalchemy import text
from sqlmodel import SQLModel

from storelink import migrate
from storelink.app import create_app
from storelink.settings import Settings
from storelink.wechat.fake import FakeWeChatServer
from tests.builders import (
    SANDBOX_SECRET,
    TEST_SECRET,
    Api,
    Mall,
    Shop,
    StatementCounter,
    World,
    build_shop,
)


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


@pytest.fixture
def api(client) -> Api:
    return Api(client)


@pytest.fixture
def world(api, sessionmaker) -> World:
    return World(api, sessionmaker)


@pytest.fixture
def count_statements(app):
    return lambda: StatementCounter(app.state.engine)


@pytest.fixture
async def shop(api, world) -> Shop:
    return await build_shop(api, world)


@pytest.fixture
async def mall(api, world, sessionmaker, client) -> Mall:
    return await Mall(api, world, sessionmaker, client).setup()
