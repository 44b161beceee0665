"""Live events: published inside the transaction that caused them, delivered to every server
process once it commits (PostgreSQL LISTEN/NOTIFY: a NOTIFY is held until COMMIT and dropped on
ROLLBACK), then fanned out by each process to its own subscribers.

A payload carries only ids and the kind; each subscriber's fields are read afresh with that
subscriber's permissions. Delivery is best effort: an event that comes while a process is
reconnecting to the database, or to a subscriber whose queue is full, is lost (webhooks are the
channel that retries). No new service: the database the app already has.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session

from storelink.clock import utcnow

log = logging.getLogger(__name__)

CHANNEL = "storelink_live"
QUEUE_SIZE = 100  # events one subscriber may fall behind by before it misses some
_KEEPALIVE_SECONDS = 10  # how often the listening connection is checked (and reconnected)


@dataclass(frozen=True)
class Event:
    audience: str  # "store" or "customer"
    to: int  # the store's or the customer's id
    kind: str
    at: str  # ISO time of the change
    ids: dict[str, int]  # member, appointment, order, coupon: what the event is about

    @classmethod
    def read(cls, payload: str) -> "Event":
        data = json.loads(payload)
        return cls(data["audience"], int(data["to"]), data["kind"], data["at"], dict(data.get("ids") or {}))


_PENDING = "storelink_live_pending"  # session.info key: the transaction's events, sent just before COMMIT


async def publish(session: AsyncSession, *, kind: str, store_id: int | None = None,
                  customer_id: int | None = None, **ids: int | None) -> None:
    """Announce `kind` to a store's screens and/or a customer's, when this transaction commits.
    A transaction's events go to PostgreSQL together, in one statement just before its COMMIT
    (nothing publishes inside a savepoint, whose rollback would not take its events back)."""
    at = utcnow().isoformat()
    present = {name: value for name, value in ids.items() if value is not None}
    pending = session.info.setdefault(_PENDING, [])
    for audience, to in (("store", store_id), ("customer", customer_id)):
        if to is not None:
            pending.append(json.dumps({"audience": audience, "to": to, "kind": kind, "at": at, "ids": present}))


@event.listens_for(Session, "before_commit")
def _notify(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending:  # runs inside the async session's greenlet, so the plain execute is awaited there
        calls = ", ".join(f"pg_notify(:channel, :p{i})" for i in range(len(pending)))
        session.execute(text(f"SELECT {calls}"), {"channel": CHANNEL, **{f"p{i}": p for i, p in enumerate(pending)}})


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)


class Hub:
    """One per server process: one connection listening, a queue per subscriber."""

    def __init__(self, engine: AsyncEngine):
        self._engine = engine
        self._queues: dict[tuple[str, int], set[asyncio.Queue]] = defaultdict(set)
        self._stop = asyncio.Event()
        self._listening = asyncio.Event()
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="live-events")
        # Serve once listening, so an event committed after startup reaches the first subscriber
        # (but do not hold the server back if the database is slow to answer: it keeps trying).
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._listening.wait(), _KEEPALIVE_SECONDS)

    async def stop(self) -> None:
        """End every subscription (their streams complete) and stop listening."""
        self._stop.set()
        for queues in self._queues.values():
            for queue in queues:
                _offer(queue, None)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @contextlib.asynccontextmanager
    async def subscription(self, audience: str, to: int) -> AsyncIterator[AsyncIterator[Event]]:
        queue: asyncio.Queue = asyncio.Queue(maxsize=QUEUE_SIZE)
        key = (audience, to)
        self._queues[key].add(queue)

        async def events() -> AsyncIterator[Event]:
            while (event := await queue.get()) is not None:
                yield event

        try:
            if self._stop.is_set():
                _offer(queue, None)
            yield events()
        finally:
            self._queues[key].discard(queue)
            if not self._queues[key]:
                del self._queues[key]

    def _deliver(self, _connection, _pid, _channel, payload: str) -> None:
        try:
            event = Event.read(payload)
        except (ValueError, KeyError, TypeError):
            log.warning("unreadable live event ignored")
            return
        for queue in self._queues.get((event.audience, event.to), ()):
            _offer(queue, event)

    async def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                async with self._engine.connect() as connection:
                    raw = (await connection.get_raw_connection()).driver_connection
                    assert raw is not None  # an open connection has its driver's
                    await raw.add_listener(CHANNEL, self._deliver)
                    self._listening.set()
                    while not self._stop.is_set():
                        with contextlib.suppress(asyncio.TimeoutError):
                            await asyncio.wait_for(self._stop.wait(), _KEEPALIVE_SECONDS)
                        await raw.execute("SELECT 1")  # raises when the connection is gone
                    await raw.remove_listener(CHANNEL, self._deliver)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any loss of the connection: listen again
                self._listening.clear()
                log.warning("live events: listening connection lost (%s); reconnecting", type(exc).__name__)
                await asyncio.sleep(1)


def _offer(queue: asyncio.Queue, item) -> None:
    """Put without waiting: a subscriber that fell QUEUE_SIZE behind misses the event."""
    try:
        queue.put_nowait(item)
    except asyncio.QueueFull:
        if item is None:  # the end must get through: make room for it
            queue.get_nowait()
            queue.put_nowait(None)
