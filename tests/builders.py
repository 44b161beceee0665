"""What tests build on, in one place: the GraphQL client, staff and customers, a small brand
(Shop: stores and staff; Mall: that plus a catalog with stock), the documents they send, and the
helpers that read answers. Fixtures live in conftest.py and only wire these up."""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

import httpx
from sqlalchemy import event, select

from storelink.flows import staffing
from storelink.graphql.relay import from_global_id, to_global_id
from storelink.members.models import JoinCode, Membership
from storelink.payments.sandbox import sign


def pk_of(gid: str) -> int:
    """The primary key inside a global ID (tests that set rows up directly need it)."""
    return int(from_global_id(gid)[1])


def codes_of(payload: dict) -> list[str]:
    """The userError codes of a mutation payload."""
    return [e["code"] for e in payload["userErrors"]]


def top_level_codes(body: dict) -> list[str]:
    """The codes of a response's top-level errors."""
    return [e["extensions"]["code"] for e in body.get("errors", [])]


TEST_SECRET = "test-secret-" + "x" * 40
PHONE_KEY = "test-phone-key-" + "p" * 40
PASSWORD = "correct-horse-battery"
SANDBOX_SECRET = "sandbox-test-secret"


class Api:
    """Posts GraphQL documents the way the mini-program and the tablets do."""

    def __init__(self, client: httpx.AsyncClient):
        self.client = client

    async def post(self, query: str, variables: dict | None = None, token: str | None = None,
                   headers: dict | None = None) -> dict:
        h = {"authorization": f"Bearer {token}"} if token else {}
        h.update(headers or {})
        resp = await self.client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=h)
        assert resp.status_code == 200, resp.text
        return resp.json()

    async def data(self, query: str, variables: dict | None = None, token: str | None = None) -> dict:
        body = await self.post(query, variables, token)
        assert "errors" not in body, body
        return body["data"]


STAFF_LOGIN = """
mutation($u: String!, $p: String!) {
  staffLogin(username: $u, password: $p) {
    accessToken refreshToken expiresIn staff { id name role store { id } }
    userErrors { code field message }
  }
}
"""

WECHAT_LOGIN = """
mutation($code: String!) {
  wechatLogin(code: $code) {
    accessToken refreshToken expiresIn customer { id phoneMasked }
    userErrors { code field message }
  }
}
"""


@dataclass
class World:
    """Staff accounts made directly through the services, and their tokens."""

    api: Api
    sessionmaker: object

    async def staff(self, username: str, role: str = "HQ_ADMIN", store_id: int | None = None):
        async with self.sessionmaker() as session:
            row = await staffing.hire(
                session, actor=None, username=username, password=PASSWORD, name=username,
                role=role, store_id=store_id,
            )
            await session.commit()
        data = await self.api.data(STAFF_LOGIN, {"u": username, "p": PASSWORD})
        return row, data["staffLogin"]["accessToken"]

    async def customer(self, code: str = "wx-alice") -> tuple[str, dict]:
        data = await self.api.data(WECHAT_LOGIN, {"code": code})
        payload = data["wechatLogin"]
        assert payload["userErrors"] == []
        return payload["accessToken"], payload


class StatementCounter:
    def __init__(self, engine):
        self.engine = engine.sync_engine
        self.count = 0

    def _on_execute(self, *args, **kwargs):
        self.count += 1

    def __enter__(self):
        self.count = 0
        event.listen(self.engine, "before_cursor_execute", self._on_execute)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._on_execute)


# ---------------------------------------------------------------- a small brand: stores and staff

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


async def build_shop(api, world) -> Shop:
    """Two stores, their managers, three guides (two at S1), all signed in."""
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


# ---------------------------------------------------------------- the same brand with a catalog

