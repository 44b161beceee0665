"""Benchmark: moving a large brand in with `storelink import` (issue: one member ID, import, client book).

    python bench/import.py [--scale 1.0]   # DATABASE_URL, or an embedded PostgreSQL in a temp dir

Writes CSV files for 500 stores, 2,500 staff, 50,000 SKUs, 1,000,000 members and 5,000,000 order
lines (about 2,000,000 orders), then loads each with the real command in its own process and
prints rows per second and the command's peak memory (targets: members >= 20,000 rows/s, order
lines >= 50,000 rows/s, peak < 1 GiB). Then the client book of a guide with 2,000 of those members
(bench/client_book.py's measurement: p95 < 50 ms). --scale shrinks everything for a quick look.
"""
from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common  # noqa: E402  (puts src/ on the path)
from client_book import measure

STORES, GUIDES_PER_STORE, PRODUCTS, SKUS_PER_PRODUCT = 500, 4, 10_000, 5
MEMBERS, ORDER_LINES, BOOK = 1_000_000, 5_000_000, 2_000
BENCH_GUIDE, BENCH_PASSWORD = "s0001-g1", "bench-pw-2026"
PHONE_KEY = "bench-phone-key-" + "k" * 40


def _phone(i: int) -> str:
    return f"13{i:09d}"


def write_files(folder: Path, scale: float, rng: random.Random) -> dict[str, Path]:
    stores = max(2, int(STORES * scale))
    products = max(10, int(PRODUCTS * scale))
    members = max(BOOK + 100, int(MEMBERS * scale))
    lines = int(ORDER_LINES * scale)
    now = dt.datetime(2026, 11, 1, 12, 0)
    paths = {kind: folder / f"{kind}.csv" for kind in ("stores", "staff", "products", "members", "orders")}

    def writer(kind):
        f = paths[kind].open("w", encoding="utf-8", newline="")
        return f, csv.writer(f)

    f, w = writer("stores")
    w.writerow(["code", "name", "city", "address", "lat", "lng", "hours"])
    for s in range(1, stores + 1):
        w.writerow([f"S{s:04d}", f"门店{s}", "上海", f"路{s}号", f"{31 + s % 100 / 100:.4f}",
                    f"{121 + s % 90 / 100:.4f}", "1-7 10:00-22:00"])
    f.close()
    f, w = writer("staff")
    w.writerow(["username", "name", "role", "store_code", "password"])
    for s in range(1, stores + 1):
        w.writerow([f"s{s:04d}-mgr", f"店长{s}", "STORE_MANAGER", f"S{s:04d}", ""])
        for g in range(1, GUIDES_PER_STORE + 1):
            name = f"s{s:04d}-g{g}"
            w.writerow([name, f"导购{s}-{g}", "GUIDE", f"S{s:04d}", BENCH_PASSWORD if name == BENCH_GUIDE else ""])
    f.close()
    f, w = writer("products")
    w.writerow(["product_code", "name", "category", "sku_code", "sku_title", "price_fen", "tags"])
    for p in range(1, products + 1):
        for k in range(1, SKUS_PER_PRODUCT + 1):
            w.writerow([f"P{p:05d}", f"商品{p}", f"类目{p % 20}", f"P{p:05d}-{k}", f"规格{k}", 1000 + p % 500 * 100,
                        "冬季|通勤"])
    f.close()
    f, w = writer("members")
    w.writerow(["phone", "joined_at", "store_code", "guide_username", "points", "marketing_consent", "member_no"])
    for i in range(1, members + 1):
        if i <= BOOK:  # the benchmarked guide's book
            store, guide = 1, BENCH_GUIDE
        else:  # the rest spread over the other stores' guides
            store = 2 + i % (stores - 1)
            guide = f"s{store:04d}-g{1 + i % GUIDES_PER_STORE}" if i % 3 else ""
        joined = now - dt.timedelta(days=i % 900, minutes=i % 1440)
        w.writerow([_phone(i), joined.strftime("%Y-%m-%d %H:%M"), f"S{store:04d}", guide, i % 5 * 100,
                    "true" if i % 2 else "false", f"OLD{i:08d}"])
    f.close()
    f, w = writer("orders")
    w.writerow(["order_no", "channel", "phone", "store_code", "guide_username", "paid_at", "sku_code", "quantity",
                "unit_price_fen", "receipt_no"])
    written, order = 0, 0
    while written < lines:
        order += 1
        member = 1 + rng.randrange(members) if rng.random() < 0.8 else None
        store = 1 + rng.randrange(stores)
        channel = "STORE" if rng.random() < 0.6 else "ONLINE"
        paid = (now - dt.timedelta(minutes=rng.randrange(365 * 1440))).strftime("%Y-%m-%d %H:%M:%S")
        head = [f"H{order:09d}", channel, _phone(member) if member else "", f"S{store:04d}",
                f"s{store:04d}-g1" if channel == "STORE" else "", paid]
        receipt = f"R{order}" if channel == "STORE" else ""
        skus = rng.sample(range(1, products * SKUS_PER_PRODUCT + 1), min(1 + rng.randrange(4), lines - written))
        for sku in skus:
            p, k = divmod(sku - 1, SKUS_PER_PRODUCT)
            w.writerow([*head, f"P{p + 1:05d}-{k + 1}", 1 + sku % 2, 1000 + (p + 1) % 500 * 100, receipt])
        written += len(skus)
    f.close()
    return paths


