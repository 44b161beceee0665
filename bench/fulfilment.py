"""Benchmark: routing paid delivery orders across 1,000 shipping stores and the warehouse, then
200 concurrent returns at the tills (issue: fulfilment and returns). Prints its figures; asserts
only the outcome.

    python bench/fulfilment.py      # DATABASE_URL, or an embedded PostgreSQL in a temp dir

1,000 stores that ship, 20,000 SKUs, each SKU held by 30 stores (1-4 units) and half of them by
the warehouse (3 units). 2,000 delivery orders of 1-5 lines (SKUs drawn with a skew, so orders
compete for the same last units) are routed by the service itself, each in its own transaction
as checkout does: the first 500 one at a time (the routing's latency: reads, plan, stock taken,
shipments written), the rest 8 at a time (contention). Afterwards every place's stock must equal its start less what its live
shipments hold. Then the orders are delivered, and 200 distinct lines come back at the tills at
once through the API (one uvicorn worker, sandbox refunds): each must be refunded exactly once.
"""
from __future__ import annotations

import asyncio
import os
import random
import secrets
import statistics
import sys
import time

import httpx

import common  # noqa: E402  (puts src/ on the path)

STORES = 1_000
PRODUCTS = 4_000
SKUS_PER_PRODUCT = 5
STORES_PER_SKU = 30
ORDERS = 2_000
CONCURRENCY = 8
SEQUENTIAL = 500
RETURNS = 200
SANDBOX_SECRET = "bench-sandbox-secret"
HOT_SKUS = 3_000  # orders draw 80% of their lines from these

STAFF_LOGIN = "mutation($u: String!, $p: String!) { staffLogin(username: $u, password: $p) { accessToken } }"
RECEIVE = """mutation($o: ID!, $s: ID!, $l: [ReturnLineInput!]!) {
  receiveReturn(orderId: $o, storeId: $s, lines: $l, reason: "bench") {
    returnRequest { status refundFen } userErrors { code message } } }"""


async def setup(url: str) -> dict:
    """Stores, catalog and stock in a few set-based statements."""
    import asyncpg

    from storelink import db
    from storelink.flows import staffing

    engine = db.create_engine(url)
    async with db.create_sessionmaker(engine)() as session:
        await staffing.hire(session, actor=None, username="bench-hq", password="bench-password", name="HQ",
                            role="HQ_ADMIN", store_id=None)
        await session.commit()
    await engine.dispose()
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute("""
            INSERT INTO store (code, name, city, address, lat, lng, timezone, opening_hours, ships_online_orders,
                               same_city_radius_m, created_at, updated_at)
            SELECT 'F' || g, '门店' || g, '城市' || (g % 50), '路', 22 + random() * 18, 105 + random() * 17,
                   'Asia/Shanghai', '[]'::jsonb, true, 0, now(), now()
            FROM generate_series(1, $1) g""", STORES)
        await conn.execute("""
            INSERT INTO product (code, name, category, tags, search_text, search_grams, active, created_at, updated_at)
            SELECT 'P' || g, '商品' || g, '类' || (g % 20), '{}', '', '{}', true, now(), now()
            FROM generate_series(1, $1) g""", PRODUCTS)
        await conn.execute("""
            INSERT INTO sku (product_id, code, title, price_fen, online_stock, active, created_at)
            SELECT p.id, p.code || '-' || k, '款' || k, 1000 + (p.id * 37 + k * 101) % 50000,
                   CASE WHEN (p.id + k) % 2 = 0 THEN 3 ELSE 0 END, true, now()
            FROM product p CROSS JOIN generate_series(1, $1) k""", SKUS_PER_PRODUCT)
        first_store = await conn.fetchval("SELECT min(id) FROM store")
        # SKU s is at 30 distinct stores: one in each of 30 disjoint runs of 33 store positions.
        await conn.execute("""
            INSERT INTO store_stock (sku_id, store_id, quantity, updated_at)
            SELECT s.id, $1 + ((s.id * 37 + g * 33 + floor(random() * 33)::int) % $2), 1 + floor(random() * 4)::int,
                   now()
            FROM sku s CROSS JOIN generate_series(0, $3 - 1) g""", first_store, STORES, STORES_PER_SKU)
        await conn.execute("ANALYZE")
        skus = [r["id"] for r in await conn.fetch("SELECT id FROM sku ORDER BY id")]
        stock = {(r["store_id"], r["sku_id"]): r["quantity"]
                 for r in await conn.fetch("SELECT store_id, sku_id, quantity FROM store_stock")}
        stock.update({(None, r["id"]): r["online_stock"] for r in await conn.fetch("SELECT id, online_stock FROM sku")})
        stores = [r["id"] for r in await conn.fetch("SELECT id FROM store ORDER BY id")]
    finally:
        await conn.close()
    return {"skus": skus, "stock": stock, "stores": stores}


