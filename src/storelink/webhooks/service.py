"""Outbound webhooks: HQ registers a brand system's address and the events it wants; each event
becomes one delivery row per endpoint in the transaction of the change (so nothing is sent for a
change that rolled back), and the worker sends them, signed as Standard Webhooks specifies
(webhook-id, webhook-timestamp, webhook-signature; the `standardwebhooks` reference library
signs). A failed delivery is retried with exponential backoff until a day after the event; each
delivery and its attempts are listed on the endpoint. No phone number is ever sent.

Addresses: https:// only, and never this service's own host, a private or local network, or
anything else not on the public internet (no SSRF into the brand's network): checked when the
endpoint is created and again, on the resolved addresses, before every attempt. With DEBUG,
http:// and local addresses are allowed (a receiver on 127.0.0.1 while developing).
"""
from __future__ import annotations

import asyncio
import base64
import datetime as dt
import ipaddress
import json
import logging
import secrets
import socket
import urllib.parse
import uuid
from collections.abc import Awaitable, Callable

import aiohttp
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from standardwebhooks import Webhook

from storelink.accounts import permissions
from storelink.accounts.models import Staff
from storelink.clock import utcnow
from storelink.db import transaction
from storelink.errors import InvalidInput, NotFound
from storelink.limits import clean_text
from storelink.settings import Settings
from storelink.webhooks.models import WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)

# The events a brand system may hear about (API-NOTES); order.shipped and return.received come
# with fulfilment and returns.
EVENTS = ("order.paid", "order.refunded", "order.shipped", "member.joined", "appointment.booked",
          "appointment.cancelled", "return.received", "store_purchase.recorded")
MAX_URL = 1024
MAX_ENDPOINTS = 20
RETRY_FOR = dt.timedelta(hours=24)
FIRST_RETRY = dt.timedelta(seconds=30)
LONGEST_WAIT = dt.timedelta(hours=6)
TIMEOUT_SECONDS = 10
BATCH = 20


# ---------------------------------------------------------------- endpoints (HQ)

def _not_public() -> InvalidInput:
    return InvalidInput("Give an address on the public internet, not this service or a private network",
                        field=["url"])


def check_url(url: str, settings: Settings) -> str:
    url = url.strip()
    if not url or len(url) > MAX_URL or not clean_text(url) or any(ch.isspace() for ch in url):
        raise InvalidInput("Give an https:// address of at most {n} characters", n=MAX_URL, field=["url"])
    parts = urllib.parse.urlsplit(url)
    allowed = ("https", "http") if settings.debug else ("https",)
    try:
        _ = parts.port  # raises ValueError on a port that is not a number in range
        host = parts.hostname
    except ValueError:
        host = None
    if parts.scheme not in allowed or not host or parts.username or parts.password:
        raise InvalidInput("Give an https:// address of at most {n} characters", n=MAX_URL, field=["url"])
    if settings.debug:
        return url
    own = urllib.parse.urlsplit(settings.public_base_url).hostname
    if host == own or host == "localhost" or host.endswith((".localhost", ".local", ".internal", ".lan")):
        raise _not_public()
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        return url  # a name: its addresses are checked before each attempt
    if not literal.is_global:
        raise _not_public()
    return url


def _check_events(events: list[str]) -> list[str]:
    chosen = list(dict.fromkeys(e.strip() for e in events))
    if not chosen or any(e not in EVENTS for e in chosen):
        raise InvalidInput("Choose events from the list: {events}", events=", ".join(EVENTS), field=["events"])
    return chosen


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


async def create_endpoint(session: AsyncSession, *, actor: Staff, url: str, events: list[str],
                          settings: Settings) -> tuple[WebhookEndpoint, str]:
    permissions.ensure_hq(actor)
    url, chosen = check_url(url, settings), _check_events(events)
    count = len((await session.execute(select(WebhookEndpoint.id).where(WebhookEndpoint.active))).all())
    if count >= MAX_ENDPOINTS:
        raise InvalidInput("At most {n} webhook endpoints; delete one first", n=MAX_ENDPOINTS, field=["url"])
    endpoint = WebhookEndpoint(url=url, events=chosen, secret=new_secret(), created_by_id=actor.id,
                               created_at=utcnow())
    session.add(endpoint)
    await session.flush()
    return endpoint, endpoint.secret


async def delete_endpoint(session: AsyncSession, *, actor: Staff, endpoint_id: int) -> WebhookEndpoint:
    """It stops at once: pending deliveries are given up."""
    permissions.ensure_hq(actor)
    endpoint = await session.get(WebhookEndpoint, endpoint_id, with_for_update=True)
    if endpoint is None or not endpoint.active:
        raise NotFound("No such webhook endpoint", field=["id"])
    endpoint.active, endpoint.deleted_at = False, utcnow()
    await session.execute(
        update(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.status == "PENDING")
        .values(status="FAILED", last_error="endpoint deleted", next_attempt_at=None))
    await session.flush()
    return endpoint


