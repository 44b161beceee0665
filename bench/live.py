"""Benchmark: live events (issue: live store tablets and webhooks). Prints its figures.

    python bench/live.py      # DATABASE_URL, or an embedded PostgreSQL in a temp dir

One uvicorn server process; 1,000 WebSocket subscribers (graphql-transport-ws, storeEvents) over
100 stores, ten tablets each, signed in as their store's manager. A producer in this process
commits 100 events a second for 20 seconds, each in its own transaction, to a random store. Every
subscriber records the delay from the event's `at` (taken as it is published, just before its
transaction commits, so the figure includes the commit) to its arrival. Also reports the server's memory per idle subscriber (resident size with 1,000
connected and subscribed, less before any). Target: p95 delay < 200 ms.
"""
from __future__ import annotations

import asyncio
import datetime
import itertools
import json
import os
import random
import secrets
import statistics
import time

import websockets

import common  # noqa: E402  (puts src/ on the path)

STORES, PER_STORE, RATE, SECONDS = 100, 10, 100, 20
PORT = 18830
SUBSCRIBE = "subscription($s: ID!) { storeEvents(storeId: $s) { kind at } }"


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


async def setup(url: str, settings) -> list[tuple[str, int, str]]:
    """(store global id, its id, its manager's access token) for each store."""
    from storelink import db
    from storelink.accounts.service import _open_session
    from storelink.flows import staffing
    from storelink.ids import global_id
    from storelink.stores import service as stores

    engine = db.create_engine(url)
    found = []
    async with db.create_sessionmaker(engine)() as session:
        hq = await staffing.hire(session, actor=None, username="bench-hq", password="bench-password",
                                 name="HQ", role="HQ_ADMIN", store_id=None)
        for i in range(STORES):
            store = await stores.upsert_store(
                session, actor=hq, code=f"L{i:03d}", name=f"店{i}", city="上海", address="路", phone=None,
                lat=31.2, lng=121.4, coord_system="GCJ02", timezone="Asia/Shanghai",
                opening_hours=[{"weekday": d, "opens": "10:00", "closes": "22:00"} for d in range(1, 8)])
            manager = await staffing.hire(session, actor=hq, username=f"mgr{i:03d}", password="bench-password",
                                          name="店长", role="STORE_MANAGER", store_id=store.id)
            issued = await _open_session(session, settings=settings, staff=manager)
            found.append((global_id("Store", store.id), store.id, issued.access_token))
        await session.commit()
    await engine.dispose()
    return found


async def tablet(store: str, token: str, delays: list, ready: asyncio.Event, done: asyncio.Event):
    async with websockets.connect(f"ws://127.0.0.1:{PORT}/graphql", subprotocols=["graphql-transport-ws"],
                                  max_queue=None) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe",
                                  "payload": {"query": SUBSCRIBE, "variables": {"s": store}}}))
        ready.set()
        while not done.is_set():
            try:
                message = json.loads(await asyncio.wait_for(ws.recv(), 0.5))
            except asyncio.TimeoutError:
                continue
            at = datetime.datetime.fromisoformat(message["payload"]["data"]["storeEvents"]["at"])
            delays.append(time.time() - at.timestamp())


async def produce(url: str, stores: list[int]) -> int:
    from storelink import db
    from storelink.live import bus

    engine = db.create_engine(url, pool_size=5)
    sessionmaker = db.create_sessionmaker(engine)
    sent = 0
    start = time.monotonic()
    for n in itertools.count():
        due = start + n / RATE
        if due > start + SECONDS:
            break
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        async with sessionmaker() as session:
            await bus.publish(session, kind="MEMBER_SCANNED", store_id=random.choice(stores))
            await session.commit()
        sent += 1
    await engine.dispose()
    return sent


async def main() -> None:
    from storelink.settings import Settings

    url = await common.database()
    settings = Settings(database_url=url, jwt_secret=secrets.token_urlsafe(48),
                        phone_encryption_key=secrets.token_urlsafe(48))
    stores = await setup(url, settings)
    env = {**os.environ, "DATABASE_URL": url, "JWT_SECRET": settings.jwt_secret,
           "PHONE_ENCRYPTION_KEY": settings.phone_encryption_key}
    server = common.start_uvicorn("storelink.app:create_app", env, PORT, "--ws-max-queue", "1000")
    try:
        await asyncio.sleep(1)
        before = rss_kib(server.pid)
        delays: list[float] = []
        done = asyncio.Event()
        readies = []
        tasks = []
        for store, _, token in stores:
            for _ in range(PER_STORE):
                ready = asyncio.Event()
                readies.append(ready)
                tasks.append(asyncio.create_task(tablet(store, token, delays, ready, done)))
                await asyncio.sleep(0.002)
        await asyncio.wait_for(asyncio.gather(*[r.wait() for r in readies]), 120)
        await asyncio.sleep(2)
        after = rss_kib(server.pid)
        sent = await produce(url, [pk for _, pk, _ in stores])
        await asyncio.sleep(2)
        done.set()
        await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        common.stop(server)
    delays.sort()
    expected = sent * PER_STORE
    print(f"subscribers: {len(readies)} over {STORES} stores; events committed: {sent} in {SECONDS} s "
          f"({sent / SECONDS:.0f}/s); deliveries received: {len(delays)} of {expected}")
    print(f"delay from commit to subscriber: p50 {statistics.median(delays) * 1000:.1f} ms, "
          f"p95 {common.percentile(delays, 0.95) * 1000:.1f} ms, max {delays[-1] * 1000:.1f} ms (target p95 < 200 ms)")
    print(f"server memory: {before / 1024:.0f} MiB before, {after / 1024:.0f} MiB with {len(readies)} idle "
          f"subscribers: {(after - before) / len(readies):.1f} KiB per subscriber")


if __name__ == "__main__":
    asyncio.run(main())
