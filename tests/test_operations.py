"""Running it as an operator does: migrations from several replicas at once, the embedded database
only when asked for, one DEBUG signing key per data directory."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import asyncpg
import httpx
import pytest

from storelink import db
from storelink.settings import Settings
from tests.builders import PHONE_KEY, TEST_SECRET
from tests.databases import empty_database
from tests.processes import free_port, start_serve, stop


def _env(**extra) -> dict:
    env = {**os.environ, "JWT_SECRET": TEST_SECRET, "PHONE_ENCRYPTION_KEY": PHONE_KEY, **extra}
    env.pop("DEBUG", None)
    return env


async def test_two_replicas_migrating_an_empty_database_at_once_both_succeed(database_url, tmp_path):
    # given an empty database
    async with empty_database(database_url, "race") as url:
        # when two `storelink migrate` start together
        procs = [subprocess.Popen([sys.executable, "-m", "storelink", "migrate"], env=_env(DATABASE_URL=url),
                                  cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                 for _ in range(2)]
        outputs = [await asyncio.to_thread(p.communicate, timeout=180) for p in procs]
        conn = await asyncpg.connect(url)
        versions = await conn.fetch("SELECT version_num FROM alembic_version")
        await conn.close()
    # then both succeed and the database is at one version
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert len(versions) == 1


def test_without_database_url_the_embedded_database_must_be_asked_for(tmp_path):
    # given no DATABASE_URL, no DEBUG and no STORELINK_EMBEDDED_DB
    settings = Settings(jwt_secret=TEST_SECRET, phone_encryption_key=PHONE_KEY, storelink_data_dir=tmp_path,
                        database_url=None, debug=False, storelink_embedded_db=False)  # whatever the environment says
    # when the database is wanted, then it is refused with one line naming DATABASE_URL
    with pytest.raises(db.NoDatabase, match="DATABASE_URL"):
        db.database_url(settings)
    assert not (tmp_path / "pgdata").exists()


def test_the_command_line_refuses_to_start_without_a_database(tmp_path):
    # given
    env = _env(STORELINK_DATA_DIR=str(tmp_path))
    env.pop("DATABASE_URL", None)
    # when
    run = subprocess.run([sys.executable, "-m", "storelink", "migrate"], env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    # then
    assert run.returncode != 0
    assert run.stderr.strip().splitlines() == [
        "storelink: no database: set DATABASE_URL (or STORELINK_EMBEDDED_DB=1 for a database inside "
        "this machine's data directory, which a container loses with itself)"]


def test_debug_workers_share_one_signing_key_per_data_directory(tmp_path, monkeypatch):
    # given DEBUG without JWT_SECRET; when two workers read their settings from one data directory
    monkeypatch.delenv("JWT_SECRET", raising=False)
    first = Settings(debug=True, storelink_data_dir=tmp_path)
    second = Settings(debug=True, storelink_data_dir=tmp_path)
    other = Settings(debug=True, storelink_data_dir=tmp_path / "other")
    # then they sign with the same key (tokens of one work in the other); another directory differs
    assert first.jwt_secret == second.jwt_secret != other.jwt_secret
    assert len(first.jwt_secret) >= 32
    assert oct((tmp_path / "debug-jwt-secret").stat().st_mode & 0o777) == "0o600"


def _postgres_serving(pgdata) -> list[int]:
    """Pids of postgres processes whose command line names this data directory."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().decode(errors="replace")
        except OSError:
            continue
        if "postgres" in cmdline and str(pgdata) in cmdline:
            found.append(int(pid))
    return found


def test_sigterm_stops_the_server_and_its_embedded_database(tmp_path):
    # given `storelink serve` on the embedded database, answering
    env = _env(STORELINK_DATA_DIR=str(tmp_path), STORELINK_EMBEDDED_DB="1")
    env.pop("DATABASE_URL", None)
    proc, _ = start_serve(env, tmp_path)
    try:
        pgdata = (tmp_path / "pgdata").resolve()
        assert _postgres_serving(pgdata), "the embedded PostgreSQL did not start"
        # when it gets SIGTERM
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    finally:
        proc.kill()
    # then the server and its database are gone
    for _ in range(100):
        if not _postgres_serving(pgdata):
            break
        time.sleep(0.1)
    assert _postgres_serving(pgdata) == []


