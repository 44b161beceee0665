"""Benchmark: a store opening (issue: scan-to-join). Prints its figures; asserts only the outcome.

    python bench/join_burst.py      # DATABASE_URL, or an embedded PostgreSQL in a temp dir

500 distinct customers log in with WeChat, bind a phone and join with one guide's code, 50 at a
time, over HTTP against one uvicorn worker; the fake WeChat runs in its own process. Then 500 more,
already signed in, join in one burst. Reports customers and joins per second and p95 latency, and
checks after each run that every member is credited to that guide and the code's use count
equals the members (500, then 1,000).
"""
from __future__ import annotations

import asyncio
import os
import secrets
import statistics
import sys
import time

import aiohttp

import common  # noqa: E402  (puts src/ on the path)

CUSTOMERS = 500
CONCURRENCY = 50
LOGIN = "mutation($c: String!) { wechatLogin(code: $c) { accessToken userErrors { code } } }"
BIND = "mutation($c: String!) { bindPhone(code: $c) { userErrors { code } } }"
JOIN = """mutation($c: String!) { joinByCode(code: $c, consent: {privacyPolicyVersion: "2026-01", marketing: true}) {
  isNewMember userErrors { code } } }"""


async def setup(url: str, settings) -> tuple[str, int]:
    from storelink import db
    from storelink.flows import staffing
    from storelink.members.join_codes import personal_codes
    from storelink.stores import service as stores

    engine = db.create_engine(url)
    async with db.create_sessionmaker(engine)() as session:
        hq = await staffing.hire(session, actor=None, username="bench-hq", password="bench-password",
                                         name="HQ", role="HQ_ADMIN", store_id=None)
        store = await stores.upsert_store(
            session, actor=hq, code="OPENING", name="新店", city="上海", address="开业路1号", phone=None,
            lat=31.23, lng=121.47, coord_system="GCJ02", timezone="Asia/Shanghai",
            opening_hours=[{"weekday": d, "opens": "10:00", "closes": "22:00"} for d in range(1, 8)])
        guide = await staffing.hire(session, actor=hq, username="bench-guide", password="bench-password",
                                            name="导购", role="GUIDE", store_id=store.id)
        code = (await personal_codes(session, [guide.id]))[guide.id].code
        await session.commit()
    await engine.dispose()
    return code, guide.id


async def verify(url: str, code: str, guide_id: int, expected: int) -> None:
    from sqlalchemy import func, select

    from storelink import db
    from storelink.members.models import JoinCode, Membership

    engine = db.create_engine(url)
    async with db.create_sessionmaker(engine)() as session:
        members = (await session.execute(select(func.count()).select_from(Membership))).scalar_one()
        credited = (await session.execute(select(func.count()).select_from(Membership).where(
            Membership.recruited_by_id == guide_id, Membership.guide_id == guide_id,
            Membership.join_channel == "GUIDE_QR"))).scalar_one()
        uses = (await session.execute(select(JoinCode.uses).where(JoinCode.code == code))).scalar_one()
    await engine.dispose()
    ok = members == credited == uses == expected
    print(f"check after {expected} joins: {members} members, {credited} credited to the guide, code uses {uses} -> "
          f"{'OK' if ok else 'MISMATCH'}")
    if not ok:
        sys.exit(1)


