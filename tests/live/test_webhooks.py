"""Outbound webhooks against a real local receiver: Standard Webhooks signatures, retries with
backoff, redelivery, deletion, event choice, and the address rules that keep them out of private
networks."""
from __future__ import annotations

import datetime as dt
import json

import aiohttp
import httpx
import pytest
from sqlalchemy import func, select
from standardwebhooks import Webhook
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from storelink.app import create_app
from storelink.clock import utcnow
from storelink.db import transaction
from storelink.ids import global_id
from storelink.webhooks import service as webhooks
from storelink.webhooks.models import WebhookDelivery
from tests.builders import Api, codes_of
from tests.conftest import serving

CREATE = """mutation($u: String!, $e: [String!]!) { createWebhookEndpoint(url: $u, events: $e) {
  endpoint { id url events active } secret userErrors { code field message } } }"""
DELETE = "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { endpoint { active } userErrors { code } } }"
REDELIVER = "mutation($d: ID!) { redeliverWebhook(deliveryId: $d) }"
ENDPOINTS = "{ webhookEndpoints { id url events deliveries(first: 10) { id event status attempts lastStatusCode createdAt } } }"


class Receiver:
    """A brand system's webhook receiver: records what arrives, answers the statuses it is given."""

    def __init__(self):
        self.received: list[tuple[dict, bytes]] = []
        self.answers: list[int] = []
        self.app = Starlette(routes=[Route("/hooks", self.hook, methods=["POST"])])

    async def hook(self, request: Request) -> PlainTextResponse:
        self.received.append((dict(request.headers), await request.body()))
        status = self.answers.pop(0) if self.answers else 200
        return PlainTextResponse("ok" if status < 300 else "busy", status_code=status)


@pytest.fixture(scope="module")
def receiver():
    found = Receiver()
    with serving(found.app) as url:
        found.url = url + "/hooks"
        yield found


@pytest.fixture
async def debug(settings, app):
    """The same brand served with DEBUG, where a receiver on 127.0.0.1 is allowed."""
    debug_settings = settings.model_copy(update={"debug": True})
    application = create_app(debug_settings)
    async with application.router.lifespan_context(application):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://debug") as c:
            async with aiohttp.ClientSession() as http:
                yield Api(c), debug_settings, http


@pytest.fixture(autouse=True)
def _fresh_receiver(receiver):
    receiver.received.clear()
    receiver.answers.clear()


async def endpoint(api, mall, receiver, events) -> dict:
    payload = (await api.data(CREATE, {"u": receiver.url, "e": events}, mall.hq))["createWebhookEndpoint"]
    assert payload["userErrors"] == [], payload
    return payload


async def deliver(sessionmaker, debug, now=None) -> int:
    _, settings, http = debug
    return await webhooks.deliver_due(sessionmaker, http, settings, now=now)


async def test_a_signed_event_reaches_the_receiver(mall, debug, receiver, sessionmaker):
    # given an endpoint for member.joined
    api = debug[0]
    created = await endpoint(api, mall, receiver, ["member.joined", "order.paid"])
    # when a member joins and the worker runs
    await mall.member("alice")
    sent = await deliver(sessionmaker, debug)
    # then one request, signed with the secret shown once, about the member, without the phone
    assert sent == 1 and len(receiver.received) == 1
    headers, body = receiver.received[0]
    event = Webhook(created["secret"]).verify(body, headers)
    assert event["type"] == "member.joined" and event["data"]["memberNo"]
    assert event["data"]["storeCode"] == "S1" and event["data"]["guideUsername"] == "guide-a"
    assert "13812345678" not in body.decode() and headers["webhook-id"].startswith("msg_")
    with pytest.raises(Exception):
        Webhook(created["secret"]).verify(body.replace(b"S1", b"S2"), headers)
    listed = (await api.data(ENDPOINTS, token=mall.hq))["webhookEndpoints"]
    assert [(d["event"], d["status"], d["attempts"], d["lastStatusCode"]) for d in listed[0]["deliveries"]] == [
        ("member.joined", "DELIVERED", 1, 200)]
    assert created["secret"].startswith("whsec_") and "secret" not in json.dumps(listed)


