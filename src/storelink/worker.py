"""The background worker: sends due outbox messages and webhook deliveries, queues and sends
marketing campaigns' messages, cancels orders left unpaid, asks the payment provider again for
refunds it could not be asked for, forgets browsing activity older than 180 days, and retrains the recommender on its schedule (RECOMMENDER_RETRAIN_HOURS).

`serve` runs one in the server process; `storelink worker` runs one alone; several may run at
once (both jobs lock the rows they take with SKIP LOCKED).
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging

import aiohttp
from sqlalchemy.ext.asyncio import async_sessionmaker

import storelink.appointments.booking  # noqa: F401  (registers the reminder sender)
import storelink.orders.cart  # noqa: F401  (registers the cart-push sender)
from storelink import metrics
from storelink.clock import utcnow
from storelink.marketing import activity, sending, triggers
from storelink.orders import checkout
from storelink.outbox import service as outbox
from storelink.payments import providers
from storelink.returns import payouts
from storelink.recommend import train
from storelink.settings import Settings
from storelink.wechat.client import WeChatClient
from storelink.webhooks import service as webhooks

log = logging.getLogger(__name__)


async def run_once(sessionmaker: async_sessionmaker, wechat: WeChatClient, settings: Settings | None = None,
                   http: aiohttp.ClientSession | None = None) -> int:
    """One round of every job; returns how much was done."""
    done = 0
    if http is not None and settings is not None:
        done += await webhooks.deliver_due(sessionmaker, http, settings)
    if settings is not None and settings.recommender_retrain_hours > 0:
        every = dt.timedelta(hours=settings.recommender_retrain_hours)
        done += await train.retrain_if_due(sessionmaker, every=every, window_days=settings.recommender_window_days,
                                           min_orders=settings.recommender_min_orders)
    while (sent := await outbox.deliver_due(sessionmaker, wechat)) > 0:
        done += sent
    if settings is not None:
        await triggers.queue_due(sessionmaker, settings, now=utcnow())
        while (settled := await sending.deliver_due(sessionmaker, wechat, settings)) > 0:
            done += settled
    while (expired := await checkout.expire_unpaid(sessionmaker)) > 0:
        done += expired
    if http is not None and settings is not None:
        done += await payouts.retry_due(sessionmaker, lambda: providers.build(settings, http))
    done += await activity.prune(sessionmaker)
    return done


async def run(sessionmaker: async_sessionmaker, wechat: WeChatClient, *, settings: Settings | None = None,
              http: aiohttp.ClientSession | None = None, interval: float = 5.0,
              stop: asyncio.Event | None = None) -> None:
    stop = stop or asyncio.Event()
    while not stop.is_set():
        try:
            await run_once(sessionmaker, wechat, settings, http)
            metrics.WORKER_LAST_RUN.set_to_current_time()
        except Exception:  # the worker must outlive a bad batch or a database blip
            log.exception("worker round failed")
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
        except TimeoutError:
            pass
