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
    env = {"PHONE_ENCRYPTION_KEY": "bench-phone-encryption-key-" + "p" * 32, **env,
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