def test_an_unreachable_database_is_one_clear_line_without_the_password(tmp_path):
    # given DATABASE_URL naming a port where nothing listens
    port = free_port()
    env = _env(DATABASE_URL=f"postgresql://someone:hunter2-secret@127.0.0.1:{port}/brand")
    # when a command needs the database
    run = subprocess.run([sys.executable, "-m", "storelink", "migrate"], env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    # then it says so in one line, naming where, never the password
    lines = run.stderr.strip().splitlines()
    assert run.returncode == 1 and len(lines) == 1, run.stderr
    assert lines[0].startswith(f"storelink: cannot reach the database at 127.0.0.1:{port}/brand: ")
    assert "hunter2" not in run.stderr


def test_two_debug_server_processes_accept_each_others_tokens(tmp_path):
    # given `storelink serve --workers 2` with DEBUG and no JWT_SECRET, and an HQ account
    env = {**os.environ, "DEBUG": "1", "STORELINK_DATA_DIR": str(tmp_path)}
    for name in ("DATABASE_URL", "JWT_SECRET", "PHONE_ENCRYPTION_KEY"):
        env.pop(name, None)
    subprocess.run([sys.executable, "-m", "storelink", "create-admin", "--username", "hq-admin",
                    "--password", "hq-password-1"], env=env, cwd=tmp_path, check=True, capture_output=True,
                   timeout=120)
    proc, base = start_serve(env, tmp_path, "--workers", "2")
    url = f"{base}/graphql"
    try:
        login = httpx.post(url, json={"query": 'mutation { staffLogin(username: "hq-admin", password: '
                                               '"hq-password-1") { accessToken } }'}, timeout=10).json()
        token = login["data"]["staffLogin"]["accessToken"]
        # when the token is used on fresh connections (spread over both processes)
        answers = [httpx.post(url, json={"query": "{ clientBook(first: 1) { totalCount } }"}, timeout=10,
                              headers={"authorization": f"Bearer {token}", "connection": "close"}).json()
                   for _ in range(12)]
    finally:
        proc.terminate()
        proc.wait(60)
    # then every answer knows the signed-in staff member; and once stopped, no database is left running
    assert all("errors" not in a for a in answers), answers
    pgdata = (tmp_path / "pgdata").resolve()
    for _ in range(100):
        if not _postgres_serving(pgdata):
            break
        time.sleep(0.1)
    assert _postgres_serving(pgdata) == []


def test_only_the_server_needs_jwt_secret_and_a_missing_one_is_one_line(tmp_path, database_url):
    # given
    env = _env(DATABASE_URL=database_url)
    env.pop("JWT_SECRET")
    migrate = subprocess.run([sys.executable, "-m", "storelink", "migrate"], env=env, cwd=tmp_path,
                             capture_output=True, text=True, timeout=120)
    # when
    serve = subprocess.run([sys.executable, "-m", "storelink", "serve", "--port", "1"], env=env, cwd=tmp_path,
                           capture_output=True, text=True, timeout=120)
    # then
    assert migrate.returncode == 0, migrate.stderr
    assert serve.returncode == 1 and serve.stderr.strip().splitlines() == [
        "storelink: configuration error: JWT_SECRET must be set to at least 32 random bytes "
        "(or set DEBUG=1 for development)"]


def test_the_demo_keeps_the_servers_startup_line_and_access_log(tmp_path):
    # given
    env = {**os.environ, "DEBUG": "1", "STORELINK_DATA_DIR": str(tmp_path)}
    for name in ("DATABASE_URL", "JWT_SECRET", "PHONE_ENCRYPTION_KEY", "WECHAT_APPID", "WECHAT_SECRET"):
        env.pop(name, None)
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc, url = start_serve(env, tmp_path, "--demo", stdout=out, wait_seconds=120)
        try:
            httpx.get(f"{url}/healthz", timeout=5)
            time.sleep(0.5)
        finally:
            stop(proc)
    # when
    text = log.read_text()
    # then
    assert f"Uvicorn running on {url}" in text, text[-2000:]
    assert '"GET /healthz HTTP/1.1" 200' in text, text[-2000:]


def test_a_killed_user_of_the_embedded_database_does_not_keep_it_running(tmp_path):
    # given the embedded database's list of users naming a process that was killed outright
    import json

    env = _env(STORELINK_DATA_DIR=str(tmp_path), STORELINK_EMBEDDED_DB="1")
    env.pop("DATABASE_URL", None)
    subprocess.run([sys.executable, "-m", "storelink", "migrate"], env=env, cwd=tmp_path, check=True,
                   capture_output=True, timeout=180)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    pgdata = (tmp_path / "pgdata").resolve()
    (pgdata / ".handle_pids.json").write_text(json.dumps([gone.pid]))
    # when a command uses the database and exits
    subprocess.run([sys.executable, "-m", "storelink", "migrate"], env=env, cwd=tmp_path, check=True,
                   capture_output=True, timeout=180)
    # then the server stopped with it, the dead process forgotten
    assert _postgres_serving(pgdata) == []
    assert json.loads((pgdata / ".handle_pids.json").read_text()) == []
