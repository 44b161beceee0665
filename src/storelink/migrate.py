"""Schema migrations (Alembic), callable from the CLI, the server start and the tests."""
from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config


def migrations_dir() -> Path:
    """The repo's migrations/ (editable install, tests) or ./migrations (the container's /app)."""
    configured = os.environ.get("STORELINK_MIGRATIONS_DIR")
    candidates = [Path(configured)] if configured else []
    candidates += [Path(__file__).resolve().parents[2] / "migrations", Path.cwd() / "migrations"]
    for path in candidates:
        if (path / "env.py").exists():
            return path
    raise RuntimeError("migrations/ not found; set STORELINK_MIGRATIONS_DIR")


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "head")
