"""Benchmark: online checkout and payment while the stores' tills record sales (issue: orders).
Prints its figures; asserts only the outcome.

    python bench/checkout.py      # DATABASE_URL, or an embedded PostgreSQL in a temp dir

500 members (signed up over HTTP: WeChat login, phone, guide code) each fill a 3-line cart and
check out, and the sandbox provider's payment notification arrives; 50 at a time, while 100
store purchases are recorded from the tablets. 300 members hold a coupon and 200 of them use it
online. One uvicorn worker; the fake WeChat in its own process. Afterwards stock, points and
coupon counts must add up exactly.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import secrets
import statistics
import sys
import time

import aiohttp

import common  # noqa: E402  (puts src/ on the path)

MEMBERS = 500
STORE_SALES = 100
COUPON_HOLDERS = 300
COUPON_USERS = 200
CONCURRENCY = 50
SKUS = 30
ONLINE_STOCK = 10_000
STORE_STOCK = 1_000
SANDBOX_SECRET = "bench-sandbox-secret"

LOGIN = "mutation($c: String!) { wechatLogin(code: $c) { accessToken userErrors { code } } }"
BIND = "mutation($c: String!) { bindPhone(code: $c) { userErrors { code } } }"
JOIN = """mutation($c: String!) { joinByCode(code: $c, consent: {privacyPolicyVersion: "2026-01", marketing: true}) {
  userErrors { code } } }"""
STAFF_LOGIN = "mutation($u: String!, $p: String!) { staffLogin(username: $u, password: $p) { accessToken } }"
ME = "query { me { membership { memberNo } } }"
CLAIM = "mutation($c: ID!) { claimCoupon(campaignId: $c) { coupon { id } userErrors { code } } }"
ADD = "mutation($s: ID!, $q: Int!) { addToCart(skuId: $s, quantity: $q) { userErrors { code } } }"
CHECKOUT = """mutation($input: CheckoutInput!, $key: String!) { checkout(input: $input, idempotencyKey: $key) {
  order { orderNo totalFen } payment { provider } userErrors { code } } }"""
RECORD = """mutation($input: RecordStorePurchaseInput!) { recordStorePurchase(input: $input) {
  order { orderNo } userErrors { code } } }"""


async def setup(url: str) -> dict:
    import datetime as dt

    from storelink import db
    from storelink.flows import staffing
    from storelink.catalog import service as catalog
    from storelink.clock import utcnow
    from storelink.graphql.relay import to_global_id
    from storelink.loyalty import service as loyalty
    from storelink.members.join_codes import personal_codes
    from storelink.stores import service as stores

    engine = db.create_engine(url)
    async with db.create_sessionmaker(engine)() as session:
        hq = await staffing.hire(session, actor=None, username="bench-hq", password="bench-password",
                                         name="HQ", role="HQ_ADMIN", store_id=None)
        world = {"stores": [], "guides": [], "codes": [], "skus": []}
        for i in range(2):
            store = await stores.upsert_store(
                session, actor=hq, code=f"B{i}", name=f"店{i}", city="上海", address="路", phone=None,
                lat=31.23, lng=121.47 + i / 100, coord_system="GCJ02", timezone="Asia/Shanghai",
                opening_hours=[{"weekday": d, "opens": "00:00", "closes": "24:00"} for d in range(1, 8)])
            guide = await staffing.hire(session, actor=hq, username=f"bench-guide{i}",
                                                password="bench-password", name=f"导购{i}", role="GUIDE",
                                                store_id=store.id)
            world["stores"].append(store.id)
            world["guides"].append(f"bench-guide{i}")
            world["codes"].append((await personal_codes(session, [guide.id]))[guide.id].code)
        for p in range(SKUS):
            product = await catalog.upsert_product(
                session, actor=hq, code=f"P{p}", name=f"商品{p}", description=None, category=f"类{p % 5}",
                tags=[], image_url=None, skus=[catalog.SkuSpec(f"P{p}-1", "均码", 1000 + 137 * p)])
            sku = (await catalog.skus_by_product(session, [product.id]))[product.id][0]
            await catalog.set_stock(session, actor=hq, sku_id=sku.id, store_id=None, quantity=ONLINE_STOCK)
            for store_id in world["stores"]:
                await catalog.set_stock(session, actor=hq, sku_id=sku.id, store_id=store_id, quantity=STORE_STOCK)
            world["skus"].append((sku.id, to_global_id("Sku", sku.id), sku.price_fen))
        campaign = await loyalty.create_campaign(
            session, actor=hq, title="满减", discount_fen=500, min_spend_fen=0, valid_from=utcnow(),
            valid_until=utcnow() + dt.timedelta(days=1), total_quantity=COUPON_HOLDERS, per_customer_limit=1)
        world["campaign"] = to_global_id("CouponCampaign", campaign.id)
        world["store_gids"] = [to_global_id("Store", s) for s in world["stores"]]
        await session.commit()
    await engine.dispose()
    return world



async def verify(url: str, world: dict, checked_out: list[dict], store_lines: dict) -> bool:
    from sqlalchemy import func, select

    from storelink import db
    from storelink.catalog.models import Sku, StoreStock
    from storelink.loyalty.models import Coupon, CouponCampaign, PointsEntry
    from storelink.orders.models import Order, OrderLine

    engine = db.create_engine(url)
    ok = True
    async with db.create_sessionmaker(engine)() as session:
        sold_online = dict((await session.execute(
            select(OrderLine.sku_id, func.sum(OrderLine.quantity)).join(Order, Order.id == OrderLine.order_id)
            .where(Order.channel == "ONLINE").group_by(OrderLine.sku_id))).all())
        for sku_id, _, _ in world["skus"]:
            online = (await session.get(Sku, sku_id)).online_stock
            if online != ONLINE_STOCK - sold_online.get(sku_id, 0):
                ok = False
                print(f"stock mismatch online for SKU {sku_id}")
            for store_id in world["stores"]:
                left = (await session.get(StoreStock, (sku_id, store_id))).quantity
                if left != STORE_STOCK - store_lines.get((sku_id, store_id), 0):
                    ok = False
                    print(f"stock mismatch at store {store_id} for SKU {sku_id}")
        paid = (await session.execute(select(func.count()).select_from(Order).where(
            Order.channel == "ONLINE", Order.status == "PAID"))).scalar_one()
        store_orders = (await session.execute(select(func.count()).select_from(Order).where(
            Order.channel == "STORE"))).scalar_one()
        points = (await session.execute(select(func.coalesce(func.sum(PointsEntry.delta), 0)))).scalar_one()
        due_points = (await session.execute(select(func.coalesce(func.sum(Order.total_fen // 100), 0)).where(
            Order.status.in_(["PAID", "COMPLETED"]), Order.customer_id.is_not(None)))).scalar_one()
        earned = (await session.execute(select(func.coalesce(func.sum(Order.points_earned), 0)))).scalar_one()
        coupons = (await session.execute(select(func.count()).select_from(Coupon))).scalar_one()
        redeemed = (await session.execute(select(func.count()).select_from(Coupon).where(
            Coupon.status == "REDEEMED"))).scalar_one()
        with_coupon = (await session.execute(select(func.count()).select_from(Order).where(
            Order.coupon_id.is_not(None)))).scalar_one()
        claimed = (await session.execute(select(CouponCampaign.claimed))).scalar_one()
    await engine.dispose()
    checks = {
        f"online orders paid = {MEMBERS}": paid == MEMBERS == len(checked_out),
        f"store orders = {STORE_SALES}": store_orders == STORE_SALES,
        "points ledger = 1 per whole yuan of every member's paid order": points == due_points == earned > 0,
        f"coupons claimed = {COUPON_HOLDERS} = campaign count": coupons == claimed == COUPON_HOLDERS,
        f"coupons redeemed = orders with a coupon = {COUPON_USERS}": redeemed == with_coupon == COUPON_USERS,
    }
    for name, passed in checks.items():
        print(f"check: {name}: {'OK' if passed else 'MISMATCH'}")
        ok = ok and passed
    print(f"       ({paid} paid online, {store_orders} store, {points} points, {redeemed} coupons used)")
    return ok


async def main() -> None:
    url = await common.database()
    world = await setup(url)
    jwt_secret = secrets.token_urlsafe(48)
    wx_port, api_port = 18811, 18810
    env = {**os.environ, "DATABASE_URL": url, "JWT_SECRET": jwt_secret, "PAYMENT_SANDBOX_SECRET": SANDBOX_SECRET,
           "WECHAT_API_BASE": f"http://127.0.0.1:{wx_port}", "WECHAT_APPID": "wx-fake-appid",
           "WECHAT_SECRET": "fake-secret"}
    fake = common.start_uvicorn("storelink.wechat.fake:fake_app", env, wx_port)
    api = common.start_uvicorn("storelink.app:create_app", env, api_port)
    timings: dict[str, list[float]] = {"addToCart": [], "checkout": [], "payment notification": [],
                                       "recordStorePurchase": []}
    failures: list = []
    checked_out: list[dict] = []
    store_lines: dict = {}
    try:
        semaphore = asyncio.Semaphore(CONCURRENCY)
        # aiohttp, as bench/join_burst.py: the load generator shares the two cores with the server,
        # and httpx cost 19-27 ms of CPU per order here, most of the server's own.
        connector = aiohttp.TCPConnector(limit=CONCURRENCY + 10)
        async with aiohttp.ClientSession(f"http://127.0.0.1:{api_port}", connector=connector,
                                         timeout=aiohttp.ClientTimeout(total=60)) as client:
            async def gql(query, variables, token=None, step=None):
                headers = {"authorization": f"Bearer {token}"} if token else {}
                t0 = time.perf_counter()
                async with client.post("/graphql", json={"query": query, "variables": variables},
                                       headers=headers) as resp:
                    resp.raise_for_status()
                    body = await resp.json()
                if step:
                    timings[step].append((time.perf_counter() - t0) * 1000)
                if "errors" in body:
                    raise RuntimeError(body["errors"])
                return body["data"]

            async def sign_up(i: int) -> tuple[str, str | None]:
                async with semaphore:
                    token = (await gql(LOGIN, {"c": f"shopper-{i}"}))["wechatLogin"]["accessToken"]
                    await gql(BIND, {"c": f"phone-138{i:08d}"}, token)
                    await gql(JOIN, {"c": world["codes"][i % 2]}, token)
                    coupon = None
                    if i < COUPON_HOLDERS:
                        coupon = (await gql(CLAIM, {"c": world["campaign"]}, token))["claimCoupon"]["coupon"]["id"]
                    return token, coupon

            print(f"signing up {MEMBERS} members ...", flush=True)
            members = await asyncio.gather(*[sign_up(i) for i in range(MEMBERS)])
            guide_tokens = [(await gql(STAFF_LOGIN, {"u": u, "p": "bench-password"}))["staffLogin"]["accessToken"]
                            for u in world["guides"]]

            async def shop(i: int, token: str, coupon: str | None) -> None:
                async with semaphore:
                    for k in range(3):
                        _, sku_gid, _ = world["skus"][(i * 7 + k * 11) % SKUS]
                        added = (await gql(ADD, {"s": sku_gid, "q": 1 + (i + k) % 2}, token, "addToCart"))["addToCart"]
                        if added["userErrors"]:
                            failures.append(added)
                    use = {"couponId": coupon} if coupon and i < COUPON_USERS else {}
                    placed = (await gql(CHECKOUT, {"input": {"fulfilment": "DELIVERY", "address": "上海市", **use},
                                                   "key": f"bench-{i}"}, token, "checkout"))["checkout"]
                    if placed["userErrors"]:
                        failures.append(placed)
                        return
                    order = placed["order"]
                    body = json.dumps({"orderNo": order["orderNo"], "amountFen": order["totalFen"],
                                       "transactionId": f"wx-{order['orderNo']}"}).encode()
                    signature = hmac.new(SANDBOX_SECRET.encode(), body, hashlib.sha256).hexdigest()
                    t0 = time.perf_counter()
                    async with client.post("/webhooks/payments/sandbox", data=body,
                                           headers={"X-Sandbox-Signature": signature}) as resp:
                        answer = await resp.text()
                    timings["payment notification"].append((time.perf_counter() - t0) * 1000)
                    if resp.status != 200:
                        failures.append(answer)
                        return
                    checked_out.append(order)

            async def till(n: int) -> None:
                async with semaphore:
                    store = n % 2
                    lines = []
                    for k in range(2):
                        sku_id, sku_gid, price = world["skus"][(n * 5 + k * 3) % SKUS]
                        lines.append({"skuId": sku_gid, "quantity": 1 + k, "unitPriceFen": price})
                        key = (sku_id, world["stores"][store])
                        store_lines[key] = store_lines.get(key, 0) + 1 + k
                    recorded = (await gql(RECORD, {"input": {"storeId": world["store_gids"][store],
                                                             "receiptNo": f"POS-{n}", "lines": lines}},
                                          guide_tokens[store], "recordStorePurchase"))["recordStorePurchase"]
                    if recorded["userErrors"]:
                        failures.append(recorded)

            print("checking out ...", flush=True)
            jobs = [shop(i, token, coupon) for i, (token, coupon) in enumerate(members)]
            # The tills ring up sales all through the online rush.
            jobs[::5] = [asyncio.gather(job, till(n)) for n, job in enumerate(jobs[::5])]
            async with common.Meter(f"http://127.0.0.1:{api_port}", api.pid) as meter:
                started = time.perf_counter()
                await asyncio.gather(*jobs)
                elapsed = time.perf_counter() - started
    finally:
        common.stop(api, fake)

    print(f"{MEMBERS} members x 3-line cart, {CONCURRENCY} at a time, with {STORE_SALES} store purchases; "
          "one uvicorn worker, PostgreSQL on the same 2 cores")
    print(f"online orders placed and paid: {len(checked_out) / elapsed:.1f} orders/s "
          f"({len(checked_out)} in {elapsed:.1f} s, store purchases included in the time)")
    print(meter.per(len(checked_out), "online order")
          + f" (3 x addToCart, checkout, payment notification; the {STORE_SALES} store purchases included)")
    for step, values in timings.items():
        if values:
            print(f"  {step:<22} n={len(values):<5} p50 {statistics.median(values):6.0f} ms   "
                  f"p95 {common.percentile(values, .95):6.0f} ms")
    print(f"failures: {len(failures)}{' ' + str(failures[:3]) if failures else ''}")
    if not await verify(url, world, checked_out, store_lines) or failures:
        sys.exit(1)


if __name__ == "__main__":
    asyncio.run(main())
