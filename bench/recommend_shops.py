"""Benchmark: the AI guide against strong simple baselines on two kinds of shop (issue: the AI
guide on real shopping data). Prints the evaluation table of each.

    python bench/recommend_shops.py [--scale S] [--seed N]  # DATABASE_URL's server, or an embedded one

A grocery-like shop (consumables bought again on cycles, companions, a long tail) and a
durable-goods-like one (fashion outfits, seasons, skincare bought again, basics bought again),
each with bulk buyers and products launched during the year (recommend.synthetic), in a database
of its own. Target: the served AI guide at least 1.05x the best baseline in hit rate@10 and
NDCG@10 on both.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import sys
import time
import uuid

import asyncpg

import common  # noqa: F401  (puts src/ on the path)

# A fixed year of history: the generator's seasons follow the calendar, so the same seed gives
# the same orders on any day the benchmark runs.
NOW = dt.datetime(2026, 11, 30, tzinfo=dt.timezone.utc)
SHOPS = {  # shop: (products, members, orders)
    "grocery": (250, 6000, 24000),
    "fashion": (3000, 5000, 24000),
}


async def one_shop(server_url: str, shop: str, scale: float, seed: int) -> bool:
    from storelink import db, migrate
    from storelink.recommend import evaluate, synthetic

    products, members, orders = SHOPS[shop]
    base, _, query = server_url.partition("?")
    name = f"storelink_shop_{shop}_{uuid.uuid4().hex[:6]}"
    url = base.rsplit("/", 1)[0] + "/" + name + (f"?{query}" if query else "")
    admin = await asyncpg.connect(server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        await asyncio.to_thread(migrate.upgrade, url)
        engine = db.create_engine(url)
        sessionmaker = db.create_sessionmaker(engine)
        rng = random.Random(seed)
        t0 = time.perf_counter()
        async with sessionmaker() as session:
            catalog = await synthetic.make_catalog(session, products=products, rng=rng, shop=shop)
            lines = await synthetic.make_history(session, catalog=catalog, stores=[], members=int(members * scale),
                                                 orders=int(orders * scale), rng=rng, now=NOW)
            await session.commit()
        generated = time.perf_counter() - t0
        t0 = time.perf_counter()
        async with sessionmaker() as session:
            report = await evaluate.evaluate(session, test_share=0.2)
        await engine.dispose()
        print(f"\n{shop}: {products:,} products, {int(members * scale):,} members, {int(orders * scale):,} orders, "
              f"{lines:,} lines (generated in {generated:.0f} s; evaluated in {time.perf_counter() - t0:.0f} s)")
        print(evaluate.describe(report))
        met = report.hit_rate_ratio >= 1.05 and report.ndcg_ratio >= 1.05
        print(f"check: at least 1.05x the best baseline in both: {'OK' if met else 'NOT MET'}", flush=True)
        return met
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0, help="members and orders times this")
    parser.add_argument("--shop", choices=sorted(SHOPS), action="append")
    parser.add_argument("--seed", type=int, default=2026, help="the generator's seed")
    args = parser.parse_args()
    url = await common.database()
    results = [await one_shop(url, shop, args.scale, args.seed) for shop in (args.shop or SHOPS)]
    if not all(results):
        sys.exit(1)


if __name__ == "__main__":
    asyncio.run(main())
