"""The ASGI application: GraphQL, health checks, and the shared clients held by the lifespan."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import aiohttp
import anyio.to_thread
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from storelink import db, metrics, phone_cipher, process, tracing
from storelink.api import ide
from storelink.api.http import StorelinkGraphQL
from storelink.documents.service import Documents
from storelink.live.bus import Hub
from storelink.api.metrics import metrics_endpoint
from storelink.api.schema import build_schema
from storelink.logs import RequestIdMiddleware
from storelink import worker as background
from storelink.kpi.report_csv import store_report_csv
from storelink.members.qr import qr_image
from storelink.orders.webhooks import demo_payment, payment_webhook
from storelink.payments import providers as payments
from storelink.settings import Settings, get_settings
from storelink.wechat.client import WeChatClient

log = logging.getLogger(__name__)


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    try:
        async with request.app.state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:
        log.warning("readiness check: database not reachable")
        return JSONResponse({"status": "unavailable", "database": "down"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "up"})


def outbound_http(settings: Settings) -> aiohttp.ClientSession:
    """The one client for our calls to WeChat and WeChat Pay; open it inside the running loop.

    aiohttp rather than httpx: under a burst of 50 concurrent logins httpx's connection pool
    cost about 1.3 ms of CPU per call (it polls every idle connection on each request), aiohttp
    under 0.1 ms; that was a quarter of the server's CPU in bench/join_burst.py.
    """
    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=settings.wechat_timeout_seconds),
        connector=aiohttp.TCPConnector(limit=100, keepalive_timeout=30),
    )


def build_wechat(http: aiohttp.ClientSession, settings: Settings) -> WeChatClient:
    return WeChatClient(http, base_url=settings.wechat_api_base, appid=settings.wechat_appid or "",
                        secret=settings.wechat_secret or "")


def app_from_environment() -> Starlette:
    """One of `serve --workers N`'s server processes: settings from the environment, the same
    logging, no background jobs (a `storelink worker` process runs them)."""
    from storelink.logs import configure_logging

    configure_logging()
    process.exit_cleanly_on_sigterm()
    return create_app(get_settings(), worker=False)


def create_app(settings: Settings | None = None, *, worker: bool = False) -> Starlette:
    """worker=True also runs the background worker in the server process (what `serve` does)."""
    settings = settings or get_settings()
    phone_cipher.configure(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Starting the embedded server blocks for a moment; keep the loop free meanwhile.
        url = await anyio.to_thread.run_sync(db.database_url, settings)
        engine = db.create_engine(url)
        tracing.trace_statements(engine)
        metrics.count_round_trips(engine)
        http = outbound_http(settings)
        app.state.settings = settings
        app.state.engine = engine
        app.state.sessionmaker = db.create_sessionmaker(engine)
        app.state.reader = db.create_reader(engine)
        app.state.http = http
        app.state.wechat = build_wechat(http, settings)
        app.state.payments = payments.build(settings, http)
        graphql_app.documents = Documents(app.state.reader, trusted_only=settings.trusted_documents_only)
        app.state.hub = Hub(engine)
        await app.state.hub.start()
        stop = asyncio.Event()
        worker_task = (
            asyncio.create_task(background.run(app.state.sessionmaker, app.state.wechat, settings=settings, http=http,
                                               stop=stop))
            if worker else None
        )
        process.tune_gc_for_serving()
        try:
            yield
        finally:
            stop.set()
            await app.state.hub.stop()  # subscriptions end cleanly
            if worker_task is not None:
                await worker_task
            await http.close()
            await engine.dispose()
            tracing.flush()

    graphql_app = StorelinkGraphQL(
        build_schema(debug=settings.debug, timezone=settings.brand_timezone),
        graphql_ide="graphiql" if settings.debug else None,
        allow_queries_via_get=False,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
    )
    app = Starlette(
        debug=False,  # never show tracebacks to clients, even with DEBUG
        routes=[
            Route("/graphql", graphql_app, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql_app),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_endpoint),
            Route("/qr/{name}", qr_image, methods=["GET"]),
            Route("/webhooks/payments/{provider}", payment_webhook, methods=["POST"]),
            Route("/reports/store/{name}", store_report_csv, methods=["GET"]),
            *([Route("/graphiql/{name}", ide.asset, methods=["GET"])] if settings.debug else []),
            # A mini-program developer's stand-in for paying (the sandbox only, never in production).
            *([Route("/demo/pay/{order_no}", demo_payment, methods=["POST"])]
              if (settings.debug or settings.demo) and settings.payment_sandbox_secret else []),
        ],
        lifespan=lifespan,
    )
    app.add_middleware(RequestIdMiddleware)
    tracing.trace_requests(app)  # outermost: the request's span covers everything else
    return app
