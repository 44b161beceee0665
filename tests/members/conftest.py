"""A small brand for membership tests: two stores, their managers and guides, customers."""
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from storelink.graphql.relay import to_global_id
from storelink.members.models import JoinCode
from tests.conftest import pk_of

UPSERT_STORE = """
mutation($input: StoreInput!) { upsertStore(input: $input) { store { id } userErrors { code } } }
"""
BIND_PHONE = "mutation($c: String!) { bindPhone(code: $c) { userErrors { code } } }"
JOIN = """
mutation($code: String!, $v: String! = "2026-01", $m: Boolean! = true) {
  joinByCode(code: $code, consent: {privacyPolicyVersion: $v, marketing: $m}) {
    isNewMember
    membership { memberNo joinChannel joinStore { code } recruitedBy { name } guide { name } }
    userErrors { code field message }
  }
}
"""
WEEK = [{"weekday": d, "opens": "00:00", "closes": "24:00"} for d in range(1, 8)]


@dataclass
class Shop:
    hq: str
    store1: str
    store2: str
    manager1: str
    manager2: str
    guide_a: tuple  # (row, token)
    guide_b: tuple
    guide_c: tuple  # at store 2

    def gid(self, row) -> str:
        return to_global_id("Staff", row.id)


@pytest.fixture
async def shop(api, world) -> Shop:
    _, hq = await world.staff("hq-root")
    ids = []
    for code, lng in (("S1", 121.47), ("S2", 121.50)):
        payload = await api.data(UPSERT_STORE, {"input": {
            "code": code, "name": code, "city": "上海", "address": "路", "lat": 31.23, "lng": lng,
            "openingHours": WEEK}}, hq)
        ids.append(payload["upsertStore"]["store"]["id"])
    pk = [pk_of(i) for i in ids]
    _, m1 = await world.staff("mgr-1", "STORE_MANAGER", pk[0])
    _, m2 = await world.staff("mgr-2", "STORE_MANAGER", pk[1])
    a = await world.staff("guide-a", "GUIDE", pk[0])
    b = await world.staff("guide-b", "GUIDE", pk[0])
    c = await world.staff("guide-c", "GUIDE", pk[1])
    return Shop(hq, ids[0], ids[1], m1, m2, a, b, c)


async def personal_code(sessionmaker, staff_row) -> str:
    async with sessionmaker() as session:
        return (await session.execute(
            select(JoinCode.code).where(JoinCode.guide_id == staff_row.id, JoinCode.personal, JoinCode.active)
        )).scalar_one()


async def member_customer(api, world, name: str, phone: str = "13812345678") -> str:
    token, _ = await world.customer(f"wx-{name}")
    bound = await api.data(BIND_PHONE, {"c": f"phone-{phone}-{name}"}, token)
    assert bound["bindPhone"]["userErrors"] == []
    return token