async def main() -> None:
    from storelink.settings import Settings

    url = await common.database()
    settings = Settings(database_url=url, jwt_secret=secrets.token_urlsafe(48), phone_encryption_key=common.PHONE_KEY)
    code, guide_id = await setup(url, settings)

    wx_port, api_port = 18801, 18800
    env = {**os.environ, "DATABASE_URL": url, "JWT_SECRET": settings.jwt_secret,
           "WECHAT_API_BASE": f"http://127.0.0.1:{wx_port}", "WECHAT_APPID": "wx-fake-appid",
           "WECHAT_SECRET": "fake-secret"}
    fake = common.start_uvicorn("storelink.wechat.fake:fake_app", env, wx_port)
    api = common.start_uvicorn("storelink.app:create_app", env, api_port)
    try:
        join_ms, signup_ms, failures = [], [], []
        semaphore = asyncio.Semaphore(CONCURRENCY)
        # aiohttp: the load generator shares the two cores with the server, and httpx's pool
        # costs more CPU per request than the server's own work at this concurrency.
        connector = aiohttp.TCPConnector(limit=CONCURRENCY)
        async with aiohttp.ClientSession(f"http://127.0.0.1:{api_port}", connector=connector,
                                         timeout=aiohttp.ClientTimeout(total=30)) as client:
            async def gql(query, variables, token=None):
                headers = {"authorization": f"Bearer {token}"} if token else {}
                async with client.post("/graphql", json={"query": query, "variables": variables},
                                       headers=headers) as resp:
                    resp.raise_for_status()
                    return (await resp.json())["data"]

            async def sign_up(i: int) -> str:
                async with semaphore:
                    t0 = time.perf_counter()
                    token = (await gql(LOGIN, {"c": f"opening-{i}"}))["wechatLogin"]["accessToken"]
                    await gql(BIND, {"c": f"phone-139{i:08d}"}, token)
                    signup_ms.append((time.perf_counter() - t0) * 1000)
                    return token

            async def join(token: str) -> None:
                async with semaphore:
                    t0 = time.perf_counter()
                    joined = (await gql(JOIN, {"c": code}, token))["joinByCode"]
                    join_ms.append((time.perf_counter() - t0) * 1000)
                    if joined["userErrors"] or not joined["isNewMember"]:
                        failures.append(joined)

            async def customer(i: int) -> None:
                await join(await sign_up(i))

            # Run 1: the whole flow per customer (log in, bind the phone, join), 50 at a time.
            async with common.Meter(f"http://127.0.0.1:{api_port}", api.pid) as flow_meter:
                started = time.perf_counter()
                await asyncio.gather(*[customer(i) for i in range(CUSTOMERS)])
                flow_elapsed = time.perf_counter() - started
            flow_join_ms, join_ms[:] = sorted(join_ms), []
            await verify(url, code, guide_id, CUSTOMERS)

            # Run 2 (a second guide code's worth of fresh customers): everyone has signed in and
            # bound a phone beforehand; the burst is the joins alone, 50 at a time.
            tokens = await asyncio.gather(*[sign_up(CUSTOMERS + i) for i in range(CUSTOMERS)])
            async with common.Meter(f"http://127.0.0.1:{api_port}", api.pid) as join_meter:
                started = time.perf_counter()
                await asyncio.gather(*[join(t) for t in tokens])
                join_elapsed = time.perf_counter() - started
    finally:
        common.stop(api, fake)

    join_ms.sort()

    def p(values, q):
        return values[int(len(values) * q)]

    print(f"{CUSTOMERS} customers, {CONCURRENCY} at a time, one uvicorn worker, embedded PostgreSQL")
    print(f"run 1, whole flow (log in + bind phone + join): {CUSTOMERS / flow_elapsed:.0f} customers joined/s "
          f"(target >= 100); "
          f"joinByCode p50 {statistics.median(flow_join_ms):.0f} ms, p95 {p(flow_join_ms, .95):.0f} ms")
    print(f"run 2, joins alone: {CUSTOMERS / join_elapsed:.0f} joins/s (target >= 100); "
          f"joinByCode p50 {statistics.median(join_ms):.0f} ms, p95 {p(join_ms, .95):.0f} ms")
    print(f"run 1 {flow_meter.per(CUSTOMERS, 'customer')} (log in + bind phone + join)")
    print(f"run 2 {join_meter.per(CUSTOMERS, 'join')}")
    print(f"failed joins: {len(failures)}")
    await verify(url, code, guide_id, 2 * CUSTOMERS)


if __name__ == "__main__":
    asyncio.run(main())
