"""What an operator watches, in Prometheus's format (prometheus-client, the official library).

One registry per process (with several server processes, scrape each; their counts add up).
GraphQL operations are counted by name and outcome: `ok`, or the code of the first error
(`UNAUTHENTICATED`, `INVALID_INPUT`, `INTERNAL`, ...; a payload's userErrors are answers, not
failures). Operation names come from clients, so only names of GraphQL's form are kept, and
after MAX_OPERATION_NAMES distinct ones the rest count as `other`.
"""
from __future__ import annotations

import re

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from sqlalchemy import event

REGISTRY = CollectorRegistry()
MAX_OPERATION_NAMES = 200
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_seen: set[str] = set()

OPERATIONS = Counter("storelink_graphql_operations", "GraphQL operations by operation name and outcome",
                     ["operation", "outcome"], registry=REGISTRY)
LATENCY = Histogram("storelink_graphql_operation_duration_seconds", "Time to answer a GraphQL operation",
                    ["operation"], registry=REGISTRY,
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
REFUSED_REQUESTS = Counter("storelink_http_refusals", "Requests refused before GraphQL ran (body too large, not JSON)",
                           ["status"], registry=REGISTRY)
THROTTLED = Counter("storelink_throttle_refusals", "Attempts refused as RATE_LIMITED (login, join, scan)",
                    ["kind"], registry=REGISTRY)
DB_ROUND_TRIPS = Counter("storelink_db_round_trips", "Statements and transaction boundaries sent to PostgreSQL",
                         ["kind"], registry=REGISTRY)
POOL_IN_USE = Gauge("storelink_db_pool_connections_in_use", "Database connections checked out of the pool",
                    registry=REGISTRY)
OUTBOX_PENDING = Gauge("storelink_outbox_pending_messages", "Outbox messages waiting to be sent",
                       registry=REGISTRY)
OUTBOX_OLDEST = Gauge("storelink_outbox_oldest_pending_age_seconds",
                      "Age of the oldest outbox message still waiting (0 when none)", registry=REGISTRY)
WORKER_LAST_RUN = Gauge("storelink_worker_last_run_timestamp_seconds",
                        "When this process's worker last finished a round (unix time; 0: no worker here)",
                        registry=REGISTRY)


def count_round_trips(engine) -> None:
    """Count what the engine sends (statements, BEGIN, COMMIT, ROLLBACK): the figure behind CPU
    per action, which the benchmarks print per action."""
    sync = engine.sync_engine
    statements = DB_ROUND_TRIPS.labels("statement").inc
    event.listen(sync, "before_cursor_execute", lambda *_, **__: statements())
    for kind in ("begin", "commit", "rollback"):
        # an autocommit reader sends no BEGIN, COMMIT or ROLLBACK
        event.listen(sync, kind, lambda conn, *_, _inc=DB_ROUND_TRIPS.labels(kind).inc:
                     None if conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT" else _inc())


def operation_label(name: str | None) -> str:
    if not name:
        return "anonymous"
    if not _NAME.fullmatch(name):
        return "other"
    if name not in _seen:
        if len(_seen) >= MAX_OPERATION_NAMES:
            return "other"
        _seen.add(name)
    return name
