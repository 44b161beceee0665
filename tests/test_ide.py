"""GraphiQL with DEBUG: the page and its files come from the package, so it loads with no network."""
from __future__ import annotations

import base64
import hashlib
import re
import shutil
import subprocess

import httpx
import pytest

from storelink.api import ide
from storelink.app import create_app
from tests.conftest import serving

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def debug_server(settings):
    with serving(create_app(settings.model_copy(update={"debug": True}))) as url:
        yield url


async def test_the_page_loads_only_our_files_and_they_are_the_pinned_builds(debug_server):
    # when
    async with httpx.AsyncClient(base_url=debug_server) as client:
        page = await client.get("/graphql", headers={"accept": "text/html"})
        loads = re.findall(r'(?:src|href)="(/graphiql/[^"]+)"\s+integrity="sha384-([^"]+)"', page.text)
        files = {path: await client.get(path) for path, _ in loads}
    # then
    assert page.status_code == 200 and "GraphiQL" in page.text
    assert {path.removeprefix("/graphiql/") for path, _ in loads} == ide.FILES
    assert not re.search(r'(?:src|href)="https?://', page.text)  # nothing from a CDN
    # when / then
    for path, integrity in loads:
        resp = files[path]
        assert resp.status_code == 200 and "immutable" in resp.headers["cache-control"]
        assert base64.b64encode(hashlib.sha384(resp.content).digest()).decode() == integrity, path


@pytest.mark.parametrize("name", ["index.html", "..%2Fide.py", "licenses", "nope.js"])
async def test_only_the_vendored_files_are_served(debug_server, name):
    async with httpx.AsyncClient(base_url=debug_server) as client:
        # when / then
        assert (await client.get(f"/graphiql/{name}")).status_code == 404


async def test_without_debug_there_is_no_ide(http):
    # given
    page = await http.get("/graphql", headers={"accept": "text/html"})
    # when
    asset = await http.get("/graphiql/graphiql.min.js")
    # then
    assert "GraphiQL" not in page.text and asset.status_code == 404


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium here (.ci/run installs Debian's chromium)")
def test_the_ide_renders_in_headless_chromium_with_no_network(debug_server, tmp_path):
    # when Chromium opens the IDE with every host but the server's unresolvable
    run = subprocess.run([
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path}", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--virtual-time-budget=15000", "--dump-dom", f"{debug_server}/graphql",
    ], capture_output=True, text=True, timeout=120)
    # then GraphiQL replaced "Loading..." with its editor, and fetched the schema from us
    dom = run.stdout
    assert run.returncode == 0, run.stderr[-2000:]
    assert "graphiql-session" in dom and "graphiql-editor" in dom, dom[-2000:]
    assert ">Loading...<" not in dom
