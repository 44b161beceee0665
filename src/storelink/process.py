"""How a storelink process ends: SIGTERM (docker stop, systemd, uvicorn's supervisor, uvicorn
re-raising it after its own graceful shutdown) ends it like Ctrl-C, through `finally` blocks and
atexit, so an embedded PostgreSQL it attached to is released and stopped with its last user."""
from __future__ import annotations

import signal


def _terminated(signum, frame) -> None:
    raise SystemExit(128 + signum)


def exit_cleanly_on_sigterm() -> None:
    signal.signal(signal.SIGTERM, _terminated)