async def place_orders(url: str, world: dict) -> tuple[list[float], dict]:
    """Write ORDERS pending delivery orders, then route each as checkout does; timings in ms."""
    from sqlalchemy import select

    from storelink import db
    from storelink.clock import utcnow
    from storelink.errors import DomainError
    from storelink.fulfilment import shipments
    from storelink.orders.models import Order, OrderLine

    rng = random.Random(7)
    hot = world["skus"][:HOT_SKUS]
    engine = db.create_engine(url, pool_size=CONCURRENCY + 2)
    sessionmaker = db.create_sessionmaker(engine)
    orders: list[int] = []
    async with sessionmaker() as session:
        now = utcnow()
        for i in range(ORDERS):
            wanted = set()
            while len(wanted) < rng.randint(1, 5):
                wanted.add(rng.choice(hot) if rng.random() < 0.8 else rng.choice(world["skus"]))
            order = Order(order_no=f"B{i:012d}", channel="ONLINE", fulfilment="DELIVERY", status="PENDING_PAYMENT",
                          address="某路1号", address_lat=22 + rng.random() * 18, address_lng=105 + rng.random() * 17,
                          subtotal_fen=0, total_fen=0, created_at=now)
            session.add(order)
            await session.flush()
            lines = [OrderLine(order_id=order.id, sku_id=s, quantity=rng.choice((1, 1, 1, 2)), unit_price_fen=1000,
                               line_total_fen=0) for s in sorted(wanted)]
            for line in lines:
                line.line_total_fen = line.quantity * 1000
            order.subtotal_fen = order.total_fen = sum(ln.line_total_fen for ln in lines)
            session.add_all(lines)
            await session.flush()
            orders.append(order.id)
        await session.commit()
    timings: list[float] = []
    outcome = {"routed": 0, "out_of_stock": 0, "split": 0, "parcels": 0}
    queue: asyncio.Queue = asyncio.Queue()
    for item in orders:
        queue.put_nowait(item)

    async def worker(timings: list[float], limit: int | None = None) -> None:
        while not queue.empty() and (limit is None or len(timings) < limit):
            order_id = queue.get_nowait()
            async with sessionmaker() as session:
                order = await session.get(Order, order_id)
                lines = (await session.execute(select(OrderLine).where(OrderLine.order_id == order_id))).scalars().all()
                t0 = time.perf_counter()
                try:
                    made = await shipments.place_order(session, order, lines)
                    await session.commit()
                except DomainError:
                    await session.rollback()
                    outcome["out_of_stock"] += 1
                    continue
                finally:
                    timings.append((time.perf_counter() - t0) * 1000)
            outcome["routed"] += 1
            outcome["parcels"] += len(made)
            outcome["split"] += len(made) > 1

    # The first SEQUENTIAL orders one at a time: the routing's own latency. The rest CONCURRENCY at
    # a time in this one process: contention for the same last units (their wall times include
    # waiting for the other tasks' turns on the event loop).
    cpu0 = time.process_time()
    await worker(timings, SEQUENTIAL)
    outcome["cpu_ms"] = (time.process_time() - cpu0) * 1000 / SEQUENTIAL
    concurrent: list[float] = []
    await asyncio.gather(*(worker(concurrent) for _ in range(CONCURRENCY)))
    outcome["concurrent"] = concurrent
    await engine.dispose()
    return timings, outcome


async def verify_stock(url: str, world: dict) -> bool:
    """Every place: start = now + what its live shipments hold; never below zero."""
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        held = {(r["from_store_id"], r["sku_id"]): r["units"] for r in await conn.fetch("""
            SELECT sh.from_store_id, l.sku_id, sum(l.quantity) AS units FROM shipment sh
            JOIN shipment_line l ON l.shipment_id = sh.id WHERE sh.status <> 'CANCELLED'
            GROUP BY sh.from_store_id, l.sku_id""")}
        now = {(r["store_id"], r["sku_id"]): r["quantity"]
               for r in await conn.fetch("SELECT store_id, sku_id, quantity FROM store_stock")}
        now.update({(None, r["id"]): r["online_stock"] for r in await conn.fetch("SELECT id, online_stock FROM sku")})
    finally:
        await conn.close()
    bad = [k for k, start in world["stock"].items() if now.get(k, 0) < 0 or start != now.get(k, 0) + held.get(k, 0)]
    if bad:
        print(f"stock does not add up at {len(bad)} places/SKUs, e.g. {bad[:3]}")
    return not bad


