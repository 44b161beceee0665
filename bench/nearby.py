"""Benchmark of nearbyStores (issues: Foundation; CPU per action). Prints its figures; asserts nothing.

    python bench/nearby.py            # uses DATABASE_URL, or an embedded PostgreSQL in a temp dir

1. Loads 1,000, then 100,000, then 1,000,000 stores clustered around 40 Chinese cities (plus 20%
   scattered).
2. For each size: median and p95 latency of nearbyStores(first: 20, radiusMeters: 5000) through the
   full GraphQL stack (ASGI app in-process), and of the service call alone.
3. At 100k: requests per second over HTTP against one uvicorn worker, for /graphql and for a bare
   Starlette route that calls the same service and returns JSON.
4. At 1M: the nearby statement alone (prepared, through asyncpg) against PostGIS KNN queries on
   the same stores, when the server has PostGIS (`CREATE EXTENSION postgis` succeeds; the
   embedded server has none): geography (`<->` and ST_DWithin, metres: the same answer) and
   geometry (`<->` in degrees, no radius: the bare index walk).
5. The EXPLAIN plan of the nearby query at 1M stores.
"""
from __future__ import annotations

import asyncio
import datetime
import json
import math
import os
import random
import secrets
import statistics
import time
from pathlib import Path

import asyncpg
import httpx

import common  # noqa: E402  (puts src/ on the path)

CITIES = [  # (lat, lng) GCJ-02 centres
    (31.23, 121.47), (39.91, 116.40), (23.13, 113.26), (22.54, 114.06), (30.27, 120.16),
    (30.57, 104.07), (30.59, 114.31), (34.34, 108.94), (32.06, 118.80), (29.56, 106.55),
    (39.13, 117.20), (36.07, 120.38), (38.04, 114.51), (41.80, 123.43), (45.80, 126.53),
    (43.82, 125.32), (36.65, 117.12), (34.75, 113.62), (28.23, 112.94), (26.07, 119.30),
    (24.48, 118.09), (25.04, 102.71), (26.65, 106.63), (22.82, 108.37), (20.04, 110.34),
    (28.68, 115.86), (31.82, 117.23), (37.87, 112.55), (40.84, 111.75), (36.06, 103.83),
    (38.49, 106.23), (43.83, 87.62), (29.65, 91.13), (36.62, 101.78), (31.30, 120.58),
    (31.49, 120.31), (29.87, 121.54), (22.27, 113.58), (23.02, 113.75), (37.46, 121.45),
]
QUERY = """query($lat: Float!, $lng: Float!) { nearbyStores(lat: $lat, lng: $lng, first: 20, radiusMeters: 5000) {
  distanceMeters store { id name city location { lat lng } } } }"""


def store_rows(n: int, start: int, rng: random.Random):
    for i in range(start, start + n):
        if rng.random() < 0.8:
            lat0, lng0 = rng.choice(CITIES)
            lat, lng = rng.gauss(lat0, 0.12), rng.gauss(lng0, 0.12)
        else:
            lat, lng = rng.uniform(21.0, 45.0), rng.uniform(100.0, 122.0)
        hours = json.dumps([{"weekday": d, "opens": "10:00", "closes": "22:00"} for d in range(1, 8)])
        yield (f"B{i:06d}", f"Store {i}", "City", "Street 1", lat, lng, "Asia/Shanghai", hours)


async def load_stores(url: str, n: int, start: int) -> None:
    conn = await asyncpg.connect(url)
    try:
        rng = random.Random(start)
        now = datetime.datetime.now(datetime.timezone.utc)
        await conn.copy_records_to_table(
            "store",
            records=[(*r, now, now) for r in store_rows(n, start, rng)],
            columns=["code", "name", "city", "address", "lat", "lng", "timezone", "opening_hours",
                     "created_at", "updated_at"],
        )
        # What autovacuum does soon after a bulk load; the visibility map it sets lets the
        # nearby query rank stores from the index alone.
        await conn.execute("VACUUM ANALYZE store")
    finally:
        await conn.close()