def run_import(kind: str, path: Path, env: dict) -> tuple[float, int, str]:
    """Runs `storelink import` in its own process: (seconds, peak RSS in bytes, its summary)."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "storelink", "import", kind, str(path)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    if status != 0:
        raise RuntimeError(f"import {kind} failed:\n{output}")
    return seconds, usage.ru_maxrss * 1024, output.strip().splitlines()[-1]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    url = await common.database()
    env = {**os.environ, "DATABASE_URL": url, "JWT_SECRET": "bench-jwt-" + "j" * 40, "PHONE_ENCRYPTION_KEY": PHONE_KEY,
           "PYTHONPATH": str(common.SRC)}
    env.pop("DEBUG", None)
    with tempfile.TemporaryDirectory(prefix="storelink-import-") as folder:
        started = time.perf_counter()
        paths = write_files(Path(folder), args.scale, random.Random(7))
        print(f"wrote the CSV files in {time.perf_counter() - started:.0f} s "
              f"({sum(p.stat().st_size for p in paths.values()) / 2**20:.0f} MiB)", flush=True)
        for kind, path in paths.items():
            with path.open(encoding="utf-8") as f:
                rows = sum(1 for _ in f) - 1
            seconds, peak, summary = run_import(kind, path, env)
            target = {"members": " (target >= 20,000)", "orders": " (target >= 50,000)"}.get(kind, "")
            print(f"import {kind}: {rows:,} rows in {seconds:.1f} s = {rows / seconds:,.0f} rows/s{target}; "
                  f"peak memory {peak / 2**20:.0f} MiB (target < 1024); {summary}", flush=True)
    os.environ["PHONE_ENCRYPTION_KEY"] = PHONE_KEY
    async with __import__("asyncpg").create_pool(url, min_size=1, max_size=1) as pool:
        await pool.execute("VACUUM ANALYZE")
        last_four = await pool.fetchval(
            "SELECT right(c.phone_masked, 4) FROM customer c JOIN membership m ON m.customer_id = c.id "
            "JOIN staff s ON s.id = m.guide_id WHERE s.username = $1 ORDER BY m.id LIMIT 1 OFFSET 17", BENCH_GUIDE)
    await measure(url, BENCH_GUIDE, BENCH_PASSWORD, last_four, phone_key=PHONE_KEY)


if __name__ == "__main__":
    asyncio.run(main())
