"""Benchmark: the recommender at scale (issue: the AI guide). Prints its figures.

    python bench/recommend.py      # DATABASE_URL, or an embedded PostgreSQL in a temp dir

50,000 SKUs (one per product, in outfits), 200,000 members with tastes and about 2,000,000 order
lines of structured history over a year (recommend.synthetic). Reports training time and peak
memory (the CLI in its own process), `memberRecommendations(first: 10)` p50/p95 in-process through GraphQL (target p95 <
30 ms), and the offline evaluation of the served path against the baselines (their targets are
bench/recommend_shops.py's).
"""
from __future__ import annotations

import asyncio
import os
import random
import resource
import secrets
import statistics
import subprocess
import sys
import time

import httpx

import common  # noqa: E402  (puts src/ on the path)

PRODUCTS, MEMBERS, ORDERS, STORES = 50_000, 200_000, 800_000, 20



async def main() -> None:
    from sqlalchemy import func, select

    from storelink import db
    from storelink.flows import staffing
    from storelink.app import create_app
    from storelink.graphql.relay import to_global_id
    from storelink.members.models import Membership
    from storelink.orders.models import OrderLine
    from storelink.recommend import evaluate, synthetic
    from storelink.settings import Settings
    from storelink.stores import service as stores

    url = await common.database()
    engine = db.create_engine(url)
    sessionmaker = db.create_sessionmaker(engine)
    rng = random.Random(2026)
    t0 = time.perf_counter()
    async with sessionmaker() as session:
        hq = await staffing.hire(session, actor=None, username="bench-hq", password="bench-password",
                                         name="HQ", role="HQ_ADMIN", store_id=None)
        store_ids = []
        for i in range(STORES):
            store = await stores.upsert_store(
                session, actor=hq, code=f"R{i}", name=f"店{i}", city="上海", address="路", phone=None,
                lat=31.2 + i / 100, lng=121.4, coord_system="GCJ02", timezone="Asia/Shanghai", opening_hours=[])
            store_ids.append(store.id)
        await staffing.hire(session, actor=hq, username="bench-guide", password="bench-password",
                                            name="导购", role="GUIDE", store_id=store_ids[0])
        catalog = await synthetic.make_catalog(session, products=PRODUCTS, rng=rng, stores=store_ids[:1])
        lines = await synthetic.make_history(session, catalog=catalog, stores=store_ids, members=MEMBERS,
                                             orders=ORDERS, rng=rng)
        await session.commit()
    print(f"generated {PRODUCTS:,} SKUs, {MEMBERS:,} members, {ORDERS:,} orders, {lines:,} order lines "
          f"in {time.perf_counter() - t0:.0f} s", flush=True)

    # Train as production does, with the CLI in its own process: its time and peak memory.
    jwt_secret = secrets.token_urlsafe(48)
    env = {"PHONE_ENCRYPTION_KEY": common.PHONE_KEY, **os.environ, "DATABASE_URL": url,
           "JWT_SECRET": jwt_secret,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(common.SRC), os.environ.get("PYTHONPATH")]))}
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "storelink.cli", "train-recommender"], env=env,
                          capture_output=True, text=True)
    train_s = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"training (storelink train-recommender): {train_s:.0f} s, peak memory {peak:.0f} MiB; "
          f"{done.stdout.strip()}", flush=True)

    async with sessionmaker() as session:
        member_ids = (await session.execute(
            select(Membership.id).where(Membership.join_store_id == store_ids[0]).order_by(func.random()).limit(60)
        )).scalars().all()
        line_count = (await session.execute(select(func.count()).select_from(OrderLine))).scalar_one()
    await engine.dispose()

    settings = Settings(database_url=url, jwt_secret=jwt_secret, phone_encryption_key=env["PHONE_ENCRYPTION_KEY"])
    app = create_app(settings)
    query = """query($m: ID!, $s: ID!) { memberRecommendations(memberId: $m, storeId: $s, first: 10) {
      id score reasons product { name category } sku { code } } }"""
    timings, empty = [], 0
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
            login = await client.post("/graphql", json={"query": 'mutation { staffLogin(username: "bench-guide", '
                                                                  'password: "bench-password") { accessToken } }'})
            token = login.json()["data"]["staffLogin"]["accessToken"]
            for i, member in enumerate(member_ids):
                t0 = time.perf_counter()
                resp = await client.post("/graphql", headers={"authorization": f"Bearer {token}"}, json={
                    "query": query, "variables": {"m": to_global_id("MemberProfile", member),
                                                  "s": to_global_id("Store", store_ids[0])}})
                body = resp.json()
                if "errors" in body:
                    raise RuntimeError(body["errors"])
                if i >= 10:
                    timings.append((time.perf_counter() - t0) * 1000)
                empty += not body["data"]["memberRecommendations"]
    print(f"memberRecommendations(first: 10), GraphQL in-process, STORE_VISIT: p50 {statistics.median(timings):.1f} ms, "
          f"p95 {common.percentile(timings, .95):.1f} ms (target p95 < 30 ms; n={len(timings)}, {empty} empty)")

    engine = db.create_engine(url)
    async with db.create_sessionmaker(engine)() as session:
        t0 = time.perf_counter()
        report = await evaluate.evaluate(session, test_share=0.2)
    await engine.dispose()
    print(f"evaluation ({time.perf_counter() - t0:.0f} s, {line_count:,} order lines):")
    print(evaluate.describe(report))


if __name__ == "__main__":
    asyncio.run(main())