async def test_failures_are_retried_with_backoff_under_one_id(mall, debug, receiver, sessionmaker):
    # given a receiver that fails twice
    await endpoint(debug[0], mall, receiver, ["member.joined"])
    receiver.answers = [500, 503]
    await mall.member("alice")
    start = utcnow()
    # when the worker runs now, again at once, then after each wait
    first = await deliver(sessionmaker, debug, now=start)
    too_soon = await deliver(sessionmaker, debug, now=start + dt.timedelta(seconds=5))
    second = await deliver(sessionmaker, debug, now=start + dt.timedelta(seconds=31))
    third = await deliver(sessionmaker, debug, now=start + dt.timedelta(seconds=31 + 61))
    # then three attempts, the same message id, delivered at the third
    assert (first, too_soon, second, third) == (1, 0, 1, 1)
    assert len({h["webhook-id"] for h, _ in receiver.received}) == 1 and len(receiver.received) == 3
    async with sessionmaker() as session:
        row = (await session.execute(select(WebhookDelivery))).scalar_one()
    assert (row.status, row.attempts, row.last_status_code) == ("DELIVERED", 3, 200)


async def test_after_a_day_of_failures_it_gives_up_and_can_be_sent_again(mall, debug, receiver, sessionmaker):
    # given a receiver that is down for good
    await endpoint(debug[0], mall, receiver, ["member.joined"])
    receiver.answers = [500] * 100
    await mall.member("alice")
    # when the worker keeps trying as time passes
    at, attempts = utcnow(), 0
    while await deliver(sessionmaker, debug, now=at):
        attempts += 1
        at += webhooks.next_wait(attempts) + dt.timedelta(seconds=1)
    async with sessionmaker() as session:
        row = (await session.execute(select(WebhookDelivery))).scalar_one()
    # then it stopped once a further wait would pass a day after the event
    assert row.status == "FAILED" and row.attempts == attempts == len(receiver.received)
    assert 10 <= attempts <= 14 and webhooks.RETRY_FOR - webhooks.LONGEST_WAIT < at - row.created_at
    # and HQ can send it again, which works once the receiver is back
    receiver.answers = []
    redelivered = await debug[0].data(REDELIVER, {"d": global_id("WebhookDelivery", row.id)}, mall.hq)
    assert redelivered == {"redeliverWebhook": True}
    assert await deliver(sessionmaker, debug) == 1
    async with sessionmaker() as session:
        again = await session.get(WebhookDelivery, row.id)
    assert (again.status, again.attempts) == ("DELIVERED", attempts + 1)


async def test_nothing_after_deletion_and_nothing_unasked(mall, debug, receiver, sessionmaker):
    # given one endpoint for orders only and one for members, the latter deleted with an event pending
    api = debug[0]
    await endpoint(api, mall, receiver, ["order.paid"])
    members = await endpoint(api, mall, receiver, ["member.joined"])
    await mall.member("alice")
    deleted = (await api.data(DELETE, {"id": members["endpoint"]["id"]}, mall.hq))["deleteWebhookEndpoint"]
    await mall.member("bob", phone="13900000002")
    # when the worker runs
    sent = await deliver(sessionmaker, debug)
    # then nothing was sent: the deleted endpoint's pending delivery was given up, no new ones made
    assert deleted == {"endpoint": {"active": False}, "userErrors": []}
    assert sent == 0 and receiver.received == []
    async with sessionmaker() as session:
        statuses = (await session.execute(select(WebhookDelivery.status))).scalars().all()
    assert statuses == ["FAILED"]
    again = (await api.data(DELETE, {"id": members["endpoint"]["id"]}, mall.hq))["deleteWebhookEndpoint"]
    assert codes_of(again) == ["NOT_FOUND"]


async def test_no_delivery_for_a_rolled_back_change(mall, debug, receiver, sessionmaker):
    # given
    await endpoint(debug[0], mall, receiver, ["member.joined"])

    async def join_then_fail(session):
        async def data():
            return {"memberNo": "M1"}
        await webhooks.emit(session, "member.joined", data)
        raise RuntimeError("the join failed")

    # when / then
    with pytest.raises(RuntimeError):
        await transaction(sessionmaker, join_then_fail)
    # when / then
    async with sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(WebhookDelivery))).scalar_one() == 0


