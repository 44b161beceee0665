"""Benchmark: campaigns (issue 15). Prints its figures; asserts nothing, but says where a check fails.

    python bench/campaign.py [--members 500000] [--audience 200000]   # DATABASE_URL or an embedded server

1. A brand of 10,000 stores (a grid over a 100 km square around Shanghai, open all day) and
   --members members generated in SQL; --audience of them joined at the first four stores (the
   broadcast's audience), with marketing consent, and 90% of those with a subscription credit.
2. A BROADCAST (control share 0.1) to those four stores' members: the audience's evaluation
   time (audiencePreview's statement), then a real worker process (`storelink worker`) against a
   fake WeChat in this process: the time until every member is queued, the send throughput
   (messages WeChat accepted per second), and the checks: exactly one message per treated member
   with a credit, none to anyone else, the control share within 1% of the setting.
3. reportLocation under load: 50 running STORE_NEARBY campaigns (each for the members of its own
   block of 100 stores, 3 km), 1,000 members of those blocks signed in over HTTP, each reporting
   from near their store twice (the first report meets a campaign and gets its coupon, the second
   finds nothing new), under five loads (200 members each): closed loops of 1 and 2 clients
   against one uvicorn worker, then closed loops of 4 clients and reports arriving at 40 and 60 a
   second (Poisson, open loop) against two (one per core, as `serve --workers 2`): p50/p95,
   reports per second and CPU per report. Each server start is warmed by 50 other members'
   reports first (its connections and statement caches), as a server in service would be.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import secrets
import subprocess
import sys
import time

import aiohttp
import asyncpg

import common  # noqa: E402  (puts src/ on the path)

TEMPLATE = "BENCH_broadcast"
GRID = 100  # 100 x 100 stores, about 1 km apart
BASE_LAT, BASE_LNG = 30.8, 121.0
STEP_LAT, STEP_LNG = 0.009, 0.0105  # about 1 km each way at this latitude
NEARBY_CAMPAIGNS, BLOCK = 50, 100
LOCATION_MEMBERS = 1000
WARM_UP = 50  # members per server start whose reports warm its workers (connections, statement caches)
# (API worker processes, loads): one worker for the CPU and round trips per report, then the API as
# it is deployed on this 2-core machine, one worker per core (`serve --workers 2`), under the
# heavier loads.
PLAN = [(1, [("at once", 1), ("at once", 2)]), (2, [("at once", 4), ("per second", 40), ("per second", 60)])]
LOADS = [load for _, loads in PLAN for load in loads]


def generate(members: int, audience: int) -> list[str]:
    week = "'[" + ",".join(f'{{"weekday": {d}, "opens": "00:00", "closes": "24:00"}}' for d in range(1, 8)) + "]'"
    return [
        f"""INSERT INTO store (code, name, city, address, lat, lng, timezone, opening_hours, ships_online_orders,
                               same_city_radius_m, created_at, updated_at)
            SELECT 'B' || s, '门店' || s, '上海', '路', {BASE_LAT} + ((s - 1) / {GRID}) * {STEP_LAT},
                   {BASE_LNG} + ((s - 1) % {GRID}) * {STEP_LNG}, 'Asia/Shanghai', {week}, false, 0, now(), now()
            FROM generate_series(1, {GRID * GRID}) s""",
        """INSERT INTO staff (username, password_hash, name, role, active, created_at)
           VALUES ('bench-hq', 'x', '总部', 'HQ_ADMIN', true, now())""",
        f"""INSERT INTO customer (openid, nickname, created_at)
            SELECT 'bo' || i, '顾客' || i, now() FROM generate_series(1, {members}) i""",
        # the first `audience` members joined at stores 1-4; the others anywhere else
        f"""INSERT INTO membership (customer_id, member_no, join_channel, join_store_id, joined_at)
            SELECT i, '8' || lpad(i::text, 9, '0'), 'STORE_QR',
                   CASE WHEN i <= {audience} THEN 1 + i % 4 ELSE 5 + i % {GRID * GRID - 4} END,
                   now() - (i % 700) * interval '1 day'
            FROM generate_series(1, {members}) i""",
        f"""INSERT INTO consent_record (customer_id, kind, granted, recorded_at)
            SELECT i, 'MARKETING', true, now() FROM generate_series(1, {audience}) i""",
        f"""INSERT INTO message_credit (customer_id, template_id, credits, updated_at)
            SELECT i, '{TEMPLATE}', 1, now() FROM generate_series(1, {audience}) i WHERE i % 10 <> 0""",
        "VACUUM ANALYZE",
    ]


async def setup(url: str, members: int, audience: int) -> None:
    conn = await asyncpg.connect(url)
    try:
        for statement in generate(members, audience):
            started = time.perf_counter()
            await conn.execute(statement)
            print(f"  {statement.split()[0:3]} {time.perf_counter() - started:.1f} s", flush=True)
        for table in ("store", "staff", "customer", "membership"):
            await conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}")
    finally:
        await conn.close()


async def broadcast(url: str, env: dict, audience: int, fake) -> None:
    from storelink import db
    from storelink.accounts.models import Staff
    from storelink.clock import utcnow
    from storelink.marketing import audience as audiences, campaigns
    from storelink.marketing.models import CampaignTrigger
    from storelink.settings import Settings

    settings = Settings(database_url=url, jwt_secret=env["JWT_SECRET"], phone_encryption_key=common.PHONE_KEY)
    engine = db.create_engine(url, pool_size=2, max_overflow=0)
    sessionmaker = db.create_sessionmaker(engine)
    rule = audiences.Rule(store_ids=(1, 2, 3, 4))
    async with sessionmaker() as session:
        started = time.perf_counter()
        size, reachable = await audiences.size(session, rule, template_id=TEMPLATE, now=utcnow(), settings=settings)
        evaluated = time.perf_counter() - started
        hq = (await session.execute(Staff.__table__.select().where(Staff.username == "bench-hq"))).first()
        actor = await session.get(Staff, hq.id)
        now = utcnow()
        campaign = await campaigns.create(
            session, actor=actor, name="冬季上新", trigger=CampaignTrigger.BROADCAST, rule=rule,
            offer_campaign_id=None, template_id=TEMPLATE, starts_at=now, ends_at=now + dt.timedelta(days=7),
            control_share=0.1, radius_m=None, delay_minutes=None, now=now)
        campaign_id = campaign.id
        await session.commit()
    print(f"audience: {size:,} members, {reachable:,} reachable; evaluated in {evaluated * 1000:.0f} ms")

    conn = await asyncpg.connect(url)
    worker = None
    try:
        started = time.perf_counter()
        worker = subprocess.Popen([sys.executable, "-m", "storelink", "worker"], env=env)
        queued_at = first_sent_at = None
        while True:
            await asyncio.sleep(0.2)
            queued, sent, pending = await conn.fetchrow(
                "SELECT count(*), count(*) FILTER (WHERE status = 'SENT'), count(*) FILTER (WHERE status = 'PENDING') "
                "FROM marketing_message WHERE campaign_id = $1", campaign_id)
            now = time.perf_counter()
            if queued_at is None and queued >= size:
                queued_at = now
            if first_sent_at is None and sent > 0:
                first_sent_at, first_sent = now, sent
            if queued_at is not None and pending == 0:
                break
            if now - started > 3600:
                print("!! gave up after an hour")
                break
        done = time.perf_counter()
        worker_cpu = common.cpu_seconds(worker.pid)
        rows = await conn.fetchrow(
            """SELECT count(*) AS eligible, count(*) FILTER (WHERE NOT treated) AS control,
                      count(*) FILTER (WHERE status = 'SENT') AS sent,
                      count(*) FILTER (WHERE status = 'UNREACHABLE') AS unreachable
               FROM marketing_message WHERE campaign_id = $1""", campaign_id)
        # the sends spent the credits: who held one comes from the generator's rule (all but every tenth)
        expected = await conn.fetchval(
            "SELECT count(*) FROM marketing_message WHERE campaign_id = $1 AND treated AND customer_id % 10 <> 0",
            campaign_id)
    finally:
        if worker is not None:
            common.stop(worker)
        await conn.close()
        await engine.dispose()
    sends = rows["sent"]
    print(f"queued: every member within {queued_at - started:.1f} s of the worker's start")
    print(f"sent: {sends:,} in {done - first_sent_at:.1f} s after the first: "
          f"{(sends - first_sent) / max(done - first_sent_at, 1e-9):,.0f} messages/s (target >= 500); "
          f"worker CPU {worker_cpu:.1f} s ({worker_cpu / max(sends, 1) * 1000:.2f} ms per message)")
    share = rows["control"] / rows["eligible"]
    received = [m["touser"] for m in fake.sent_messages]
    print(f"eligible {rows['eligible']:,}, control {rows['control']:,} ({share:.2%}, setting 10%), "
          f"unreachable {rows['unreachable']:,}")
    checks = {
        "one message per treated member with a credit": sends == expected,
        "WeChat received each exactly once": len(received) == len(set(received)) == sends,
        "control share within 1% of 10%": abs(share - 0.1) <= 0.01,
        "every member of the audience met the campaign": rows["eligible"] == size == audience,
    }
    for name, ok in checks.items():
        print(f"  {'ok' if ok else '!! FAILED'}: {name}")


async def nearby(url: str, env: dict, api_port: int) -> None:
    """50 STORE_NEARBY campaigns over blocks of stores; members of those blocks report near their store."""
    from storelink.wechat.fake import FakeWeChat

    conn = await asyncpg.connect(url)
    try:
        now = dt.datetime.now(dt.timezone.utc)
        offer = await conn.fetchval(
            """INSERT INTO coupon_campaign (title, discount_fen, min_spend_fen, valid_from, valid_until, claimed,
                                            per_customer_limit, channel, store_ids, created_at)
               VALUES ('到店立减', 1000, 0, $1, $2, 0, 1, 'STORE_ONLY', '{}', $1) RETURNING id""",
            now - dt.timedelta(hours=1), now + dt.timedelta(days=7))
        for k in range(NEARBY_CAMPAIGNS):
            stores = list(range(k * BLOCK * 2 + 1, k * BLOCK * 2 + BLOCK + 1))
            await conn.execute(
                """INSERT INTO marketing_campaign (name, trigger, audience, offer_campaign_id, template_id, state,
                                                   starts_at, ends_at, control_share, radius_m, created_at)
                   VALUES ($1, 'STORE_NEARBY', $2::jsonb, $3, 'BENCH_nearby', 'LIVE', $4, $5, 0.1, 3000, $4)""",
                f"到店有礼{k}", '{"store_ids": %s}' % stores, offer, now - dt.timedelta(minutes=1),
                now + dt.timedelta(days=7))
        # members of those blocks, signed in through the fake WeChat's codes
        first_id = await conn.fetchval("SELECT max(id) + 1 FROM customer")
        people = []
        for i in range(LOCATION_MEMBERS + WARM_UP * len(PLAN)):
            k = i % NEARBY_CAMPAIGNS
            store = k * BLOCK * 2 + 1 + (i * 7) % BLOCK
            people.append((f"wx-near-{i}", store))
        await conn.executemany("INSERT INTO customer (openid, nickname, created_at) VALUES ($1, $2, now())",
                               [(FakeWeChat.openid_for(code), code) for code, _ in people])
        await conn.executemany(
            """INSERT INTO membership (customer_id, member_no, join_channel, join_store_id, joined_at)
               VALUES ($1, $2, 'STORE_QR', $3, now())""",
            [(first_id + i, f"7{i:09d}", store) for i, (_, store) in enumerate(people)])
        locations = {code: tuple(await conn.fetchrow("SELECT lat, lng FROM store WHERE id = $1", store))
                     for code, store in people}
        await conn.execute("ANALYZE")
    finally:
        await conn.close()

    base = f"http://127.0.0.1:{api_port}"
    share = LOCATION_MEMBERS // len(LOADS)  # each load gets its own members, so each sees first and second reports
    groups = iter([code for code, _ in people[n * share:(n + 1) * share]] for n in range(len(LOADS)))
    warm_ups = iter([code for code, _ in people[LOCATION_MEMBERS + n * WARM_UP:][:WARM_UP]] for n in range(len(PLAN)))
    tokens: dict[str, str] = {}
    for workers, loads in PLAN:
        api = common.start_uvicorn("storelink.app:create_app", env, api_port,
                                   *(("--workers", str(workers)) if workers > 1 else ()))
        try:
            # aiohttp, as bench/join_burst.py: the load generator shares the two cores with the server,
            # and httpx cost 2-5 ms of CPU per report here, as much as half the server's own work.
            async with aiohttp.ClientSession(base, connector=aiohttp.TCPConnector(limit=100),
                                             timeout=aiohttp.ClientTimeout(total=30)) as client:
                async def gql(query, variables, token=None):
                    headers = {"authorization": f"Bearer {token}"} if token else {}
                    async with client.post("/graphql", json={"query": query, "variables": variables},
                                           headers=headers) as response:
                        body = await response.json()
                    if body.get("errors"):
                        raise RuntimeError(body["errors"])
                    return body["data"]

                if not tokens:
                    login = "mutation($c: String!) { wechatLogin(code: $c) { accessToken } }"
                    tokens = {code: (await gql(login, {"c": code}))["wechatLogin"]["accessToken"]
                              for code, _ in people}
                # the floor: a signed-in customer's smallest request, one at a time (also warms every worker)
                floor = [code for code, _ in people[:400]]
                async with common.Meter(base, api.pid, workers=workers) as meter:
                    for code in floor:
                        await gql("{ me { id } }", {}, tokens[code])
                print(f"the floor, `{{ me {{ id }} }}` one at a time ({workers} worker{'s' * (workers > 1)}): "
                      + meter.per(len(floor), "request"))
                warm_up = next(warm_ups)
                await asyncio.gather(*(gql(REPORT, {"l": _near(locations[code], 0)}, tokens[code]) for code in warm_up))
                for kind, level in loads:
                    await _load(gql, kind, level, next(groups), tokens, locations, common.Meter(
                        base, api.pid, workers=workers), workers)
        finally:
            common.stop(api)


REPORT = """mutation($l: GeoPointInput!) { reportLocation(location: $l) { coupons { id } userErrors { code } } }"""


def _near(store: tuple[float, float], round_: int) -> dict:
    """A point about 200 m (first round) or 400 m (second) north of the member's store."""
    return {"lat": store[0] + 0.002 * (round_ + 1), "lng": store[1], "coordSystem": "GCJ02"}


