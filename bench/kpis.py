"""Benchmark: KPIs at brand scale (issue: guide attribution and store KPIs). Prints its figures.

    python bench/kpis.py      # DATABASE_URL, or an embedded PostgreSQL in a temp dir

500 stores, 5,000 guides, 1,000,000 members (with their join scans), 5,000,000 orders over two
years (10% guest sales, 8% refunded or unpaid) and 500,000 appointments, generated in SQL. Then,
through the real app in-process (GraphQL over ASGI, HQ token): `storeKpis` for a month, 40 random
store-months, and `guideLeaderboard` (HQ, every guide, one month), 10 random months. Targets:
storeKpis p95 < 100 ms, leaderboard p95 < 1 s. Checks one store-month against a plain recount.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import random
import secrets
import statistics
import sys
import time

import httpx

import common  # noqa: E402  (puts src/ on the path)

STORES, GUIDES, MEMBERS, ORDERS, APPOINTMENTS = 500, 5_000, 1_000_000, 5_000_000, 500_000
DAYS = 730
START = "2024-12-01"

GENERATE = [
    f"""INSERT INTO store (code, name, city, address, lat, lng, timezone, opening_hours, created_at, updated_at)
        SELECT 'K' || i, '门店' || i, '上海', '路', 31 + i / 1000.0, 121 + i / 1000.0, 'Asia/Shanghai', '[]', now(), now()
        FROM generate_series(1, {STORES}) i""",
    # guide g works at store ((g - 1) % STORES) + 1
    f"""INSERT INTO staff (username, password_hash, name, role, store_id, active, created_at)
        SELECT 'kg' || g, 'x', '导购' || g, 'GUIDE', (g - 1) % {STORES} + 1, true, now()
        FROM generate_series(1, {GUIDES}) g""",
    f"""INSERT INTO join_code (code, kind, store_id, guide_id, personal, uses, active, created_at)
        SELECT 'kc' || g, 'GUIDE', (g - 1) % {STORES} + 1, g, true, 0, true, now() FROM generate_series(1, {GUIDES}) g""",
    "INSERT INTO service_type (code, name, duration_minutes, created_at) VALUES ('FIT', '试衣', 60, now())",
    f"INSERT INTO customer (openid, created_at) SELECT 'ko' || i, now() FROM generate_series(1, {MEMBERS}) i",
    # 60% join with a guide code, 20% a store code, 5% a campaign, 15% online
    f"""INSERT INTO membership (customer_id, member_no, join_channel, join_store_id, recruited_by_id, guide_id,
                                bound_at, joined_at)
        SELECT i, '8' || lpad(i::text, 9, '0'), ch,
               CASE WHEN ch = 'ONLINE' THEN NULL ELSE (g - 1) % {STORES} + 1 END,
               CASE WHEN ch = 'GUIDE_QR' THEN g END, CASE WHEN ch = 'GUIDE_QR' THEN g END, t, t
        FROM (SELECT i, 1 + (hashint(i) % {GUIDES}) AS g,
                     CASE WHEN hashint(i * 7) % 100 < 60 THEN 'GUIDE_QR' WHEN hashint(i * 7) % 100 < 80 THEN 'STORE_QR'
                          WHEN hashint(i * 7) % 100 < 85 THEN 'CAMPAIGN_QR' ELSE 'ONLINE' END AS ch,
                     timestamptz '{START}' + (hashint(i * 13) % ({DAYS} * 1440)) * interval '1 minute' AS t
              FROM generate_series(1, {MEMBERS}) i) s""",
    """INSERT INTO join_scan (code, join_code_id, store_id, customer_id, outcome, scanned_at)
       SELECT 'kc', recruited_by_id, join_store_id, customer_id, 'JOINED', joined_at FROM membership
       WHERE recruited_by_id IS NOT NULL""",
]

ORDER_BATCH = 1_000_000
ORDERS_SQL = f"""
INSERT INTO sales_order (order_no, customer_id, member_channel, channel, status, store_id, guide_id, service_guide_id,
                         subtotal_fen, discount_fen, total_fen, points_redeemed, points_earned, created_at, paid_at)
