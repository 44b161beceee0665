"""Schemathesis generates documents and arguments for every query and mutation of schema.graphql
(a few examples each, bounded) and sends them over real HTTP as a customer and as HQ staff; none
may answer a 5xx or an INTERNAL error (the autouse guard also fails on any server-side error log)."""
from __future__ import annotations

from pathlib import Path

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

SCHEMA = schemathesis.graphql.from_path(Path(__file__).resolve().parents[2] / "schema.graphql")
EXAMPLES_PER_OPERATION = 4


async def test_generated_requests_never_fail_on_the_server(live_server, world):
    # given a customer and an HQ admin
    customer, _ = await world.customer("wx-fuzz")
    _, staff = await world.staff("hq-fuzz")
    seen: list[str] = []
    failures: list[str] = []

    with requests.Session() as http:
        for found in SCHEMA.get_all_operations():
            operation = found.ok()

            @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
                      phases=[Phase.generate], suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy())
            def check(case) -> None:
                for token in (customer, staff):
                    # when a generated document is sent
                    resp = case.call(base_url=live_server, session=http, headers={"authorization": f"Bearer {token}"})
                    seen.append(operation.label)
                    # then the server answered it, one way or another, without failing
                    if resp.status_code >= 500 or '"INTERNAL"' in resp.text:
                        failures.append(f"{operation.label}: {resp.status_code} {resp.text[:300]}")

            check()
    assert failures == []
    assert len(set(seen)) == len(list(SCHEMA.get_all_operations())) and len(seen) >= 300
