"""A small world built by hand, through the real flows, with every KPI figure asserted exactly.

Two stores (S1 in Shanghai, S2 in Urumqi, two hours behind), three guides (A and B at S1, C at
S2), members joined through every channel, online and store orders, a refund, a transfer, a
rebinding after the protection period, a guide's push, and orders at day edges in each store's
timezone. Times are pinned afterwards to October 2026 (the flows run now).
"""
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from storelink.appointments.models import Appointment
from storelink.graphql.relay import to_global_id
from storelink.members.models import JoinScan, Membership
from storelink.orders.models import Order
from tests.builders import (
    JOIN,
    UPSERT_STORE,
    WEEK,
    Mall,
    member_customer,
    personal_code,
    pk_of,
)

SH, UR = ZoneInfo("Asia/Shanghai"), ZoneInfo("Asia/Urumqi")
CREATE_CODE = """mutation($input: CreateJoinCodeInput!) { createJoinCode(input: $input) { joinCode { code } userErrors { code } } }"""
TRANSFER = """mutation($f: ID!, $t: ID!) { transferMembers(fromGuideId: $f, toGuideId: $t) { transferred userErrors { code } } }"""
PUSH = """mutation($m: ID!, $s: ID!) { pushToCart(memberId: $m, skuId: $s, quantity: 1) { userErrors { code } } }"""
REFUND = """mutation($id: ID!) { refundOrder(id: $id, reason: "退货") { userErrors { code } } }"""
SERVICE = """mutation { upsertServiceType(input: {code: "FIT", name: "试衣", durationMinutes: 60}) { serviceType { id } } }"""
FIELDS = """from to newMembers newMembersByChannel { channel count } purchasingMembers repurchasingMembers
  repurchaseRate storeToOnlineMembers onlineToStoreMembers onlineGmvFen storeGmvFen appointmentsBooked
  appointmentsAttended joinScans scanJoins"""
STORE_KPIS = f"query($id: ID!, $f: Date!, $t: Date!) {{ storeKpis(storeId: $id, from: $f, to: $t) {{ {FIELDS} }} }}"
GUIDE_KPIS = f"query($id: ID!, $f: Date!, $t: Date!) {{ guideKpis(guideId: $id, from: $f, to: $t) {{ {FIELDS} }} }}"
BOARD = """query($s: ID, $m: KpiMetric!) { guideLeaderboard(storeId: $s, from: "2026-10-01", to: "2026-10-31",
  metric: $m) { rank guide { name } report { onlineGmvFen storeGmvFen repurchaseRate newMembers } } }"""


def at(zone, text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=zone)


def report(first, last, *, new=(0, 0, 0, 0, 0), purchasing=0, repurchasing=0, to_online=0, to_store=0,
           online=0, store=0, booked=0, attended=0, scans=0, joins=0) -> dict:
    channels = ["STORE_QR", "GUIDE_QR", "CAMPAIGN_QR", "ONLINE", "TILL", "IMPORTED", "REFERRAL"]
    new = (*new, 0, 0, 0, 0, 0)[:len(channels)]  # the scenario enrols nobody at a till
    return {
        "from": first, "to": last, "newMembers": sum(new),
        "newMembersByChannel": [{"channel": c, "count": n} for c, n in zip(channels, new)],
        "purchasingMembers": purchasing, "repurchasingMembers": repurchasing,
        "repurchaseRate": repurchasing / purchasing if purchasing else 0.0,
        "storeToOnlineMembers": to_online, "onlineToStoreMembers": to_store, "onlineGmvFen": online,
        "storeGmvFen": store, "appointmentsBooked": booked, "appointmentsAttended": attended,
        "joinScans": scans, "scanJoins": joins,
    }