async def deliver_all(url: str) -> list[tuple[int, int, int]]:
    """Mark the routed orders paid and delivered; RETURNS distinct lines from distinct orders."""
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute("""UPDATE sales_order SET status = 'COMPLETED', paid_at = now(), completed_at = now(),
                              payment_provider = 'sandbox' WHERE id IN (SELECT order_id FROM shipment)""")
        await conn.execute("UPDATE shipment SET status = 'DELIVERED', delivered_at = now() WHERE status <> 'CANCELLED'")
        rows = await conn.fetch("""
            SELECT DISTINCT ON (l.order_id) l.order_id, l.id, l.quantity FROM order_line l
            JOIN sales_order o ON o.id = l.order_id WHERE o.status = 'COMPLETED'
            ORDER BY l.order_id, l.id LIMIT $1""", RETURNS)
    finally:
        await conn.close()
    return [(r["order_id"], r["id"], r["quantity"]) for r in rows]


async def returns_at_the_tills(url: str, world: dict, lines: list[tuple[int, int, int]]) -> tuple[list[float], bool]:
    from storelink.graphql.relay import to_global_id

    secret = secrets.token_urlsafe(48)
    port = 18830
    api = common.start_uvicorn("storelink.app:create_app", {**os.environ, "DATABASE_URL": url, "JWT_SECRET": secret,
                                                             "PAYMENT_SANDBOX_SECRET": SANDBOX_SECRET}, port)
    timings: list[float] = []
    try:
        limits = httpx.Limits(max_connections=RETURNS + 10, max_keepalive_connections=RETURNS + 10)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=120) as client:
            login = await client.post("/graphql", json={"query": STAFF_LOGIN, "variables": {
                "u": "bench-hq", "p": "bench-password"}})
            token = login.json()["data"]["staffLogin"]["accessToken"]
            rng = random.Random(3)

            async def one(order_id: int, line_id: int, quantity: int) -> dict:
                variables = {"o": to_global_id("Order", order_id), "s": to_global_id("Store", rng.choice(world["stores"])),
                             "l": [{"orderLineId": to_global_id("OrderLine", line_id), "quantity": quantity}]}
                t0 = time.perf_counter()
                resp = await client.post("/graphql", json={"query": RECEIVE, "variables": variables},
                                         headers={"authorization": f"Bearer {token}"})
                timings.append((time.perf_counter() - t0) * 1000)
                return resp.json()

            results = await asyncio.gather(*(one(*line) for line in lines))
    finally:
        common.stop(api)
    refused = [r for r in results if "errors" in r or r["data"]["receiveReturn"]["userErrors"]]
    if refused:
        print(f"{len(refused)} returns refused, e.g. {refused[0]}")
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        refunds = await conn.fetch("SELECT order_id, count(*) AS n, bool_and(status = 'SUCCEEDED') AS ok "
                                   "FROM refund GROUP BY order_id")
        returned = await conn.fetchval("SELECT count(*) FROM order_line WHERE returned_quantity > 0")
    finally:
        await conn.close()
    once = len(refunds) == len(lines) and all(r["n"] == 1 and r["ok"] for r in refunds) and returned == len(lines)
    return timings, not refused and once


async def main() -> None:
    url = await common.database()
    t0 = time.perf_counter()
    world = await setup(url)
    print(f"setup: {STORES} shipping stores, {len(world['skus'])} SKUs, {len(world['stock'])} stocked places "
          f"({time.perf_counter() - t0:.0f} s)")
    timings, outcome = await place_orders(url, world)
    stock_ok = await verify_stock(url, world)
    routed = max(outcome["routed"], 1)
    concurrent = outcome["concurrent"]
    print(f"routing {SEQUENTIAL} delivery orders one at a time: p50 {statistics.median(timings):.1f} ms, "
          f"p95 {common.percentile(timings, 0.95):.1f} ms, max {max(timings):.1f} ms; "
          f"routing CPU {outcome['cpu_ms']:.1f} ms per order (this process)")
    print(f"routing the other {len(concurrent)}, {CONCURRENCY} at a time: p50 {statistics.median(concurrent):.1f} ms, "
          f"p95 {common.percentile(concurrent, 0.95):.1f} ms")
    print(f"routed {outcome['routed']}, out of stock {outcome['out_of_stock']}; split rate "
          f"{outcome['split'] / routed:.1%} ({outcome['parcels'] / routed:.2f} parcels per order); "
          f"stock adds up, nothing oversold: {stock_ok}")
    lines = await deliver_all(url)
    return_timings, returns_ok = await returns_at_the_tills(url, world, lines)
    print(f"{len(lines)} concurrent receiveReturn on distinct lines: p50 {statistics.median(return_timings):.0f} ms, "
          f"p95 {common.percentile(return_timings, 0.95):.0f} ms; each refunded exactly once: {returns_ok}")
    p95 = common.percentile(timings, 0.95)
    ok = stock_ok and returns_ok and p95 < 20
    print("OK" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    asyncio.run(main())
