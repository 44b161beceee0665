"""A brand can leave as easily as it came: export every kind, import into a fresh database, and
the KPIs of stores and guides come out the same. Also the command line itself."""
from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys

import pytest
from sqlalchemy import select

from storelink import db, migrate
from storelink.accounts.models import Staff
from storelink.bulk import runner
from storelink.bulk.kinds import KINDS
from storelink.kpi import service as kpi
from storelink.stores.models import Store
from tests.builders import PHONE_KEY, TEST_SECRET
from tests.bulk.conftest import MEMBERS, STAFF, STORES
from tests.databases import empty_database

ORDER = ("stores", "staff", "products", "stock", "members", "orders")


@pytest.fixture
async def fresh_sessionmaker(database_url):
    """A second, empty, migrated database on the same server."""
    async with empty_database(database_url, "fresh") as url:
        await asyncio.to_thread(migrate.upgrade, url)
        engine = db.create_engine(url, pool_size=2, max_overflow=0)
        try:
            yield db.create_sessionmaker(engine)
        finally:
            await engine.dispose()


async def _kpis(sessionmaker) -> dict:
    """Every store's and guide's figures for the last year, keyed by store code and username."""
    today = dt.date.today()
    period = kpi.period(today - dt.timedelta(days=360), today + dt.timedelta(days=1), "Asia/Shanghai")
    async with sessionmaker() as session:
        stores = dict((await session.execute(select(Store.id, Store.code))).all())
        staff = dict((await session.execute(select(Staff.id, Staff.username))).all())
        by_store = await kpi.figures(session, scope="store", keys=None, period=period)
        by_guide = await kpi.figures(session, scope="guide", keys=None, period=period)

    def plain(f):  # figures the import formats carry (appointments and join scans do not move)
        return (f.new_members, f.new_members_by_channel, f.purchasing_members, f.repurchasing_members,
                f.store_to_online_members, f.online_to_store_members, f.online_gmv_fen, f.store_gmv_fen)
    return ({stores[k]: plain(f) for k, f in by_store.items()}, {staff[k]: plain(f) for k, f in by_guide.items()})


async def test_export_then_import_into_a_fresh_database_gives_the_same_kpis(
        mall, api, sessionmaker, fresh_sessionmaker, settings, tmp_path):
    # given members who joined with guides and online, with online sales and member and guest till sales
    alice = await mall.member("alice", "guide-a", phone="13800000001")
    bob = await mall.member("bob", guide=None, phone="13800000002")
    carol = await mall.member("carol", "guide-c", phone="13800000003")
    for token, key in ((alice, "a1"), (bob, "b1"), (alice, "a2")):
        await mall.add(token, "SCARF-1")
        order = (await mall.checkout(token, key))["order"]
        await mall.pay(order)
    sale = await mall.record(mall.guides["guide-a"][1], memberCode=await mall.member_code(bob), receipt="R-9")
    assert sale["userErrors"] == []
    guest = await mall.record(mall.guides["guide-c"][1], store="S2", receipt="R-10")
    assert guest["userErrors"] == [] and carol
    before = await _kpis(sessionmaker)
    # when every kind is exported and imported into a fresh database
    for kind in ORDER:
        await runner.run_export(sessionmaker, KINDS[kind], tmp_path / f"{kind}.csv", settings=settings)
    for kind in ORDER:
        report = await runner.run_import(fresh_sessionmaker, KINDS[kind], tmp_path / f"{kind}.csv", settings=settings)
        assert report.problems == [], (kind, report.problems)
    # then the KPIs of every store and guide are the same
    after = await _kpis(fresh_sessionmaker)
    assert before == after
    assert before[0][next(iter(before[0]))][6] + before[0][next(iter(before[0]))][7] > 0  # there was GMV


def _cli(*args, database_url: str, cwd) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url, "JWT_SECRET": TEST_SECRET, "PHONE_ENCRYPTION_KEY": PHONE_KEY}
    env.pop("DEBUG", None)
    return subprocess.run([sys.executable, "-m", "storelink", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=120)


async def test_the_command_line_reports_bad_rows_and_exits_non_zero(app, database_url, tmp_path, sessionmaker):
    # given a members file with a bad phone, and the stores and staff it names
    (tmp_path / "stores.csv").write_text(STORES)
    (tmp_path / "staff.csv").write_text(STAFF)
    (tmp_path / "members.csv").write_text(MEMBERS.replace("13800138002", "1380013800"))
    # when the commands run
    stores = await asyncio.to_thread(_cli, "import", "stores", "stores.csv", database_url=database_url, cwd=tmp_path)
    await asyncio.to_thread(_cli, "import", "staff", "staff.csv", database_url=database_url, cwd=tmp_path)
    dry = await asyncio.to_thread(_cli, "import", "members", "members.csv", "--dry-run",
                                  database_url=database_url, cwd=tmp_path)
    bad = await asyncio.to_thread(_cli, "import", "members", "members.csv", database_url=database_url, cwd=tmp_path)
    exported = await asyncio.to_thread(_cli, "export", "stores", "out.csv", database_url=database_url, cwd=tmp_path)
    # then the good file loads with a summary, the bad one names the line and exits 1, export writes the stores
    assert stores.returncode == 0 and "stores: 2 rows read: 2 inserted, 0 updated, 0 unchanged" in stores.stdout
    for run in (dry, bad):
        assert run.returncode == 1
        assert "members.csv:3: phone: not a mainland mobile number" in run.stdout
        assert "nothing was loaded" in run.stdout
    assert exported.returncode == 0 and "stores: 2 rows written to out.csv" in exported.stdout
    assert (tmp_path / "out.csv").read_text(encoding="utf-8-sig").splitlines()[1].startswith("BJ01,三里屯店,北京")