class World:
    def __init__(self, mall: Mall):
        self.mall, self.api, self.sm = mall, mall.api, mall.sessionmaker
        self.customers: dict[str, int] = {}
        self.tokens: dict[str, str] = {}

    async def pin(self, stmt) -> None:
        async with self.sm() as session:
            await session.execute(stmt)
            await session.commit()

    async def joined(self, name: str, token: str, when: dt.datetime) -> None:
        self.tokens[name] = token
        self.customers[name] = await self.mall.customer_pk(token)
        cid = self.customers[name]
        await self.pin(update(Membership).where(Membership.customer_id == cid).values(joined_at=when, bound_at=when))
        await self.pin(update(JoinScan).where(JoinScan.customer_id == cid, JoinScan.outcome == "JOINED")
                       .values(scanned_at=when))

    async def join_with(self, name: str, code: str, when: dt.datetime) -> None:
        token = await member_customer(self.api, self.mall.world, name)
        assert (await self.api.data(JOIN, {"code": code}, token))["joinByCode"]["userErrors"] == []
        await self.joined(name, token, when)

    async def paid(self, order_no: str, when: dt.datetime) -> None:
        await self.pin(update(Order).where(Order.order_no == order_no).values(paid_at=when, created_at=when))

    async def online(self, name: str, sku: str, when: dt.datetime, *, pay: bool = True, add: bool = True) -> dict:
        if add:  # else the cart already holds it (a guide pushed it)
            await self.mall.add(self.tokens[name], sku, 1)
        order = (await self.mall.checkout(self.tokens[name], key=f"{name}-{sku}-{when.isoformat()}"))["order"]
        if pay:
            await self.mall.pay(order)
            await self.paid(order["orderNo"], when)
        return order

    async def till(self, guide: str, store: str, receipt: str, sku: str, price: int, when: dt.datetime,
                   member: str | None = None) -> dict:
        extra = {"memberCode": await self.mall.member_code(self.tokens[member])} if member else {}
        order = (await self.mall.record(self.mall.guides[guide][1], store=store, receipt=receipt,
                                        lines=[{"skuId": self.mall.skus[sku], "quantity": 1, "unitPriceFen": price}],
                                        **extra))["order"]
        await self.paid(order["orderNo"], when)
        return order


