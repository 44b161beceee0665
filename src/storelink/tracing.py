"""Optional OpenTelemetry tracing: on when OTEL_EXPORTER_OTLP_ENDPOINT is set and the packages of
the `otel` extra are installed (`pip install 'storelink[otel]'`); nothing is imported otherwise.

Each HTTP request is a span (the ASGI instrumentation) and each SQL statement a child span (the
SQLAlchemy instrumentation: the statement's text, never its bound values). Spans go to the OTLP
HTTP endpoint in batches; OTEL_SERVICE_NAME names the service (default "storelink"), and the
other OTEL_* variables of the exporter apply as usual.
"""
from __future__ import annotations

import logging
import os
from typing import Any

log = logging.getLogger(__name__)

_provider: Any = None  # one per process: OpenTelemetry's global tracer provider is set once


def provider() -> Any:
    """The process's tracer provider, made on first call; None when tracing is off."""
    global _provider
    if _provider is not None or not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return _provider
    try:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        log.warning("OTEL_EXPORTER_OTLP_ENDPOINT is set but OpenTelemetry is not installed "
                    "(pip install 'storelink[otel]'): no tracing")
        return None
    made = TracerProvider(resource=Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "storelink")}))
    made.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(made)
    _provider = made
    log.info("tracing to %s", os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"])
    return _provider


def trace_requests(app: Any) -> None:
    """A span per HTTP request (add before the app starts)."""
    if provider() is not None:
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

        app.add_middleware(OpenTelemetryMiddleware, tracer_provider=_provider)


def trace_statements(engine: Any) -> None:
    """A span per SQL statement of this engine."""
    if provider() is not None:
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

        # skip_dep_check: the instrumentation declares SQLAlchemy < 2.1 but works with 2.1's
        # unchanged cursor events (tests/test_tracing.py checks it still does).
        SQLAlchemyInstrumentor().instrument(engine=engine.sync_engine, tracer_provider=_provider,
                                            enable_commenter=False, skip_dep_check=True)


def flush() -> None:
    """Send what is buffered (a stopping server's last spans)."""
    if _provider is not None:
        _provider.force_flush(timeout_millis=5000)