@pytest.mark.parametrize("url", [
    "http://hooks.example.com/x", "https://127.0.0.1/x", "https://10.0.0.5/x", "https://192.168.1.9/x",
    "https://169.254.169.254/latest/meta-data", "https://[::1]/x", "https://localhost/x", "https://pos.internal/x",
    "https://localhost:8000/webhooks", "ftp://hooks.example.com/x", "https://user:pw@hooks.example.com/x",
    "https://hooks.example.com:99999/x", "https://", "https://hooks.example.com/a b", "",
])
async def test_addresses_outside_the_public_internet_are_refused(api, mall, url):
    # when
    payload = (await api.data(CREATE, {"u": url, "e": ["order.paid"]}, mall.hq))["createWebhookEndpoint"]
    # then
    assert codes_of(payload) == ["INVALID_INPUT"] and payload["userErrors"][0]["field"] == ["url"]
    assert (await api.data(ENDPOINTS, token=mall.hq))["webhookEndpoints"] == []


@pytest.mark.parametrize("events", [[], ["order.paid", "order.exploded"], ["ORDER.PAID"]])
async def test_only_known_events(api, mall, events):
    # when
    payload = (await api.data(CREATE, {"u": "https://hooks.example.com/x", "e": events}, mall.hq))
    # then
    assert codes_of(payload["createWebhookEndpoint"]) == ["INVALID_INPUT"]


async def test_a_public_https_address_is_accepted_and_only_hq_may(api, mall):
    # given
    ok = (await api.data(CREATE, {"u": "https://hooks.example.com/x", "e": ["order.paid", "order.paid"]}, mall.hq))
    manager = (await api.data(CREATE, {"u": "https://hooks.example.com/y", "e": ["order.paid"]}, mall.managers["S1"]))
    # when
    listing = await api.post(ENDPOINTS, token=mall.managers["S1"])
    # then
    assert ok["createWebhookEndpoint"]["endpoint"]["events"] == ["order.paid"]
    assert codes_of(manager["createWebhookEndpoint"]) == ["FORBIDDEN"]
    assert [e["extensions"]["code"] for e in listing["errors"]] == ["FORBIDDEN"]


async def test_delivery_checks_the_resolved_address():
    # when / then
    assert await webhooks._public_addresses("8.8.8.8", 443)
    assert not await webhooks._public_addresses("127.0.0.1", 443)
    assert not await webhooks._public_addresses("10.1.2.3", 443)
    assert not await webhooks._public_addresses("no-such-host.invalid", 443)


async def test_shipping_and_returns_reach_the_receiver(mall, debug, receiver, sessionmaker):
    # given an endpoint for order.shipped and return.received, and alice's paid order from the warehouse
    api = debug[0]
    created = await endpoint(api, mall, receiver, ["order.shipped", "return.received"])
    alice = await mall.member("alice")
    await mall.add(alice, "SCARF-1", 1)
    order = (await mall.checkout(alice))["order"]
    await mall.pay(order)
    found = (await mall.api.data("query($id: ID!) { node(id: $id) { ... on Order { shipments { id } lines { id } } } }",
                                 {"id": order["id"]}, alice))["node"]
    parcel = found["shipments"][0]["id"]
    # when HQ ships it, she receives it and brings it back to S1
    for step in ("packShipment(id: $id)", 'shipShipment(id: $id, carrier: "EMS", trackingNo: "E1")',
                 "markDelivered(id: $id)"):
        await mall.api.data(f"mutation($id: ID!) {{ {step} {{ userErrors {{ code }} }} }}", {"id": parcel}, mall.hq)
    back = await mall.api.data("""mutation($o: ID!, $s: ID!, $l: ID!) { receiveReturn(orderId: $o, storeId: $s,
        lines: [{orderLineId: $l, quantity: 1}], reason: "不合适") { userErrors { code } } }""",
                               {"o": order["id"], "s": mall.stores["S1"], "l": found["lines"][0]["id"]},
                               mall.managers["S1"])
    assert back["receiveReturn"]["userErrors"] == []
    sent = await deliver(sessionmaker, debug)
    # then both events arrived, signed
    assert sent == 2
    events = [Webhook(created["secret"]).verify(body, headers) for headers, body in receiver.received]
    by_type = {e["type"]: e["data"] for e in events}
    assert by_type["order.shipped"]["orderNo"] == order["orderNo"] and by_type["order.shipped"]["status"] == "SHIPPED"
    assert by_type["return.received"] == {**by_type["return.received"], "orderNo": order["orderNo"], "storeCode": "S1",
                                          "refundFen": 39900, "lines": [{"skuCode": "SCARF-1", "quantity": 1}]}
