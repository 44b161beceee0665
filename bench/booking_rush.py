"""Benchmark: a new service opens for booking (issue: online booking). Prints its figures.

    python bench/booking_rush.py      # DATABASE_URL, or an embedded PostgreSQL in a temp dir

200 places over one day (20 half-hour slots x capacity 10); 1,000 members try to book at once
(each a random slot) over HTTP against one uvicorn worker. Reports bookings per second and p95
latency, then verifies: exactly 200 booked, no slot above capacity, every loser got SLOT_FULL or
SLOT_UNAVAILABLE, and no request failed (HTTP 500 or a top-level error).
"""
from __future__ import annotations

import asyncio
import datetime as dt
import os
import random
import secrets
import statistics
import sys
import time
from collections import Counter
from zoneinfo import ZoneInfo

import aiohttp

import common  # noqa: E402  (puts src/ on the path)

MEMBERS = 1000
SLOTS = 20
CAPACITY = 10
CONNECTIONS = 100
BOOK = """mutation($input: BookAppointmentInput!) { bookAppointment(input: $input) {
  appointment { id } userErrors { code } } }"""


async def setup(url: str, secret: str):
    from sqlalchemy import insert

    from storelink import db
    from storelink.flows import staffing
    from storelink.accounts import tokens
    from storelink.accounts.models import AuthSession, Customer
    from storelink.appointments import service as appointments
    from storelink.graphql.relay import to_global_id
    from storelink.scanning.codes import new_member_no
    from storelink.members.models import Membership
    from storelink.stores import service as stores

    engine = db.create_engine(url)
    async with db.create_sessionmaker(engine)() as session:
        hq = await staffing.hire(session, actor=None, username="bench-hq", password="bench-password",
                                         name="HQ", role="HQ_ADMIN", store_id=None)
        store = await stores.upsert_store(
            session, actor=hq, code="RUSH", name="新服务店", city="上海", address="路1号", phone=None,
            lat=31.23, lng=121.47, coord_system="GCJ02", timezone="Asia/Shanghai",
            opening_hours=[{"weekday": d, "opens": "10:00", "closes": "20:00"} for d in range(1, 8)])
        service = await appointments.upsert_service_type(session, actor=hq, code="NEW", name="新服务",
                                                         description=None, duration_minutes=30)
        await appointments.configure_store_service(
            session, actor=hq, store_id=store.id, service_id=service.id, capacity=CAPACITY,
            slot_interval_minutes=30, min_notice_minutes=120, booking_window_days=30,
            cancel_cutoff_minutes=120, active=True)
        now = dt.datetime.now(dt.timezone.utc)
        customer_ids = (await session.execute(
            insert(Customer).returning(Customer.id),
            [{"openid": f"rush-{i}", "phone": f"139{i:08d}", "created_at": now} for i in range(MEMBERS)],
        )).scalars().all()
        await session.execute(insert(Membership), [
            {"customer_id": c, "member_no": new_member_no(), "join_channel": "ONLINE", "joined_at": now}
            for c in customer_ids])
        sessions = [(c, tokens.new_session_id()) for c in customer_ids]
        await session.execute(insert(AuthSession), [{"id": sid, "customer_id": c, "created_at": now}
                                                    for c, sid in sessions])
        await session.commit()
    await engine.dispose()
    access = [tokens.issue_access_token(secret=secret, subject_kind="customer", subject_id=c, session_id=sid,
                                        ttl_seconds=3600) for c, sid in sessions]
    return to_global_id("Store", store.id), to_global_id("ServiceType", service.id), access


async def verify(url: str) -> tuple[int, int]:
    from sqlalchemy import func, select

    from storelink import db
    from storelink.appointments.models import Appointment, SlotUsage

    engine = db.create_engine(url)
    async with db.create_sessionmaker(engine)() as session:
        booked = (await session.execute(select(func.count()).select_from(Appointment))).scalar_one()
        fullest = (await session.execute(select(func.max(func.coalesce(SlotUsage.used, 0))))).scalar_one()
        per_start = max((await session.execute(
            select(func.count()).select_from(Appointment).group_by(Appointment.start_at))).scalars(), default=0)
    await engine.dispose()
    return booked, max(fullest or 0, per_start or 0)


async def main() -> None:
    url = await common.database()
    secret = secrets.token_urlsafe(48)
    store_id, service_id, tokens = await setup(url, secret)
    day = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date() + dt.timedelta(days=1)
    starts = [dt.datetime.combine(day, dt.time(10), ZoneInfo("Asia/Shanghai")) + dt.timedelta(minutes=30 * i)
              for i in range(SLOTS)]

    port = 18810
    api = common.start_uvicorn("storelink.app:create_app", {**os.environ, "DATABASE_URL": url, "JWT_SECRET": secret},
                               port)
    outcomes: Counter = Counter()
    latencies: list[float] = []
    try:
        rng = random.Random(1)
        # aiohttp, as bench/join_burst.py: the load generator shares the two cores with the server, and
        # httpx cost 8-13 ms of CPU per request here, more than the server's own work.
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}", connector=aiohttp.TCPConnector(limit=CONNECTIONS),
                                         timeout=aiohttp.ClientTimeout(total=60)) as client:
            gate = asyncio.Semaphore(CONNECTIONS)  # the latency of a request sent, not of its wait for a connection

            async def book(token: str) -> None:
                async with gate:
                    await book_now(token)

            async def book_now(token: str) -> None:
                variables = {"input": {"storeId": store_id, "serviceId": service_id,
                                       "startAt": rng.choice(starts).isoformat()}}
                t0 = time.perf_counter()
                async with client.post("/graphql", json={"query": BOOK, "variables": variables},
                                       headers={"authorization": f"Bearer {token}"}) as resp:
                    body = await resp.json() if resp.status == 200 else {}
                latencies.append((time.perf_counter() - t0) * 1000)
                if resp.status != 200 or "errors" in body:
                    outcomes[f"HTTP {resp.status} / top-level error"] += 1
                    return
                errors = body["data"]["bookAppointment"]["userErrors"]
                outcomes[errors[0]["code"] if errors else "BOOKED"] += 1

            async with common.Meter(f"http://127.0.0.1:{port}", api.pid) as meter:
                started = time.perf_counter()
                await asyncio.gather(*[book(t) for t in tokens])
                elapsed = time.perf_counter() - started
    finally:
        common.stop(api)

    latencies.sort()
    booked, fullest = await verify(url)
    print(f"{MEMBERS} members, {SLOTS} slots x capacity {CAPACITY}, one uvicorn worker, {CONNECTIONS} connections")
    print(f"{MEMBERS / elapsed:.0f} booking requests/s; p50 {statistics.median(latencies):.0f} ms, "
          f"p95 {latencies[int(len(latencies) * 0.95)]:.0f} ms")
    print(meter.per(MEMBERS, "booking request"))
    print("outcomes:", dict(outcomes))
    losers_ok = set(outcomes) <= {"BOOKED", "SLOT_FULL", "SLOT_UNAVAILABLE"}
    ok = booked == outcomes["BOOKED"] == SLOTS * CAPACITY and fullest <= CAPACITY and losers_ok
    print(f"check: {booked} booked (expected {SLOTS * CAPACITY}), fullest slot {fullest} (capacity {CAPACITY}), "
          f"losers only SLOT_FULL/SLOT_UNAVAILABLE: {losers_ok} -> {'OK' if ok else 'MISMATCH'}")
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    asyncio.run(main())