@pytest.fixture
async def world(mall) -> World:
    w = World(mall)
    api, m = w.api, mall
    # S2 moves to Urumqi time (UTC+6), two hours behind Shanghai.
    await api.data(UPSERT_STORE, {"input": {"code": "S2", "name": "S2店", "city": "乌鲁木齐", "address": "路",
                                            "lat": 31.23, "lng": 121.50, "timezone": "Asia/Urumqi",
                                            "openingHours": WEEK}}, m.hq)
    store_code = (await api.data(CREATE_CODE, {"input": {"storeId": m.stores["S1"]}}, m.managers["S1"]))
    campaign_code = (await api.data(CREATE_CODE, {"input": {"storeId": m.stores["S2"], "campaign": "双11"}},
                                    m.managers["S2"]))
    # Joins
    await w.joined("m1", await m.member("m1", guide="guide-a"), at(SH, "2026-10-01 10:00"))
    await w.join_with("m2", store_code["createJoinCode"]["joinCode"]["code"], at(SH, "2026-10-02 10:00"))
    await w.joined("m3", await m.member("m3", guide=None), at(SH, "2026-10-03 10:00"))
    await w.joined("m4", await m.member("m4", guide="guide-c"), at(UR, "2026-10-05 10:00"))
    await w.joined("m5", await m.member("m5", guide="guide-a"), at(SH, "2026-10-06 10:00"))
    await w.join_with("m6", campaign_code["createJoinCode"]["joinCode"]["code"], at(UR, "2026-10-07 10:00"))
    await w.joined("m7", await m.member("m7", guide="guide-b"), at(SH, "2026-09-30 23:59"))  # September
    # Orders before the transfer
    await w.online("m1", "SCARF-1", at(SH, "2026-10-10 10:00"))                          # o1: A, S1
    await w.till("guide-b", "S1", "o2", "TEE-S", 9900, at(SH, "2026-10-12 12:00"), "m1")  # o2: B, S1
    await w.till("guide-c", "S2", "o3", "SCARF-1", 39900, at(UR, "2026-10-20 12:00"), "m3")  # o3: C, S2
    await w.online("m2", "TEE-S", at(SH, "2026-10-21 10:00"))                            # o4: S1, no guide
    await w.online("m5", "SCARF-1", at(SH, "2026-10-14 10:00"))                          # o5: A, S1
    # A's members (m1, m5) move to B; past credit stays with A
    moved = await api.data(TRANSFER, {"f": to_global_id("Staff", m.guides["guide-a"][0].id),
                                      "t": to_global_id("Staff", m.guides["guide-b"][0].id)}, m.managers["S1"])
    assert moved["transferMembers"]["transferred"] == 2
    await w.online("m5", "TEE-S", at(SH, "2026-10-16 10:00"))                            # o6: B, S1
    refunded = await w.online("m1", "COAT-M", at(SH, "2026-10-17 10:00"))               # o7: refunded
    assert (await api.data(REFUND, {"id": refunded["id"]}, m.managers["S1"]))["refundOrder"]["userErrors"] == []
    # Day edges: guest sales at S1 either side of midnight; S2's evening is Shanghai's next day
    await w.till("guide-a", "S1", "o8", "TEE-S", 9900, at(SH, "2026-10-31 23:59:30"))   # October
    await w.till("guide-a", "S1", "o9", "TEE-S", 9900, at(SH, "2026-11-01 00:00:30"))   # November
    await w.till("guide-c", "S2", "o10", "SCARF-1", 39900, at(UR, "2026-10-31 23:30"), "m6")  # Oct in Urumqi
    # m4 rebinds to B after the protection period, then buys online
    await w.pin(update(Membership).where(Membership.customer_id == w.customers["m4"])
                .values(bound_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=40)))
    rescan = await api.data(JOIN, {"code": await personal_code(w.sm, m.guides["guide-b"][0])}, w.tokens["m4"])
    assert rescan["joinByCode"]["membership"]["guide"] == {"name": "guide-b"}
    await w.pin(update(JoinScan).where(JoinScan.customer_id == w.customers["m4"], JoinScan.outcome == "REBOUND")
                .values(scanned_at=at(SH, "2026-10-22 10:00")))
    await w.online("m4", "SCARF-1", at(SH, "2026-10-25 10:00"))                          # o11: B, S1
    # C pushes into m6's cart: the online order is C's
    assert (await api.data(PUSH, {"m": await m.member_id(w.tokens["m6"]), "s": m.skus["TEE-S"]},
                           m.guides["guide-c"][1]))["pushToCart"]["userErrors"] == []
    await w.online("m6", "TEE-S", at(UR, "2026-10-26 10:00"), add=False)                 # o12: C, S2
    await w.online("m3", "TEE-S", at(SH, "2026-10-27 10:00"), pay=False)                 # o13: unpaid
    # Appointments
    service = pk_of((await api.data(SERVICE, token=m.hq))["upsertServiceType"]["serviceType"]["id"])
    a, c = m.guides["guide-a"][0].id, m.guides["guide-c"][0].id
    rows = [("S1", a, "2026-10-10", "CHECKED_IN"), ("S1", a, "2026-10-11", "NO_SHOW"),
            ("S1", a, "2026-10-12", "CANCELLED"), ("S1", None, "2026-10-13", "BOOKED"),
            ("S2", c, "2026-10-31", "COMPLETED"), ("S2", c, "2026-11-01", "BOOKED")]
    async with w.sm() as session:
        for i, (store, guide, day, status) in enumerate(rows):
            start = at(SH if store == "S1" else UR, f"{day} 15:00")
            session.add(Appointment(customer_id=w.customers["m1"], store_id=pk_of(m.stores[store]),
                                    service_id=service, guide_id=guide, start_at=start,
                                    end_at=start + dt.timedelta(hours=1), local_day=dt.date.fromisoformat(day),
                                    status=status, check_in_token=f"TOKEN{i}"))
        await session.commit()
    return w