SELECT 'K' || i, c,
       -- the buyer's join channel, the same rule as the membership rows above
       CASE WHEN c IS NULL THEN NULL WHEN hashint(c * 7) % 100 < 60 THEN 'GUIDE_QR'
            WHEN hashint(c * 7) % 100 < 80 THEN 'STORE_QR' WHEN hashint(c * 7) % 100 < 85 THEN 'CAMPAIGN_QR'
            ELSE 'ONLINE' END,
       CASE WHEN hashint(i * 3) % 2 = 0 THEN 'ONLINE' ELSE 'STORE' END,
       CASE WHEN hashint(i * 5) % 100 < 4 THEN 'REFUNDED' WHEN hashint(i * 5) % 100 < 8 THEN 'CANCELLED'
            ELSE 'COMPLETED' END,
       (g - 1) % {STORES} + 1, g, g, amount, 0, amount, 0, amount / 100, t,
       CASE WHEN hashint(i * 5) % 100 BETWEEN 4 AND 7 THEN NULL ELSE t END
FROM (SELECT i, CASE WHEN hashint(i * 11) % 10 = 0 THEN NULL ELSE 1 + hashint(i * 17) % {MEMBERS} END AS c,
             1 + hashint(i * 19) % {GUIDES} AS g, 1000 + hashint(i * 23) % 200000 AS amount,
             timestamptz '{START}' + (hashint(i * 29) % ({DAYS} * 1440)) * interval '1 minute' AS t
      FROM generate_series(:lo, :hi) i) s
"""
APPOINTMENTS_SQL = f"""
INSERT INTO appointment (customer_id, store_id, service_id, guide_id, start_at, end_at, local_day, status,
                         check_in_token, created_at)
SELECT i, (g - 1) % {STORES} + 1, 1, g, t, t + interval '1 hour', (t AT TIME ZONE 'Asia/Shanghai')::date,
       (ARRAY['BOOKED', 'CANCELLED', 'CHECKED_IN', 'COMPLETED', 'NO_SHOW'])[1 + hashint(i * 31) % 5], 'KT' || i, t
FROM (SELECT i, 1 + hashint(i * 37) % {GUIDES} AS g,
             timestamptz '{START}' + (hashint(i * 41) % ({DAYS} * 1440)) * interval '1 minute' AS t
      FROM generate_series(1, {APPOINTMENTS}) i) s
"""


async def generate(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute("SET synchronous_commit = off")
        # A stable, well-spread integer hash for the generator (abs of PostgreSQL's own).
        await conn.execute("CREATE OR REPLACE FUNCTION hashint(bigint) RETURNS bigint LANGUAGE sql IMMUTABLE "
                           "AS 'SELECT abs(hashint8($1)::bigint)'")
        for sql in GENERATE:
            t0 = time.perf_counter()
            await conn.execute(sql)
            print(f"  {sql.split()[2]:<12} {time.perf_counter() - t0:6.1f} s", flush=True)
        # As an import does: the customers' PurchaseFacts once at the end, not by a trigger per order.
        await conn.execute("SET storelink.bulk_load = 'on'")
        for lo in range(1, ORDERS + 1, ORDER_BATCH):
            t0 = time.perf_counter()
            await conn.execute(ORDERS_SQL.replace(":lo", str(lo)).replace(":hi", str(lo + ORDER_BATCH - 1)))
            print(f"  orders {lo + ORDER_BATCH - 1:>9,} {time.perf_counter() - t0:6.1f} s", flush=True)
        await conn.execute("SELECT purchase_facts_refresh(ARRAY(SELECT DISTINCT customer_id FROM sales_order WHERE customer_id IS NOT NULL))")
        await conn.execute("RESET storelink.bulk_load")
        t0 = time.perf_counter()
        await conn.execute(APPOINTMENTS_SQL)
        print(f"  appointment  {time.perf_counter() - t0:6.1f} s", flush=True)
        await conn.execute("DROP FUNCTION hashint(bigint)")
        t0 = time.perf_counter()
        await conn.execute("VACUUM ANALYZE")
        print(f"  vacuum       {time.perf_counter() - t0:6.1f} s", flush=True)
    finally:
        await conn.close()



STORE_KPIS = """query($id: ID!, $f: Date!, $t: Date!) { storeKpis(storeId: $id, from: $f, to: $t) {
  newMembers newMembersByChannel { channel count } purchasingMembers repurchasingMembers repurchaseRate
  storeToOnlineMembers onlineToStoreMembers onlineGmvFen storeGmvFen appointmentsBooked appointmentsAttended
  joinScans scanJoins } }"""
BOARD = """query($f: Date!, $t: Date!) { guideLeaderboard(from: $f, to: $t, metric: GMV, first: 20) {
  rank guide { name } report { onlineGmvFen storeGmvFen purchasingMembers repurchaseRate newMembers } } }"""


def month(rng: random.Random) -> tuple[str, str]:
    first = dt.date(2025, 1, 1) + dt.timedelta(days=31 * rng.randrange(22))
    first = first.replace(day=1)
    last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    return first.isoformat(), last.isoformat()


async def recount(url: str, store_id: int, first: str, last: str) -> tuple[int, int]:
    """Purchasing members and GMV of one store-month, the plain way."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT o.customer_id, o.total_fen, m.id AS member FROM sales_order o "
            "LEFT JOIN membership m ON m.customer_id = o.customer_id "
            "WHERE o.store_id = $1 AND o.status IN ('PAID', 'READY_FOR_PICKUP', 'COMPLETED') "
            "AND (o.paid_at AT TIME ZONE 'Asia/Shanghai')::date BETWEEN $2::date AND $3::date",
            store_id, dt.date.fromisoformat(first), dt.date.fromisoformat(last))
    finally:
        await conn.close()
    return len({r["customer_id"] for r in rows if r["member"] is not None}), sum(r["total_fen"] for r in rows)