UPSERT_PRODUCT = """
mutation($input: ProductInput!) {
  upsertProduct(input: $input) {
    product { id name category tags skus { id code title priceFen onlineStock } }
    userErrors { code field message }
  }
}
"""
SET_STOCK = """
mutation($input: StockInput!) { setStock(input: $input) { sku { id onlineStock } userErrors { code field message } } }
"""
ADD = """
mutation($sku: ID!, $q: Int!) { addToCart(skuId: $sku, quantity: $q) {
  cart { itemCount subtotalFen lines { id quantity lineTotalFen sku { code } addedByGuide { name } } }
  userErrors { code field message } } }
"""
CHECKOUT = """
mutation($input: CheckoutInput!, $key: String!) { checkout(input: $input, idempotencyKey: $key) {
  order { id orderNo status channel fulfilment subtotalFen discountFen totalFen pointsRedeemed pointsEarned
          pickupCode expiresAt store { code } guide { name } serviceGuide { name }
          lines { quantity unitPriceFen lineTotalFen sku { code } } }
  payment { provider params }
  userErrors { code field message } } }
"""
ME = """
query { me { membership { points tier } cart { itemCount lines { quantity } }
  orders(first: 20) { edges { node { orderNo status totalFen pickupCode } } } } }
"""
RECORD = """
mutation($input: RecordStorePurchaseInput!) { recordStorePurchase(input: $input) {
  order { id orderNo status channel subtotalFen discountFen totalFen pointsEarned store { code } guide { name }
          serviceGuide { name } }
  userErrors { code field message } } }
"""
CREATE_CAMPAIGN = """
mutation($input: CouponCampaignInput!) { createCouponCampaign(input: $input) {
  campaign { id title remaining discountFen minSpendFen } userErrors { code field message } } }
"""
CLAIM = """
mutation($c: ID!) { claimCoupon(campaignId: $c) { coupon { id code status campaign { remaining } }
  userErrors { code field message } } }
"""
MEMBER_CODE = "query { me { memberCode { code } } }"

# name, category, tags, SKUs (code, title, price in fen)
CATALOG = [
    ("COAT", "羊毛大衣", "外套", ["羊毛", "冬季"], [("COAT-M", "驼色 M", 129900), ("COAT-L", "驼色 L", 129900)]),
    ("SCARF", "羊绒围巾", "配饰", ["羊绒", "冬季"], [("SCARF-1", "灰色", 39900)]),
    ("TEE", "Cotton T-shirt 纯棉T恤", "上衣", ["cotton", "summer"], [("TEE-S", "White S", 9900)]),
]