async def test_every_figure_for_every_store_and_guide(world):
    # given
    api, m = world.api, world.mall
    hq = m.hq
    oct_, nov = ("2026-10-01", "2026-10-31"), ("2026-11-01", "2026-11-30")

    async def store(code, period):
        return (await api.data(STORE_KPIS, {"id": m.stores[code], "f": period[0], "t": period[1]}, hq))["storeKpis"]

    async def guide(name, period):
        gid = to_global_id("Staff", m.guides[name][0].id)
        return (await api.data(GUIDE_KPIS, {"id": gid, "f": period[0], "t": period[1]}, hq))["guideKpis"]

    # when / then
    assert await store("S1", oct_) == report(*oct_, new=(1, 2, 0, 0), purchasing=4, repurchasing=2, to_online=4,
                                             online=139500, store=19800, booked=3, attended=1, scans=4, joins=3)
    assert await store("S2", oct_) == report(*oct_, new=(0, 1, 1, 0), purchasing=2, repurchasing=1, to_store=1,
                                             online=9900, store=79800, booked=1, attended=1, scans=2, joins=2)
    assert await guide("guide-a", oct_) == report(*oct_, new=(0, 2, 0, 0), purchasing=2, to_online=2,
                                                  online=79800, store=9900, booked=2, attended=1, scans=2, joins=2)
    assert await guide("guide-b", oct_) == report(*oct_, purchasing=3, to_online=2, online=49800, store=9900,
                                                  scans=1)
    assert await guide("guide-c", oct_) == report(*oct_, new=(0, 1, 0, 0), purchasing=2, repurchasing=1, to_store=1,
                                                  online=9900, store=79800, booked=1, attended=1, scans=1, joins=1)
    # November: only the guest sale after midnight and S2's booking on the 1st
    assert await store("S1", nov) == report(*nov, store=9900)
    assert await store("S2", nov) == report(*nov, booked=1)
    assert await guide("guide-a", nov) == report(*nov, store=9900)
    # One-day periods either side of Shanghai's midnight
    assert (await store("S1", ("2026-10-31", "2026-10-31")))["storeGmvFen"] == 9900
    assert (await store("S1", ("2026-11-01", "2026-11-01")))["storeGmvFen"] == 9900
    assert (await store("S2", ("2026-10-31", "2026-10-31")))["storeGmvFen"] == 39900
    # when
    # September holds m7's join only
    september = await guide("guide-b", ("2026-09-01", "2026-09-30"))
    # then
    assert (september["newMembers"], september["joinScans"], september["scanJoins"]) == (1, 1, 1)


async def test_leaderboards(world):
    # given
    api, m = world.api, world.mall
    by_gmv = (await api.data(BOARD, {"s": m.stores["S1"], "m": "GMV"}, m.managers["S1"]))["guideLeaderboard"]
    everyone = (await api.data(BOARD, {"m": "GMV"}, m.hq))["guideLeaderboard"]
    # when
    by_rate = (await api.data(BOARD, {"m": "REPURCHASE_RATE"}, m.hq))["guideLeaderboard"]
    # then
    assert [(r["rank"], r["guide"]["name"]) for r in by_gmv] == [(1, "guide-a"), (2, "guide-b")]
    assert [(r["rank"], r["guide"]["name"]) for r in everyone] == [(1, "guide-a"), (1, "guide-c"), (3, "guide-b")]
    assert everyone[1]["report"] == {"onlineGmvFen": 9900, "storeGmvFen": 79800, "repurchaseRate": 0.5,
                                     "newMembers": 1}
    assert [(r["rank"], r["guide"]["name"]) for r in by_rate] == [(1, "guide-c"), (2, "guide-a"), (2, "guide-b")]