def query_points(count: int) -> list[tuple[float, float]]:
    rng = random.Random(7)
    return [(rng.gauss(lat, 0.05), rng.gauss(lng, 0.05)) for lat, lng in rng.choices(CITIES, k=count)]


async def latency(app, points) -> tuple[float, float, float]:
    transport = httpx.ASGITransport(app=app)
    timings = []
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for i, (lat, lng) in enumerate(points):
            t = time.perf_counter()
            resp = await client.post("/graphql", json={"query": QUERY, "variables": {"lat": lat, "lng": lng}})
            elapsed = time.perf_counter() - t
            assert resp.status_code == 200 and "errors" not in resp.json(), resp.text
            if i >= 20:  # warm-up excluded
                timings.append(elapsed * 1000)
    timings.sort()
    found = len(resp.json()["data"]["nearbyStores"])
    return statistics.median(timings), timings[int(len(timings) * 0.95)], found


async def service_latency(app, points) -> tuple[float, float]:
    """The search alone (service call, no GraphQL): what grows with the number of stores."""
    from storelink.stores import service

    timings = []
    for i, (lat, lng) in enumerate(points):
        t = time.perf_counter()
        async with app.state.reader() as session:
            await service.nearby_stores(session, lat=lat, lng=lng, radius_m=5000, first=20)
        if i >= 20:
            timings.append((time.perf_counter() - t) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95)]


async def http_rps(port: int, path: str, make_body, seconds: float = 8.0, concurrency: int = 16) -> float:
    """Keep-alive HTTP/1.1 load from raw sockets (lighter than any client library)."""
    done = 0
    deadline = time.perf_counter() + seconds
    points = query_points(1000)

    async def worker(k: int):
        nonlocal done
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        i = k
        while time.perf_counter() < deadline:
            method, target, body = make_body(points[i % len(points)])
            i += concurrency
            head = (f"{method} {target} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n").encode()
            writer.write(head + body)
            await writer.drain()
            status = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            assert b" 200 " in status, status
            done += 1
        writer.close()

    start = time.perf_counter()
    await asyncio.gather(*[worker(k) for k in range(concurrency)])
    return done / (time.perf_counter() - start)


def bench_app():
    """The real app plus a bare route calling the same service (what GraphQL is compared to)."""
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from storelink.app import create_app
    from storelink.stores import service

    app = create_app()

    async def bare(request):
        lat, lng = float(request.query_params["lat"]), float(request.query_params["lng"])
        async with request.app.state.reader() as session:  # as the GraphQL resolver does
            rows = await service.nearby_stores(session, lat=lat, lng=lng, radius_m=5000, first=20)
        return JSONResponse([
            {"distanceMeters": d, "store": {"id": s.id, "name": s.name, "city": s.city,
                                            "location": {"lat": s.lat, "lng": s.lng}}}
            for s, d in rows
        ])

    app.router.routes.insert(0, Route("/bare/nearby", bare, methods=["GET"]))
    return app


async def _captured(lat: float, lng: float):
    """The statement and parameters nearby_stores sends first for this point."""
    from storelink.stores import service

    captured = {}

    class Capture:
        async def execute(self, stmt, params):
            captured.update(stmt=stmt, params=params)
            raise StopAsyncIteration

    try:
        await service.nearby_stores(Capture(), lat=lat, lng=lng, radius_m=5000, first=20)
    except StopAsyncIteration:
        pass
    return captured["stmt"], captured["params"]


