"""Benchmark: a guide's client book (issue: one member ID, import, client book). Prints its figures.

    python bench/client_book.py      # DATABASE_URL, or an embedded PostgreSQL in a temp dir

One store with 10 guides; the benchmarked guide serves 2,000 members and the other guides 48,000
more; 200,000 paid orders over a year spread over all members, generated in SQL. Then, through the
real app in-process (GraphQL over ASGI, the guide's own token): a page of 20 of the book, the same
with a segment filter, and a last-four-digits search, 50 of each. Target: p95 < 50 ms for each.
The rows are generated in SQL here (phones only in their masked form, which is all the book
reads); bench/import.py loads a brand of a million members with the import command and then
takes the same measurement.
"""
from __future__ import annotations

import asyncio
import random
import secrets
import statistics
import time

import asyncpg
import httpx

import common  # noqa: E402  (puts src/ on the path)

GUIDES, BOOK, OTHERS, ORDERS = 10, 2_000, 48_000, 200_000

GENERATE = [
    """INSERT INTO store (code, name, city, address, lat, lng, timezone, opening_hours, created_at, updated_at)
       VALUES ('B1', '书店', '上海', '路', 31.2, 121.4, 'Asia/Shanghai', '[]', now(), now())""",
    f"""INSERT INTO staff (username, password_hash, name, role, store_id, active, created_at)
        SELECT 'bg' || g, 'x', '导购' || g, 'GUIDE', 1, true, now() FROM generate_series(1, {GUIDES}) g""",
    f"""INSERT INTO customer (openid, nickname, phone_masked, created_at)
        SELECT 'bo' || i, '顾客' || i, '13' || (hashint(i) % 10) || '****' || lpad((hashint(i) % 10000)::text, 4, '0'),
               now()
        FROM generate_series(1, {BOOK + OTHERS}) i""",
    # the first BOOK customers are bound to guide 1, the rest spread over the other guides
    f"""INSERT INTO membership (customer_id, member_no, join_channel, join_store_id, recruited_by_id, guide_id,
                                bound_at, joined_at)
        SELECT i, '8' || lpad(i::text, 9, '0'), 'GUIDE_QR', 1, g, g, t, t
        FROM (SELECT i, CASE WHEN i <= {BOOK} THEN 1 ELSE 2 + i % {GUIDES - 1} END AS g,
                     now() - (hashint(i * 13) % 500) * interval '1 day' AS t
              FROM generate_series(1, {BOOK + OTHERS}) i) s""",
    # As an import does: the customers' PurchaseFacts once at the end, not by a trigger per order.
    "SET storelink.bulk_load = 'on'",
    f"""INSERT INTO sales_order (order_no, customer_id, member_channel, channel, status, store_id, guide_id,
                                 subtotal_fen, discount_fen, total_fen, points_redeemed, points_earned, created_at,
                                 paid_at)
        SELECT 'BO' || n, c, 'GUIDE_QR', CASE WHEN hashint(n * 3) % 2 = 0 THEN 'ONLINE' ELSE 'STORE' END,
               'COMPLETED', 1, 1, f, 0, f, 0, f / 100, t, t
        FROM (SELECT n, 1 + hashint(n) % {BOOK + OTHERS} AS c, 1000 + hashint(n * 5) % 100000 AS f,
                     now() - (hashint(n * 11) % 365) * interval '1 day' AS t
              FROM generate_series(1, {ORDERS}) n) s""",
    "SELECT purchase_facts_refresh(ARRAY(SELECT DISTINCT customer_id FROM sales_order WHERE customer_id IS NOT NULL))",
    "RESET storelink.bulk_load",
    "VACUUM ANALYZE",
]

BOOK_QUERY = """
query($s: MemberSegment, $q: String) { clientBook(first: 20, segment: $s, query: $q) {
  totalCount edges { node { memberNo nickname phoneMasked segment ordersCount lifetimeSpendFen lastPurchaseAt } } } }
"""


async def generate(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("CREATE OR REPLACE FUNCTION hashint(i bigint) RETURNS bigint LANGUAGE sql IMMUTABLE "
                           "AS $$ SELECT abs(hashtextextended(i::text, 42)) $$")
        for statement in GENERATE:
            await conn.execute(statement)
        for table in ("store", "staff", "customer", "membership", "sales_order"):
            await conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}")
        last_four = await conn.fetchval("SELECT right(phone_masked, 4) FROM customer WHERE id = 17")
    finally:
        await conn.close()
    return last_four


async def measure(url: str, username: str, password: str, last_four: str, *, phone_key: str | None = None) -> None:
    """50 rounds of the three book queries as that guide, through the real app in-process."""
    from storelink.app import create_app
    from storelink.settings import Settings

    app = create_app(Settings(database_url=url, jwt_secret=secrets.token_urlsafe(48),
                              phone_encryption_key=phone_key or secrets.token_urlsafe(48)))
    rng = random.Random(3)
    timings: dict[str, list[float]] = {"page of 20": [], "page of 20, segment STORE_EXPERIENCE": [],
                                       f"last four digits {last_four}": []}
    totals = {}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            async def gql(query, variables, token=None):
                headers = {"authorization": f"Bearer {token}"} if token else {}
                body = (await client.post("/graphql", json={"query": query, "variables": variables},
                                          headers=headers)).json()
                if "errors" in body:
                    raise RuntimeError(body["errors"])
                return body["data"]

            login = await gql("mutation($u: String!, $p: String!) { staffLogin(username: $u, password: $p) "
                              "{ accessToken } }", {"u": username, "p": password})
            token = login["staffLogin"]["accessToken"]
            variables = {"page of 20": {}, "page of 20, segment STORE_EXPERIENCE": {"s": "STORE_EXPERIENCE"},
                         f"last four digits {last_four}": {"q": last_four}}
            for i in range(55):
                for name in rng.sample(list(timings), len(timings)):
                    t0 = time.perf_counter()
                    data = await gql(BOOK_QUERY, variables[name], token)
                    if i >= 5:  # the first rounds warm the caches
                        timings[name].append((time.perf_counter() - t0) * 1000)
                    totals[name] = data["clientBook"]["totalCount"]
    for name, values in timings.items():
        print(f"clientBook, {name}: p50 {statistics.median(values):.1f} ms, p95 {common.percentile(values, .95):.1f} ms "
              f"(target < 50 ms; n={len(values)}; {totals[name]:,} members match)")


async def main() -> None:
    from storelink.accounts.passwords import hash_password

    url = await common.database()
    print(f"generating {BOOK + OTHERS:,} members ({BOOK:,} in the benchmarked book) and {ORDERS:,} orders ...",
          flush=True)
    started = time.perf_counter()
    last_four = await generate(url)
    conn = await asyncpg.connect(url)
    await conn.execute("UPDATE staff SET password_hash = $1 WHERE username = 'bg1'", await hash_password("bench-pw-2026"))
    await conn.close()
    print(f"generated in {time.perf_counter() - started:.0f} s")
    await measure(url, "bg1", "bench-pw-2026", last_four)


if __name__ == "__main__":
    asyncio.run(main())