async def test_who_may_see_what(world):
    # given
    api, m = world.api, world.mall
    a, b = (to_global_id("Staff", m.guides[n][0].id) for n in ("guide-a", "guide-b"))
    c = to_global_id("Staff", m.guides["guide-c"][0].id)
    guide_a = m.guides["guide-a"][1]
    period = {"f": "2026-10-01", "t": "2026-10-31"}

    async def code(query, variables, token):
        body = await api.post(query, variables, token)
        return body["errors"][0]["extensions"]["code"] if "errors" in body else "OK"

    # when / then
    assert await code(GUIDE_KPIS, {"id": a, **period}, guide_a) == "OK"
    assert await code(GUIDE_KPIS, {"id": b, **period}, guide_a) == "FORBIDDEN"
    assert await code(STORE_KPIS, {"id": m.stores["S1"], **period}, guide_a) == "FORBIDDEN"
    assert await code(STORE_KPIS, {"id": m.stores["S1"], **period}, m.managers["S1"]) == "OK"
    assert await code(GUIDE_KPIS, {"id": b, **period}, m.managers["S1"]) == "OK"
    assert await code(GUIDE_KPIS, {"id": c, **period}, m.managers["S1"]) == "FORBIDDEN"
    assert await code(STORE_KPIS, {"id": m.stores["S2"], **period}, m.managers["S1"]) == "FORBIDDEN"
    assert await code(BOARD, {"m": "GMV"}, m.managers["S1"]) == "FORBIDDEN"
    assert await code(BOARD, {"s": m.stores["S1"], "m": "GMV"}, guide_a) == "FORBIDDEN"
    assert await code(STORE_KPIS, {"id": m.stores["S1"], **period}, world.tokens["m1"]) == "FORBIDDEN"
    assert await code(STORE_KPIS, {"id": m.stores["S1"], **period}, None) == "UNAUTHENTICATED"
    assert await code(STORE_KPIS, {"id": m.stores["S1"], "f": "2026-10-31", "t": "2026-10-01"}, m.hq) == "INVALID_INPUT"
    assert await code(STORE_KPIS, {"id": m.stores["S1"], "f": "2025-01-01", "t": "2026-10-01"}, m.hq) == "INVALID_INPUT"


async def test_csv_report_has_the_same_figures(world, client):
    # given
    m = world.mall
    url = f"/reports/store/{m.stores['S1']}.csv?from=2026-10-01&to=2026-10-31"
    resp = await client.get(url, headers={"authorization": f"Bearer {m.managers['S1']}", "accept-language": "en"})
    # when
    chinese = await client.get(url, headers={"authorization": f"Bearer {m.managers['S1']}"})
    # then
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    # Chinese headers and scopes by default, the same figures
    zh_lines = chinese.content.decode("utf-8-sig").splitlines()
    assert zh_lines[0].split(",")[:5] == ["范围", "名称", "开始日期", "结束日期", "新会员"]
    assert zh_lines[1].startswith("门店,S1店,") and zh_lines[2].startswith("导购,guide-a,")
    lines = resp.content.decode("utf-8-sig").splitlines()
    assert [ln.split(",")[4:] for ln in lines[1:]] == [ln.split(",")[4:] for ln in zh_lines[1:]]
    header, rows = lines[0].split(","), [dict(zip(lines[0].split(","), ln.split(","))) for ln in lines[1:]]
    assert header[:5] == ["scope", "name", "from", "to", "newMembers"]
    assert [(r["scope"], r["name"]) for r in rows] == [("store", "S1店"), ("guide", "guide-a"), ("guide", "guide-b")]
    assert (rows[0]["newMembers"], rows[0]["purchasingMembers"], rows[0]["onlineGmvFen"], rows[0]["storeGmvFen"]) == (
        "3", "4", "139500", "19800")
    assert (rows[1]["onlineGmvFen"], rows[2]["purchasingMembers"]) == ("79800", "3")
    # when
    # the same doors as the GraphQL field
    other = await client.get(url, headers={"authorization": f"Bearer {m.managers['S2']}"})
    anonymous = await client.get(url)
    bad_date = await client.get(url.replace("2026-10-31", "31/10/2026"),
                                headers={"authorization": f"Bearer {m.managers['S1']}"})
    # then
    assert (other.status_code, anonymous.status_code, bad_date.status_code) == (403, 401, 400)
    assert bad_date.text == "请按 YYYY-MM-DD 填写日期（to）"
