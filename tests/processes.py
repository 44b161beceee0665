"""`storelink serve` as its own operating-system process, as an operator starts it."""
from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_serve(env: dict, cwd, *args: str, stdout=subprocess.DEVNULL, wait_seconds: float = 60) -> tuple[subprocess.Popen, str]:
    """(the process, its base URL), once /healthz answers; the caller stops the process."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "storelink", "serve", "--port", str(port), *args],
                            env=env, cwd=cwd, stdout=stdout, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"{url}/healthz", timeout=0.5).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"storelink serve did not answer on {url}")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