@dataclass
class Mall:
    api: object
    world: object
    sessionmaker: object
    client: object
    hq: str = ""
    stores: dict = field(default_factory=dict)  # code -> id
    managers: dict = field(default_factory=dict)  # store code -> token
    guides: dict = field(default_factory=dict)  # name -> (row, token)
    skus: dict = field(default_factory=dict)  # sku code -> id
    products: dict = field(default_factory=dict)  # product code -> id

    async def setup(self, *, online_stock: int = 50, store_stock: int = 10) -> "Mall":
        _, self.hq = await self.world.staff("hq-root")
        for code, lng in (("S1", 121.47), ("S2", 121.50)):
            payload = await self.api.data(UPSERT_STORE, {"input": {
                "code": code, "name": f"{code}店", "city": "上海", "address": "路", "lat": 31.23, "lng": lng,
                "openingHours": WEEK}}, self.hq)
            self.stores[code] = payload["upsertStore"]["store"]["id"]
        for code in ("S1", "S2"):
            _, self.managers[code] = await self.world.staff(f"mgr-{code}", "STORE_MANAGER", pk_of(self.stores[code]))
        for name, store in (("guide-a", "S1"), ("guide-b", "S1"), ("guide-c", "S2")):
            self.guides[name] = await self.world.staff(name, "GUIDE", pk_of(self.stores[store]))
        for code, name, category, tags, skus in CATALOG:
            payload = await self.api.data(UPSERT_PRODUCT, {"input": {
                "code": code, "name": name, "category": category, "tags": tags, "description": f"{name}，经典款",
                "skus": [{"code": c, "title": t, "priceFen": p} for c, t, p in skus]}}, self.hq)
            product = payload["upsertProduct"]["product"]
            self.products[code] = product["id"]
            for sku in product["skus"]:
                self.skus[sku["code"]] = sku["id"]
        for sku_id in self.skus.values():
            await self.stock(sku_id, None, online_stock)
            for store_id in self.stores.values():
                await self.stock(sku_id, store_id, store_stock)
        return self

    async def stock(self, sku_id: str, store_id: str | None, quantity: int) -> None:
        payload = await self.api.data(SET_STOCK, {"input": {"skuId": sku_id, "storeId": store_id, "quantity": quantity}},
                                      self.hq)
        assert payload["setStock"]["userErrors"] == [], payload

    async def member(self, name: str, guide: str | None = "guide-a", phone: str = "13812345678") -> str:
        """A signed-in customer who joined with a guide's code (or online when guide is None)."""
        token = await member_customer(self.api, self.world, name, phone)
        if guide is None:
            joined = await self.api.data(
                'mutation { joinOnline(consent: {privacyPolicyVersion: "2026-01", marketing: false}) { userErrors { code } } }',
                token=token)
            assert joined["joinOnline"]["userErrors"] == []
        else:
            code = await personal_code(self.sessionmaker, self.guides[guide][0])
            joined = await self.api.data(JOIN, {"code": code}, token)
            assert joined["joinByCode"]["userErrors"] == [], joined
        return token

    async def member_id(self, token: str) -> str:
        customer_pk = await self.customer_pk(token)
        async with self.sessionmaker() as session:
            membership_id = (await session.execute(
                select(Membership.id).where(Membership.customer_id == customer_pk))).scalar_one()
        return to_global_id("MemberProfile", membership_id)

    async def customer_pk(self, token: str) -> int:
        data = await self.api.data("query { me { id } }", token=token)
        return pk_of(data["me"]["id"])

    async def add(self, token: str, sku: str, quantity: int = 1) -> dict:
        return (await self.api.data(ADD, {"sku": self.skus[sku], "q": quantity}, token))["addToCart"]

    async def checkout(self, token: str, key: str = "k1", **input_) -> dict:
        input_.setdefault("fulfilment", "DELIVERY")
        if input_["fulfilment"] == "DELIVERY":
            input_.setdefault("address", "上海市静安区南京西路1号")
        return (await self.api.data(CHECKOUT, {"input": input_, "key": key}, token))["checkout"]

    async def notify(self, order_no: str, amount_fen: int, transaction_id: str = "tx-1",
                     secret: str = SANDBOX_SECRET):
        body = json.dumps({"orderNo": order_no, "amountFen": amount_fen, "transactionId": transaction_id}).encode()
        return await self.client.post("/webhooks/payments/sandbox", content=body,
                                      headers={"X-Sandbox-Signature": sign(secret, body)})

    async def pay(self, order: dict, transaction_id: str | None = None) -> None:
        resp = await self.notify(order["orderNo"], order["totalFen"], transaction_id or f"tx-{order['orderNo']}")
        assert resp.status_code == 200, resp.text

    async def me(self, token: str) -> dict:
        return (await self.api.data(ME, token=token))["me"]

    async def member_code(self, token: str) -> str:
        return (await self.api.data(MEMBER_CODE, token=token))["me"]["memberCode"]["code"]

    async def campaign(self, **input_) -> str:
        now = dt.datetime.now(dt.timezone.utc)
        input_.setdefault("title", "满100减20")
        input_.setdefault("discountFen", 2000)
        input_.setdefault("validFrom", (now - dt.timedelta(hours=1)).isoformat())
        input_.setdefault("validUntil", (now + dt.timedelta(days=7)).isoformat())
        payload = (await self.api.data(CREATE_CAMPAIGN, {"input": input_}, self.hq))["createCouponCampaign"]
        assert payload["userErrors"] == [], payload
        return payload["campaign"]["id"]

    async def claim(self, token: str, campaign_id: str) -> dict:
        return (await self.api.data(CLAIM, {"c": campaign_id}, token))["claimCoupon"]

    async def record(self, token: str, store: str = "S1", receipt: str = "R1", lines=None, **input_) -> dict:
        input_.update(storeId=self.stores[store], receiptNo=receipt,
                      lines=lines if lines is not None
                      else [{"skuId": self.skus["SCARF-1"], "quantity": 1, "unitPriceFen": 39900}])
        return (await self.api.data(RECORD, {"input": input_}, token))["recordStorePurchase"]
