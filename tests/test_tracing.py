"""Optional tracing: `storelink serve` with OTEL_EXPORTER_OTLP_ENDPOINT sends its spans to a local
OTLP collector (a request, and the SQL it ran, never a bound value)."""
from __future__ import annotations

import os

import httpx
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.builders import PHONE_KEY, TEST_SECRET
from tests.conftest import serving
from tests.processes import start_serve, stop


class Collector:
    def __init__(self):
        self.spans: list = []
        self.app = Starlette(routes=[Route("/v1/traces", self.traces, methods=["POST"])])

    async def traces(self, request: Request) -> Response:
        export = ExportTraceServiceRequest.FromString(await request.body())
        for resource in export.resource_spans:
            service = {a.key: a.value.string_value for a in resource.resource.attributes}.get("service.name")
            for scope in resource.scope_spans:
                self.spans += [(service, span) for span in scope.spans]
        return Response(b"", media_type="application/x-protobuf")


def test_a_server_with_an_otlp_endpoint_traces_requests_and_statements(database_url, tmp_path):
    # given a collector, and the server told where it is
    collector = Collector()
    with serving(collector.app) as collector_url:
        env = {**os.environ, "DATABASE_URL": database_url, "JWT_SECRET": TEST_SECRET, "PHONE_ENCRYPTION_KEY": PHONE_KEY,
               "OTEL_EXPORTER_OTLP_ENDPOINT": collector_url, "OTEL_SERVICE_NAME": "storelink-test"}
        env.pop("DEBUG", None)
        proc, url = start_serve(env, tmp_path, "--no-worker")
        try:
            # when it serves a query that reads the database (a login attempt) and stops
            answer = httpx.post(f"{url}/graphql", json={"query": 'mutation { staffLogin(username: "nobody", '
                                                                 'password: "secret-pass-1") { accessToken } }'})
        finally:
            stop(proc)
    # then the collector got the request's span and its statements, without the values
    assert answer.status_code == 200
    names = [span.name for _, span in collector.spans]
    assert {service for service, _ in collector.spans} == {"storelink-test"}
    assert any(name.startswith("POST /graphql") for name in names), names
    statements = [span for _, span in collector.spans
                  if any(a.key == "db.statement" for a in span.attributes)]
    assert statements, names
    assert "nobody" not in str(collector.spans) and "secret-pass-1" not in str(collector.spans)


def test_without_an_endpoint_nothing_is_traced():
    # given
    from storelink import tracing

    # when / then
    assert os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") is None and tracing.provider() is None
