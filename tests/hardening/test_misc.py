"""The smaller holes found with the nine classes: zone names that are not places, spreadsheet
formulas in the CSV report, and demo orders whose points were never in the ledger."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from storelink import demo
from storelink.loyalty.models import PointsEntry
from storelink.orders.models import Order
from tests.builders import WEEK, codes_of

UPSERT_STORE = "mutation($input: StoreInput!) { upsertStore(input: $input) { store { id } userErrors { code field } } }"


@pytest.mark.parametrize("zone", ["localtime", "Factory", "posixrules", "posix/Asia/Shanghai", "right/UTC", "../etc",
                                  "/etc/localtime", "Asia/Nowhere", ""])
async def test_only_iana_zone_names_are_store_timezones(api, world, zone):
    # given
    _, hq = await world.staff("hq-zones")
    # when
    payload = (await api.data(UPSERT_STORE, {"input": {
        "code": "TZ1", "name": "店", "city": "上海", "address": "路", "lat": 31.2, "lng": 121.4, "timezone": zone,
        "openingHours": WEEK}}, hq))["upsertStore"]
    # then
    assert codes_of(payload) == ["INVALID_INPUT"] and payload["userErrors"][0]["field"] == ["input", "timezone"]


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Asia/Hong_Kong", "UTC", "Europe/London"])
async def test_place_zones_are_accepted(api, world, zone):
    # given
    _, hq = await world.staff("hq-zones2")
    # when
    payload = (await api.data(UPSERT_STORE, {"input": {
        "code": "TZ2", "name": "店", "city": "上海", "address": "路", "lat": 31.2, "lng": 121.4, "timezone": zone,
        "openingHours": WEEK}}, hq))["upsertStore"]
    # then
    assert payload["userErrors"] == []


@pytest.mark.parametrize("name", ["=HYPERLINK(\"http://evil\")", "+1+1", "-2+3", "@SUM(A1)"])
async def test_csv_cells_that_look_like_formulas_are_kept_as_text(api, client, mall, name):
    # given
    await api.data(UPSERT_STORE, {"input": {"code": "S1", "name": name, "city": "上海", "address": "路",
                                            "lat": 31.23, "lng": 121.47, "openingHours": WEEK}}, mall.hq)
    # when
    resp = await client.get(f"/reports/store/{mall.stores['S1']}.csv?from=2026-10-01&to=2026-10-31",
                            headers={"authorization": f"Bearer {mall.hq}"})
    store_row = resp.content.decode("utf-8-sig").splitlines()[1]
    # then
    assert store_row.split(",")[1].lstrip('"').startswith("'" + name[:1])


async def test_demo_orders_put_their_points_in_the_ledger(sessionmaker):
    # when / then
    async with sessionmaker() as session:
        assert await demo.seed_demo(session)
        await session.commit()
    async with sessionmaker() as session:
        earned = (await session.execute(select(func.sum(Order.points_earned)))).scalar_one()
        ledger = (await session.execute(select(func.sum(PointsEntry.delta)))).scalar_one()
    assert earned > 0 and ledger == earned
