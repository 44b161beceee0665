"""Queue messages with the change they belong to; deliver them from the worker.

Delivery locks the due rows it takes (FOR UPDATE SKIP LOCKED) for the whole send, so two workers
never send the same message. A message is retried with exponential backoff and marked FAILED
after MAX_ATTEMPTS. (If a worker dies after WeChat accepted a message but before the row is
marked SENT, the rollback makes it due again: the only way a message could go out twice.)
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storelink.clock import utcnow
from storelink.db import transaction
from storelink.outbox.models import OutboxMessage
from storelink.wechat.client import WeChatClient, WeChatError, WeChatUnavailable

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BASE_BACKOFF = dt.timedelta(seconds=30)
MAX_BACKOFF = dt.timedelta(hours=1)


class Skip(Exception):
    """The message no longer applies (its subject was cancelled or deleted): do not send it."""


# kind -> async (session, payload, wechat) -> None; raises Skip, WeChatError or WeChatUnavailable
Sender = Callable[[AsyncSession, dict, WeChatClient], Awaitable[None]]
_SENDERS: dict[str, Sender] = {}


def sender(kind: str) -> Callable[[Sender], Sender]:
    def register(fn: Sender) -> Sender:
        _SENDERS[kind] = fn
        return fn

    return register


async def enqueue(session: AsyncSession, *, kind: str, subject: str, payload: dict,
                  due_at: dt.datetime) -> None:
    session.add(OutboxMessage(kind=kind, subject=subject, payload=payload, next_attempt_at=due_at,
                              created_at=utcnow()))


async def withdraw(session: AsyncSession, *, subject: str, kind: str | None = None) -> None:
    """Cancel the pending messages about a subject."""
    cond = [OutboxMessage.subject == subject, OutboxMessage.status == "PENDING"]
    if kind:
        cond.append(OutboxMessage.kind == kind)
    await session.execute(update(OutboxMessage).where(*cond).values(status="CANCELLED"))


def backoff(attempts: int) -> dt.timedelta:
    return min(BASE_BACKOFF * (2 ** (attempts - 1)), MAX_BACKOFF)


async def deliver_due(sessionmaker: async_sessionmaker, wechat: WeChatClient, *, batch: int = 20) -> int:
    """Send the messages that are due; returns how many were sent."""
    async def work(session: AsyncSession) -> int:
        sent = 0
        rows = (
            await session.execute(
                select(OutboxMessage)
                .where(OutboxMessage.status == "PENDING", OutboxMessage.next_attempt_at <= utcnow())
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                .limit(batch)
                .with_for_update(skip_locked=True)
            )
        ).scalars().all()
        for message in rows:
            send = _SENDERS.get(message.kind)
            try:
                if send is None:
                    raise Skip(f"no sender for {message.kind}")
                await send(session, message.payload, wechat)
            except Skip as why:
                message.status = "CANCELLED"
                message.last_error = str(why)[:300]
            except (WeChatError, WeChatUnavailable) as exc:
                message.attempts += 1
                message.last_error = str(exc)[:300]
                if message.attempts >= MAX_ATTEMPTS:
                    message.status = "FAILED"
                    log.warning("outbox message %s failed for good: %s", message.id, exc)
                else:
                    message.next_attempt_at = utcnow() + backoff(message.attempts)
            else:
                message.status = "SENT"
                message.sent_at = utcnow()
                sent += 1
        return sent

    return await transaction(sessionmaker, work)