async def _load(gql, kind: str, level: int, group: list[str], tokens: dict, locations: dict, meter, workers: int
                ) -> None:
    """Each member of the group reports twice, under a closed (`level` at once) or open loop
    (`level` a second, Poisson); prints the latencies and the CPU per report."""
    timings: list[float] = []
    outcome = {"coupons": 0, "errors": 0}
    gate = asyncio.Semaphore(level if kind == "at once" else len(group) * 2)
    rng = random.Random(7)

    async def one(code: str, round_: int) -> None:
        async with gate:
            started = time.perf_counter()
            got = (await gql(REPORT, {"l": _near(locations[code], round_)}, tokens[code]))["reportLocation"]
            timings.append((time.perf_counter() - started) * 1000)
        outcome["coupons"] += len(got["coupons"])
        outcome["errors"] += len(got["userErrors"])

    async with meter:
        started = time.perf_counter()
        if kind == "at once":  # closed loop: `level` clients, each sending the next when answered
            for round_ in range(2):
                await asyncio.gather(*(one(code, round_) for code in group))
        else:  # open loop: reports arrive at `level` a second (Poisson), answered or not
            tasks = []
            for round_ in range(2):
                for code in group:
                    tasks.append(asyncio.create_task(one(code, round_)))
                    await asyncio.sleep(rng.expovariate(level))
            await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
    reports = len(timings)
    load = f"{level} at a time" if kind == "at once" else f"arriving at {level}/s"
    print(f"reportLocation, {NEARBY_CAMPAIGNS} running STORE_NEARBY campaigns, {GRID * GRID:,} stores, "
          f"{workers} worker{'s' * (workers > 1)}, {reports} reports {load}: "
          f"p50 {common.percentile(timings, 0.5):.1f} ms, p95 {common.percentile(timings, 0.95):.1f} ms "
          f"(target < 50 ms), {reports / elapsed:.0f} reports/s answered; {outcome['coupons']} coupons, "
          f"{outcome['errors']} errors")
    print("  " + meter.per(reports, "report"))


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=500_000)
    parser.add_argument("--audience", type=int, default=200_000)
    args = parser.parse_args()
    from storelink.wechat.fake import FakeWeChatServer

    url = await common.database()
    print(f"generating {args.members:,} members and {GRID * GRID:,} stores", flush=True)
    await setup(url, args.members, args.audience)
    fake = FakeWeChatServer().start()
    env = {**os.environ, "DATABASE_URL": url, "JWT_SECRET": secrets.token_urlsafe(48),
           "PHONE_ENCRYPTION_KEY": common.PHONE_KEY, "WECHAT_API_BASE": fake.base_url,
           "WECHAT_APPID": "wx-fake-appid", "WECHAT_SECRET": "fake-secret",
           # the bench runs at any hour: no quiet hours; and no recommender to train
           "MARKETING_QUIET_HOURS": "00:00-00:00", "RECOMMENDER_RETRAIN_HOURS": "0"}
    env.pop("DEBUG", None)
    try:
        await broadcast(url, env, args.audience, fake.fake)
        await nearby(url, env, 18830)
    finally:
        fake.stop()


if __name__ == "__main__":
    asyncio.run(main())
