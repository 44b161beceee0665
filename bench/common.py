"""What every benchmark needs: a migrated database, and a uvicorn server in its own process."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import httpx

SRC = Path(__file__).resolve().parents[1] / "src"
sys.path.insert(0, str(SRC))

_servers = []  # keeps the embedded PostgreSQL alive until the benchmark exits


# Phones are sealed at rest: the benchmarks' servers and their in-process settings share a key.
PHONE_KEY = "bench-phone-encryption-key-" + "p" * 32


async def database() -> str:
    """DATABASE_URL, or a fresh embedded PostgreSQL in a temporary directory; migrated."""
    from storelink import migrate

    url = os.environ.get("DATABASE_URL")
    if not url:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pgserver

            server = pgserver.get_server(tempfile.mkdtemp(prefix="storelink-bench-"), cleanup_mode="delete")
        _servers.append(server)
        url = server.get_uri()
    await asyncio.to_thread(migrate.upgrade, url)
    return url


def start_uvicorn(app: str, env: dict, port: int, *extra: str, cwd: str | None = None) -> subprocess.Popen:
    """`uvicorn --factory app` on 127.0.0.1:port, once it answers; one worker, no access log."""
    # Phones are sealed at rest: a benchmark's server needs a key like any deployment (its own
    # when the benchmark reads phones itself, else this one).
    env = {"PHONE_ENCRYPTION_KEY": PHONE_KEY, **env,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), cwd, env.get("PYTHONPATH")]))}
    env.pop("DEBUG", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", app, "--port", str(port), "--log-level", "warning",
         "--no-access-log", "--timeout-keep-alive", "120", *extra],
        env=env, cwd=cwd,
    )
    for _ in range(150):
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5)
            return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError(f"{app} did not start")


def stop(*procs: subprocess.Popen) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait(10)


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(int(len(values) * q), len(values) - 1)]


def cpu_seconds(pid: int) -> float:
    """User plus system CPU a process has used so far (Linux /proc), for CPU per action."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """cpu_seconds of a process and its children (uvicorn --workers N: the workers)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as listed:
            children = [int(c) for c in listed.read().split()]
    except OSError:
        children = []
    return cpu_seconds(pid) + sum(tree_cpu_seconds(child) for child in children)


def postgres_cpu_seconds() -> float:
    """CPU used so far by every PostgreSQL process on this machine, ended backends included (the
    benchmark's server is the only one busy while it runs)."""
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                head, _, rest = stat.read().rpartition(")")
        except OSError:  # it ended meanwhile
            continue
        if head.endswith("(postgres"):
            # its own CPU, and its ended children's (the postmaster reaps backends that closed)
            fields = rest.split()
            total += sum(int(fields[i]) for i in (11, 12, 13, 14)) / os.sysconf("SC_CLK_TCK")
    return total


async def round_trips(base_url: str) -> dict[str, float]:
    """The server's storelink_db_round_trips_total by kind (statement, begin, commit, rollback)."""
    import httpx
    from prometheus_client.parser import text_string_to_metric_families

    async with httpx.AsyncClient() as client:
        body = (await client.get(f"{base_url}/metrics")).text
    return {sample.labels["kind"]: sample.value for family in text_string_to_metric_families(body)
            for sample in family.samples if sample.name == "storelink_db_round_trips_total"}


class Meter:
    """API CPU, PostgreSQL CPU and database round trips over a stretch of work, per action.

        async with Meter(base_url, api_pid) as meter:
            ...
        print(meter.per(actions, "order"))
    """

    def __init__(self, base_url: str, api_pid: int, *, workers: int = 1):
        # Several workers: CPU of all of them; round trips are per process, so not counted.
        self.base_url, self.api_pid, self.workers = base_url, api_pid, workers

    async def __aenter__(self) -> "Meter":
        self.trips = await round_trips(self.base_url) if self.workers == 1 else {}
        self.api, self.pg = tree_cpu_seconds(self.api_pid), postgres_cpu_seconds()
        self.client = time.process_time()
        return self

    async def __aexit__(self, *exc) -> None:
        self.api, self.pg = tree_cpu_seconds(self.api_pid) - self.api, postgres_cpu_seconds() - self.pg
        self.client = time.process_time() - self.client  # the load generator shares the machine's cores
        if self.workers > 1:
            return
        after = await round_trips(self.base_url)
        # less the one statement of the scrape that opened the stretch
        self.trips = {k: v - self.trips.get(k, 0) - (k == "statement") for k, v in after.items()}

    def per(self, actions: int, action: str) -> str:
        n = max(actions, 1)
        if self.workers > 1:
            return (f"per {action}: API CPU {self.api / n * 1000:.1f} ms ({self.workers} workers), "
                    f"PostgreSQL CPU {self.pg / n * 1000:.1f} ms, load generator CPU {self.client / n * 1000:.1f} ms")
        statements = self.trips.get("statement", 0)
        transactions = self.trips.get("begin", 0)
        total = sum(self.trips.values())
        return (f"per {action}: API CPU {self.api / n * 1000:.1f} ms, PostgreSQL CPU {self.pg / n * 1000:.1f} ms, "
                f"load generator CPU {self.client / n * 1000:.1f} ms, {total / n:.1f} round trips ({statements / n:.1f} statements, {transactions / n:.1f} transactions)")