async def main() -> None:
    from storelink.flows import staffing
    from storelink.app import create_app
    from storelink.graphql.relay import to_global_id
    from storelink.settings import Settings

    url = await common.database()
    print(f"generating {STORES} stores, {GUIDES:,} guides, {MEMBERS:,} members, {ORDERS:,} orders ...", flush=True)
    started = time.perf_counter()
    await generate(url)
    print(f"generated in {time.perf_counter() - started:.0f} s")

    settings = Settings(database_url=url, jwt_secret=secrets.token_urlsafe(48), phone_encryption_key=common.PHONE_KEY)
    app = create_app(settings)
    rng = random.Random(7)
    async with app.router.lifespan_context(app):
        async with app.state.sessionmaker() as session:
            await staffing.hire(session, actor=None, username="bench-hq", password="bench-password",
                                        name="HQ", role="HQ_ADMIN", store_id=None)
            await session.commit()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            async def gql(query, variables, token=None):
                headers = {"authorization": f"Bearer {token}"} if token else {}
                resp = await client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
                body = resp.json()
                if "errors" in body:
                    raise RuntimeError(body["errors"])
                return body["data"]

            login = await gql("mutation { staffLogin(username: \"bench-hq\", password: \"bench-password\") { accessToken } }", {})
            token = login["staffLogin"]["accessToken"]
            store_ms, board_ms, sample = [], [], None
            for i in range(45):
                store_id, (first, last) = rng.randrange(1, STORES + 1), month(rng)
                t0 = time.perf_counter()
                data = await gql(STORE_KPIS, {"id": to_global_id("Store", store_id), "f": first, "t": last}, token)
                if i >= 5:  # the first few warm the caches
                    store_ms.append((time.perf_counter() - t0) * 1000)
                sample = (store_id, first, last, data["storeKpis"])
            for i in range(12):
                first, last = month(rng)
                t0 = time.perf_counter()
                board = await gql(BOARD, {"f": first, "t": last}, token)
                if i >= 2:
                    board_ms.append((time.perf_counter() - t0) * 1000)
    store_id, first, last, report = sample
    purchasing, gmv = await recount(url, store_id, first, last)
    print(f"storeKpis, one store-month, GraphQL in-process: p50 {statistics.median(store_ms):.1f} ms, "
          f"p95 {common.percentile(store_ms, .95):.1f} ms (target < 100 ms; n={len(store_ms)})")
    print(f"  e.g. store {store_id} {first}..{last}: {report['purchasingMembers']} purchasing members, "
          f"GMV {report['onlineGmvFen'] + report['storeGmvFen']:,} fen, {report['newMembers']} new members")
    print(f"guideLeaderboard, HQ, all {GUIDES:,} guides, one month: p50 {statistics.median(board_ms):.0f} ms, "
          f"p95 {common.percentile(board_ms, .95):.0f} ms (target < 1000 ms; n={len(board_ms)})")
    print(f"  top: {board['guideLeaderboard'][0]['guide']['name']} "
          f"{board['guideLeaderboard'][0]['report']['onlineGmvFen'] + board['guideLeaderboard'][0]['report']['storeGmvFen']:,} fen")
    exact = (purchasing, gmv) == (report["purchasingMembers"], report["onlineGmvFen"] + report["storeGmvFen"])
    print(f"check: the sample store-month equals a plain recount: {'OK' if exact else 'MISMATCH'}")
    if not exact:
        sys.exit(1)


if __name__ == "__main__":
    asyncio.run(main())
