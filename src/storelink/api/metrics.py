"""/metrics, and the GraphQL extension that counts and times each operation (storelink.metrics)."""
from __future__ import annotations

import hmac
import time
from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from strawberry.extensions import SchemaExtension

from storelink import metrics

_OUTBOX = text("SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0) "
               "FROM outbox_message WHERE status = 'PENDING'")


class OperationMetrics(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        ctx = self.execution_context
        try:
            name = ctx.operation_name
        except Exception:  # a document that did not parse has no operation to name
            name = None
        errors = (ctx.result.errors if ctx.result is not None else None) or ctx.pre_execution_errors or []
        code = next(((e.extensions or {}).get("code") for e in errors), None) if errors else None
        outcome = "ok" if not errors else str(code or "GRAPHQL_ERROR")
        label = metrics.operation_label(name)
        metrics.OPERATIONS.labels(label, outcome).inc()
        metrics.LATENCY.labels(label).observe(time.perf_counter() - started)


async def metrics_endpoint(request: Request) -> Response:
    """The registry, with the gauges read now. With METRICS_TOKEN set, only for its bearer."""
    state = request.app.state
    token = state.settings.metrics_token
    if token:
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return JSONResponse({"error": "unauthorized"}, status_code=401)
    metrics.POOL_IN_USE.set(state.engine.pool.checkedout())
    try:
        async with state.engine.connect() as conn:  # one read: no transaction around it
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            pending, oldest = (await conn.execute(_OUTBOX)).one()
        metrics.OUTBOX_PENDING.set(pending)
        metrics.OUTBOX_OLDEST.set(float(oldest))
    except Exception:  # the database being down is /readyz's news; the rest of the page still helps
        pass
    return Response(generate_latest(metrics.REGISTRY), media_type=CONTENT_TYPE_LATEST)