POSTGIS_SETUP = [
    "CREATE EXTENSION IF NOT EXISTS postgis",
    "DROP TABLE IF EXISTS bench_postgis_store",
    "CREATE TABLE bench_postgis_store AS SELECT id, ST_SetSRID(ST_MakePoint(lng, lat), 4326)::geography AS geog, "
    "ST_SetSRID(ST_MakePoint(lng, lat), 4326) AS geom FROM store",
    "CREATE INDEX ON bench_postgis_store USING gist (geog)",
    "CREATE INDEX ON bench_postgis_store USING gist (geom)",
    "VACUUM ANALYZE bench_postgis_store",
]
POSTGIS_QUERIES = {
    "PostGIS geography (<-> and ST_DWithin 5 km, whole store rows)":
        "SELECT s.*, ST_Distance(p.geog, x.q) AS d FROM bench_postgis_store p JOIN store s ON s.id = p.id, "
        "(SELECT ST_SetSRID(ST_MakePoint($2::float8, $1::float8), 4326)::geography AS q) x "
        "WHERE ST_DWithin(p.geog, x.q, 5000) ORDER BY p.geog <-> x.q LIMIT 20",
    "PostGIS geometry (<-> in degrees, no radius, ids only)":
        "SELECT p.id FROM bench_postgis_store p, (SELECT ST_SetSRID(ST_MakePoint($2::float8, $1::float8), 4326) AS q) x "
        "ORDER BY p.geom <-> x.q LIMIT 20",
}


def _timed(timings: list[float]) -> str:
    timings = sorted(timings)
    return f"p50 {statistics.median(timings):.3f} ms, p95 {timings[int(len(timings) * 0.95)]:.3f} ms"


def _second_round(rows, names, args) -> bool:
    """Whether nearby_stores would ask for more candidates after this first statement."""
    from storelink.stores import geo

    if not rows or "taken" not in rows[0].keys():  # (the statement before the nearest-first walk)
        return False
    names = list(names)
    widest = abs(args[names.index("lat")]) + math.degrees(5000 / geo.EARTH_RADIUS_M)
    return (rows[0]["taken"] == args[names.index("cap")]
            and rows[-1]["distance"] >= geo.nearest_beyond_m(widest, rows[0]["last_planar"]))


async def statement_vs_postgis(url: str, points) -> None:
    """The nearby statement alone, prepared, against PostGIS on the same stores (alternating
    rounds; the first round warms the caches and is not counted)."""
    from sqlalchemy.dialects.postgresql.asyncpg import dialect

    conn = await asyncpg.connect(url)
    try:
        try:
            for sql in POSTGIS_SETUP:
                await conn.execute(sql)
            postgis = {name: await conn.prepare(sql) for name, sql in POSTGIS_QUERIES.items()}
        except asyncpg.PostgresError as e:
            print(f"PostGIS not available on this server ({type(e).__name__}): statement alone only")
            postgis = {}
        stmt, _ = await _captured(*points[0])
        compiled = stmt.compile(dialect=dialect())
        ours = await conn.prepare(compiled.string)
        args = []
        for lat, lng in points:
            params = compiled.construct_params((await _captured(lat, lng))[1])  # with the statement's constants
            args.append([params[name] for name in compiled.positiontup])
        timings: dict[str, list[float]] = {"storelink (built-in point, GiST KNN)": []}
        timings |= {name: [] for name in postgis}
        second_rounds = 0
        for round_ in range(4):
            for name, prepared, point_args in [("storelink (built-in point, GiST KNN)", ours, args)] + [
                    (name, p, [list(pt) for pt in points]) for name, p in postgis.items()]:
                for a in point_args:
                    t = time.perf_counter()
                    rows = await prepared.fetch(*a)
                    if round_:
                        timings[name].append((time.perf_counter() - t) * 1000)
                    if round_ == 1 and prepared is ours and _second_round(rows, compiled.positiontup, a):
                        second_rounds += 1
        base = statistics.median(timings["storelink (built-in point, GiST KNN)"])
        for name, values in timings.items():
            print(f"  1M stores, {name}: {_timed(values)} ({statistics.median(values) / base:.2f}x ours)")
        print(f"  a second round of candidates for {second_rounds} of {len(points)} points (not timed)")
        await conn.execute("DROP TABLE IF EXISTS bench_postgis_store")
    finally:
        await conn.close()