async def redeliver(session: AsyncSession, *, actor: Staff, delivery_id: int) -> bool:
    """Send a delivery again now (a failed one gets another day of retries)."""
    permissions.ensure_hq(actor)
    delivery = await session.get(WebhookDelivery, delivery_id, with_for_update=True)
    endpoint = await session.get(WebhookEndpoint, delivery.endpoint_id) if delivery else None
    if delivery is None or endpoint is None or not endpoint.active:
        raise NotFound("No such webhook delivery", field=["deliveryId"])
    delivery.status, delivery.next_attempt_at = "PENDING", utcnow()
    delivery.created_at = utcnow()  # the retry window starts again
    await session.flush()
    return True


# ---------------------------------------------------------------- events

async def emit(session: AsyncSession, event: str, data: Callable[[], Awaitable[dict]]) -> int:
    """One delivery per active endpoint that wants `event`, in the caller's transaction; `data`
    (webhooks/bodies.py) is built only when some endpoint wants it."""
    assert event in EVENTS, event
    endpoints = (await session.execute(
        select(WebhookEndpoint.id).where(WebhookEndpoint.active, WebhookEndpoint.events.contains([event]))
    )).scalars().all()
    if not endpoints:
        return 0
    now = utcnow()
    body = {"type": event, "timestamp": now.isoformat(), "data": await data()}
    session.add_all([
        WebhookDelivery(endpoint_id=endpoint_id, event=event, message_id=f"msg_{uuid.uuid4().hex}", payload=body,
                        next_attempt_at=now, created_at=now)
        for endpoint_id in endpoints
    ])
    await session.flush()
    return len(endpoints)


# ---------------------------------------------------------------- delivery (the worker)

def next_wait(attempts: int) -> dt.timedelta:
    return min(FIRST_RETRY * (2 ** (attempts - 1)), LONGEST_WAIT)


async def _public_addresses(host: str, port: int) -> bool:
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return False
    return bool(found) and all(ipaddress.ip_address(info[4][0]).is_global for info in found)


async def _send(http: aiohttp.ClientSession, endpoint: WebhookEndpoint, delivery: WebhookDelivery,
                settings: Settings) -> tuple[int | None, str | None]:
    """(HTTP status, error) of one attempt."""
    parts = urllib.parse.urlsplit(endpoint.url)
    if not settings.debug and not await _public_addresses(parts.hostname or "", parts.port or 443):
        return None, "address not on the public internet"
    body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":"))
    now = utcnow()
    headers = {
        "content-type": "application/json",
        "user-agent": "storelink-webhooks",
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(endpoint.secret).sign(delivery.message_id, now, body),
    }
    try:
        async with http.post(endpoint.url, data=body.encode(), headers=headers, allow_redirects=False,
                             timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)) as resp:
            await resp.read()
            return resp.status, None if 200 <= resp.status < 300 else f"HTTP {resp.status}"
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        return None, type(exc).__name__


async def deliver_due(sessionmaker: async_sessionmaker, http: aiohttp.ClientSession, settings: Settings,
                      *, now: dt.datetime | None = None) -> int:
    """Send the due deliveries (at most BATCH, at once); returns how many were attempted."""
    async def work(session: AsyncSession) -> int:
        at = now or utcnow()
        rows = (await session.execute(
            select(WebhookDelivery, WebhookEndpoint).join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(WebhookDelivery.status == "PENDING", WebhookDelivery.next_attempt_at <= at)
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(BATCH)
            .with_for_update(of=WebhookDelivery, skip_locked=True)
        )).all()
        results = await asyncio.gather(*[_send(http, endpoint, delivery, settings) for delivery, endpoint in rows])
        for (delivery, _), (status, error) in zip(rows, results):
            delivery.attempts += 1
            delivery.last_status_code, delivery.last_error = status, error
            if error is None:
                delivery.status, delivery.delivered_at, delivery.next_attempt_at = "DELIVERED", utcnow(), None
                continue
            retry_at = at + next_wait(delivery.attempts)
            if retry_at > delivery.created_at + RETRY_FOR:
                delivery.status, delivery.next_attempt_at = "FAILED", None
                log.warning("webhook delivery %s failed for good after %s attempts (%s)",
                            delivery.id, delivery.attempts, error)
            else:
                delivery.next_attempt_at = retry_at
        return len(rows)

    return await transaction(sessionmaker, work)
