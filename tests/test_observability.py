"""What an operator watches: /metrics in Prometheus's text format (parsed with its own parser after
some traffic), and JSON log lines."""
from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def _samples(body: str) -> dict[tuple, float]:
    found = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def _scrape(client) -> dict[tuple, float]:
    response = await client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return _samples(response.text)


async def test_operations_are_counted_by_name_and_outcome(client, api):
    # given the counts now
    before = await _scrape(client)
    # when a named query succeeds, one is refused for want of a sign-in, and a body is not JSON
    await api.post("query StoresNearHere { nearbyStores(lat: 31.23, lng: 121.47, first: 1) { distanceMeters } }")
    await api.post("query MyBook { clientBook { totalCount } }")
    await client.post("/graphql", content=b"not json", headers={"content-type": "application/json"})
    after = await _scrape(client)

    def grew(name, **labels):
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)
    # then each is counted under its name and outcome, timed, and the refusal counted apart
    assert grew("storelink_graphql_operations_total", operation="StoresNearHere", outcome="ok") == 1
    assert grew("storelink_graphql_operations_total", operation="MyBook", outcome="UNAUTHENTICATED") == 1
    assert grew("storelink_graphql_operation_duration_seconds_count", operation="StoresNearHere") == 1
    assert grew("storelink_http_refusals_total", status="400") == 1
    assert ("storelink_outbox_pending_messages", ()) in after
    assert ("storelink_db_pool_connections_in_use", ()) in after


async def test_round_trips_to_the_database_are_counted(client, api):
    def grew(before, after, kind):
        key = ("storelink_db_round_trips_total", (("kind", kind),))
        return after.get(key, 0) - before.get(key, 0)
    # given
    before = await _scrape(client)
    # when a read runs (outside any transaction), and then a sign-in writes
    await api.post("query { nearbyStores(lat: 31.23, lng: 121.47, first: 1) { distanceMeters } }")
    read = await _scrape(client)
    login = await api.post('mutation { wechatLogin(code: "round-trips") { accessToken userErrors { code } } }')
    wrote = await _scrape(client)
    # then the read sent statements and no BEGIN (a scrape itself sends one statement)
    assert grew(before, read, "statement") >= 2 and grew(before, read, "begin") == 0
    # and the write one transaction at least, committed
    assert login["data"]["wechatLogin"]["accessToken"]
    assert grew(read, wrote, "begin") >= 1 and grew(read, wrote, "commit") >= 1
    assert grew(read, wrote, "statement") > 1


async def test_throttled_logins_are_counted_without_the_username(client, api, world):
    # given
    before = await _scrape(client)
    for _ in range(7):
        await api.post('mutation { staffLogin(username: "nobody-here", password: "wrong-password") '
                       '{ accessToken userErrors { code } } }')
    # when
    after = await _scrape(client)
    key = ("storelink_throttle_refusals_total", (("kind", "login"),))
    # then
    assert after.get(key, 0) - before.get(key, 0) >= 1
    assert "nobody-here" not in (await client.get("/metrics")).text


async def test_client_chosen_names_cannot_flood_the_labels(client, api):
    # given
    await api.post("query Bad_Name_ { me { id } }")
    await api.post('query { me { id } }')
    # when
    body = (await client.get("/metrics")).text
    # then
    assert 'operation="anonymous"' in body and 'operation="Bad_Name_"' in body


async def test_with_a_metrics_token_only_its_bearer_may_scrape(app, client):
    # given
    settings = app.state.settings
    app.state.settings = settings.model_copy(update={"metrics_token": "scrape-" + "t" * 30})
    # when
    try:
        anonymous = await client.get("/metrics")
        wrong = await client.get("/metrics", headers={"authorization": "Bearer nope"})
        right = await client.get("/metrics", headers={"authorization": "Bearer scrape-" + "t" * 30})
    finally:
        app.state.settings = settings
    # then
    assert (anonymous.status_code, wrong.status_code, right.status_code) == (401, 401, 200)


def test_json_logs_carry_the_request_id_and_are_redacted(capsys):
    # given
    import json
    import logging

    from storelink.logs import configure_logging, request_id_var

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging(log_format="json")
        token = request_id_var.set("req-12345678")
        logging.getLogger("storelink.test").warning("bound 13812345678 for 李")
        request_id_var.reset(token)
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    # when
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    # then
    assert line["request_id"] == "req-12345678" and line["level"] == "WARNING"
    assert line["message"] == "bound 138****5678 for 李"