async def explain(url: str) -> str:
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.ext.asyncio import create_async_engine

    from storelink.db import async_url

    engine = create_async_engine(async_url(url))
    stmt, params = await _captured(31.23, 121.47)
    sql = str(stmt.params(**params).compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    async with engine.connect() as conn:
        from sqlalchemy import text

        plan = (await conn.execute(text("EXPLAIN ANALYZE " + sql))).scalars().all()
    await engine.dispose()
    return "\n".join(plan)


async def graphql_vs_bare(url: str, settings) -> None:
    """Requests per second over HTTP, one uvicorn worker: /graphql against the bare route."""
    port = 18765
    proc = common.start_uvicorn("nearby:bench_app", {**os.environ, "DATABASE_URL": url,
                                "JWT_SECRET": settings.jwt_secret}, port, cwd=str(Path(__file__).parent))
    try:
        def gql(p):
            body = json.dumps({"query": QUERY, "variables": {"lat": p[0], "lng": p[1]}}).encode()
            return "POST", "/graphql", body

        def bare(p):
            return "GET", f"/bare/nearby?lat={p[0]}&lng={p[1]}", b""

        await http_rps(port, "", bare, seconds=2)  # warm-up
        await http_rps(port, "", gql, seconds=2)
        # Alternate the two, five rounds, and compare medians: one long run each is at the mercy
        # of whatever else the two cores are doing at that moment.
        bare_runs, gql_runs = [], []
        for _ in range(5):
            bare_runs.append(await http_rps(port, "", bare, seconds=3))
            gql_runs.append(await http_rps(port, "", gql, seconds=3))
        bare_rps, gql_rps = statistics.median(bare_runs), statistics.median(gql_runs)
        ratios = sorted(g / b for g, b in zip(gql_runs, bare_runs))
        print(f"HTTP, one uvicorn worker, 100k stores (median of 5 alternating 3 s runs): bare route "
              f"{bare_rps:.0f} req/s, GraphQL {gql_rps:.0f} req/s = {gql_rps / bare_rps:.0%} of bare "
              f"(target >= 70%; per-round {ratios[0]:.0%}..{ratios[-1]:.0%})")
    finally:
        common.stop(proc)


async def main() -> None:
    from storelink.app import create_app
    from storelink.settings import Settings

    url = await common.database()
    conn = await asyncpg.connect(url)
    await conn.execute("TRUNCATE store RESTART IDENTITY CASCADE")
    await conn.close()
    settings = Settings(database_url=url, jwt_secret=secrets.token_urlsafe(48), phone_encryption_key=common.PHONE_KEY)
    points = query_points(520)

    results = {}
    loaded = 0
    for size in (1_000, 100_000, 1_000_000):
        t = time.perf_counter()
        await load_stores(url, size - loaded, loaded)
        loaded = size
        print(f"{size:>9,} stores loaded in {time.perf_counter() - t:.0f} s")
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            results[size] = await latency(app, points)
            s50, s95 = await service_latency(app, points)
        p50, p95, found = results[size]
        print(f"{size:>9,} stores: nearbyStores p50 {p50:.2f} ms, p95 {p95:.2f} ms "
              f"(last query found {found}); search alone p50 {s50:.2f} ms, p95 {s95:.2f} ms")
        if size == 100_000:
            ratio = results[100_000][1] / results[1_000][1]
            print(f"p95 100k / 1k = {ratio:.2f} (target <= 1.5)")
            await graphql_vs_bare(url, settings)
    print(f"p95 1M / 1k = {results[1_000_000][1] / results[1_000][1]:.2f}")
    await statement_vs_postgis(url, points[:300])

    plan = await explain(url)
    print("EXPLAIN ANALYZE at 1M stores:\n" + plan)
    print("sequential scan on store:", "yes" if "Seq Scan on store" in plan else "no")


if __name__ == "__main__":
    asyncio.run(main())
