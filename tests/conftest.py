"""Test fixtures: a real PostgreSQL (DATABASE_URL's server, or an embedded one), a real fake-WeChat
HTTP server on 127.0.0.1, and the real app driven over ASGI."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import tempfile
import threading
import time
import uuid
import warnings

import asyncpg
import httpx
import pytest
import uvicorn
from sqlalchemy import text
from sqlmodel import SQLModel

from storelink import migrate
from storelink.app import create_app
from storelink.settings import Settings
from storelink.wechat.fake import FakeWeChatServer
from tests.builders import (
    PHONE_KEY,
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
        phone_encryption_key=PHONE_KEY,
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
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                 event_hooks={"response": [_note_server_error]}) as c:
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


# ---------------------------------------------------------------- no request may end in a 500 or INTERNAL

class _ServerErrors(logging.Handler):
    """Every ERROR the server logs: an unexpected error in a resolver, a failed worker round."""

    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


_server_errors = _ServerErrors()
for _name in ("storelink", "uvicorn.error"):
    logging.getLogger(_name).addHandler(_server_errors)


@pytest.fixture(autouse=True)
def _no_server_errors(request):
    """Fails a test whose requests made the server log an error or answer 5xx, unless the test is
    about that (marker `server_error_expected`)."""
    _server_errors.records.clear()
    _server_statuses.clear()
    yield
    if request.node.get_closest_marker("server_error_expected"):
        return
    logged = [f"{r.name}: {r.getMessage()}" for r in _server_errors.records]
    assert logged == [] and _server_statuses == [], (logged, _server_statuses)


_server_statuses: list[int] = []


async def _note_server_error(response: httpx.Response) -> None:
    if response.status_code >= 500:
        _server_statuses.append(response.status_code)


@contextlib.contextmanager
def serving(application):
    """`application` served by uvicorn on a free port of 127.0.0.1: real HTTP, real sockets."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(settings):
    with serving(create_app(settings)) as url:
        yield url


@pytest.fixture
async def http(live_server):
    """A client of the live server."""
    async with httpx.AsyncClient(base_url=live_server, timeout=20,
                                 event_hooks={"response": [_note_server_error]}) as c:
        yield c
