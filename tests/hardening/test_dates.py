"""Every date and time the API takes lies in limits.MIN_DATE..MAX_DATE (1970-01-01..2099-12-31);
one outside is INVALID_INPUT wherever it is given, never an overflow."""
from __future__ import annotations

import pytest

from tests.hardening.common import top_codes

OPEN_AT = "query($id: ID!, $t: DateTime!) { store(id: $id) { isOpenAt(at: $t) } }"
SLOTS = "query($s: ID!, $v: ID!, $d: Date!) { availableSlots(storeId: $s, serviceId: $v, date: $d) { remaining } }"
KPIS = "query($id: ID!, $f: Date!, $t: Date!) { storeKpis(storeId: $id, from: $f, to: $t) { newMembers } }"
CAMPAIGN = ("mutation($i: CouponCampaignInput!) { createCouponCampaign(input: $i) { campaign { id } "
            "userErrors { code } } }")
JOIN_CODE = "mutation($i: CreateJoinCodeInput!) { createJoinCode(input: $i) { joinCode { code } userErrors { code } } }"

FAR_TIMES = ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00", "2100-01-01T00:00:00+08:00",
             "1969-12-31T23:59:59+00:00", "275760-09-13T00:00:00Z"]
FAR_DAYS = ["9999-12-31", "0001-01-01", "2100-01-01", "1969-12-31"]


@pytest.mark.parametrize("at", FAR_TIMES)
async def test_is_open_at_far_times(api, mall, at):
    # when
    body = await api.post(OPEN_AT, {"id": mall.stores["S1"], "t": at})
    # then
    assert top_codes(body) == ["INVALID_INPUT"] and body["data"] is None


@pytest.mark.parametrize("day", FAR_DAYS)
async def test_slots_and_kpis_on_far_days(api, mall, day):
    # given
    slots = await api.post(SLOTS, {"s": mall.stores["S1"], "v": "U2VydmljZVR5cGU6MQ", "d": day})
    # when
    kpis = await api.post(KPIS, {"id": mall.stores["S1"], "f": day, "t": day}, mall.hq)
    # then
    assert set(top_codes(slots)) == set(top_codes(kpis)) == {"INVALID_INPUT"}


@pytest.mark.parametrize("until", ["9999-12-31T23:59:59+08:00", "2100-01-01T00:00:00+08:00"])
async def test_far_expiries_are_refused(api, mall, until):
    # given
    campaign = await api.post(CAMPAIGN, {"i": {"title": "t", "discountFen": 100, "validFrom": "2026-01-01T00:00:00+08:00",
                                               "validUntil": until}}, mall.hq)
    # when
    code = await api.post(JOIN_CODE, {"i": {"storeId": mall.stores["S1"], "expiresAt": until}}, mall.hq)
    # then
    assert top_codes(campaign) == top_codes(code) == ["INVALID_INPUT"]


async def test_the_edges_of_the_range_are_accepted(api, mall):
    # given
    late = await api.post(OPEN_AT, {"id": mall.stores["S1"], "t": "2099-12-31T12:00:00+08:00"})
    # when
    early = await api.post(OPEN_AT, {"id": mall.stores["S1"], "t": "1970-01-02T00:00:00+08:00"})
    # then
    assert late["data"]["store"]["isOpenAt"] is True and early["data"]["store"]["isOpenAt"] is True


@pytest.mark.parametrize("query", ["from=0001-01-01&to=2026-01-01", "from=2026-01-01&to=9999-12-31",
                                   "from=1969-12-31&to=1970-01-02", "from=2026-01-01&to=2026-02-30"])
async def test_the_csv_report_takes_the_same_days(client, mall, query):
    # when
    resp = await client.get(f"/reports/store/{mall.stores['S1']}.csv?{query}",
                            headers={"authorization": f"Bearer {mall.hq}"})
    # then
    assert resp.status_code == 400
