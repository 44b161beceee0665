"""Payment notifications: the sandbox provider and WeChat Pay v3 (keys generated here, the fake
WeChat Pay on 127.0.0.1 answering the prepay call)."""
import asyncio
import json

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import func, select

from storelink.app import create_app
from storelink.loyalty.models import PointsEntry
from storelink.orders.models import PaymentNotice
from storelink.wechat.fakepay import FakeWeChatPay
from tests.builders import Mall, codes_of


async def placed_order(mall, name="alice", sku="SCARF-1") -> tuple[str, dict]:
    token = await mall.member(name)
    await mall.add(token, sku, 1)
    return token, (await mall.checkout(token))["order"]


async def test_bad_notifications_change_nothing(mall, caplog):
    alice, order = await placed_order(mall)
    # when
    forged = await mall.notify(order["orderNo"], order["totalFen"], secret="not-the-secret")
    unknown = await mall.notify("20260101000000999", order["totalFen"])
    wrong_amount = await mall.notify(order["orderNo"], order["totalFen"] - 1)
    malformed = await mall.client.post("/webhooks/payments/sandbox", content=b"{}",
                                       headers={"X-Sandbox-Signature": "00"})
    no_provider = await mall.client.post("/webhooks/payments/alipay", content=b"{}")
    # then
    assert [r.status_code for r in (forged, unknown, wrong_amount, malformed, no_provider)] == [401, 404, 400, 401, 404]
    assert forged.json()["code"] == "FAIL"
    assert (await mall.me(alice))["orders"]["edges"][0]["node"]["status"] == "PENDING_PAYMENT"
    assert "wrong amount" in caplog.text and "unknown order" in caplog.text
    async with mall.sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(PaymentNotice))).scalar_one() == 0


async def test_same_notification_five_times_at_once_pays_once(mall):
    alice, order = await placed_order(mall)
    # when
    results = await asyncio.gather(*(mall.notify(order["orderNo"], order["totalFen"], "tx-same") for _ in range(5)))
    # then
    assert [r.status_code for r in results] == [200] * 5
    me = await mall.me(alice)
    assert me["orders"]["edges"][0]["node"]["status"] == "PAID"
    assert me["membership"]["points"] == 399
    async with mall.sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(PaymentNotice))).scalar_one() == 1
        assert (await session.execute(select(func.count()).select_from(PointsEntry))).scalar_one() == 1


async def test_a_second_transaction_for_a_paid_order_is_kept_but_changes_nothing(mall, caplog):
    # given
    alice, order = await placed_order(mall)
    await mall.pay(order, "tx-1")
    # when
    again = await mall.notify(order["orderNo"], order["totalFen"], "tx-2")
    # then
    assert again.status_code == 200
    assert "refund it by hand" in caplog.text
    assert (await mall.me(alice))["membership"]["points"] == 399


async def test_no_payment_provider_means_no_checkout(mall, app, monkeypatch):
    # given
    alice = await mall.member("alice")
    await mall.add(alice, "SCARF-1", 1)
    monkeypatch.setattr(app.state.payments, "default", None)
    # when
    payload = await mall.checkout(alice)
    # then
    assert codes_of(payload) == ["UPSTREAM_UNAVAILABLE"]
    assert (await mall.me(alice))["cart"]["itemCount"] == 1


# ------------------------------------------------------------------ WeChat Pay v3

def _pem_private(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _pem_public(key) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


@pytest.fixture(scope="module")
def pay_keys():
    return {name: rsa.generate_private_key(public_exponent=65537, key_size=2048)
            for name in ("merchant", "platform", "intruder")}


@pytest.fixture
async def wechatpay_app(settings, wechat_server, pay_keys, tmp_path):
    """The app with WeChat Pay configured, talking to the fake WeChat Pay."""
    (tmp_path / "merchant.pem").write_bytes(_pem_private(pay_keys["merchant"]))
    (tmp_path / "platform.pem").write_bytes(_pem_public(pay_keys["platform"]))
    apiv3 = "0123456789abcdef0123456789abcdef"
    fake = FakeWeChatPay(appid=settings.wechat_appid, mchid="1900000109",
                         merchant_public_key=pay_keys["merchant"].public_key(),
                         platform_private_key=pay_keys["platform"], apiv3_key=apiv3)
    wechat_server.fake.pay = fake
    configured = settings.model_copy(update={
        "wechatpay_mchid": "1900000109", "wechatpay_cert_serial": "MERCHANTSERIAL",
        "wechatpay_private_key_file": tmp_path / "merchant.pem",
        "wechatpay_platform_public_key_file": tmp_path / "platform.pem", "wechatpay_apiv3_key": apiv3,
        "wechatpay_api_base": wechat_server.base_url,
    })
    application = create_app(configured)
    async with application.router.lifespan_context(application):
        yield application, fake
    wechat_server.fake.pay = None


@pytest.fixture
async def paymall(wechatpay_app, world, sessionmaker):
    from tests.builders import Api

    application, fake = wechatpay_app
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        api = Api(c)
        world.api = api
        yield await Mall(api, world, sessionmaker, c).setup(), fake


async def test_wechatpay_prepay_is_signed_and_the_notification_verified(paymall, pay_keys):
    mall, fake = paymall
    alice, order = await placed_order(mall)
    # the prepay call reached WeChat Pay signed with the merchant key (the fake checks it)
    assert fake.orders[order["orderNo"]]["amount"] == {"total": 39900, "currency": "CNY"}
    again = await mall.checkout(alice)  # the same key: the same order, payment asked for again
    params = json.loads(again["payment"]["params"])
    assert again["payment"]["provider"] == "wechatpay"
    assert params["signType"] == "RSA" and params["package"].startswith("prepay_id=wx")
    from storelink.payments.wechatpay import rsa_verify

    message = f"{params['appId']}\n{params['timeStamp']}\n{params['nonceStr']}\n{params['package']}\n"
    assert rsa_verify(pay_keys["merchant"].public_key(), message, params["paySign"])
    # when: WeChat Pay notifies
    headers, body = fake.notification(order_no=order["orderNo"], amount_fen=39900, transaction_id="4200001")
    resp = await mall.client.post("/webhooks/payments/wechatpay", content=body, headers=headers)
    # then
    assert resp.status_code == 200 and resp.json() == {"code": "SUCCESS"}
    me = await mall.me(alice)
    assert me["orders"]["edges"][0]["node"]["status"] == "PAID" and me["membership"]["points"] == 399


async def test_wechatpay_notifications_that_do_not_verify_change_nothing(paymall, pay_keys):
    # given
    mall, fake = paymall
    alice, order = await placed_order(mall)
    import time

    # when
    forged = fake.notification(order_no=order["orderNo"], amount_fen=39900, transaction_id="t1",
                               signer=pay_keys["intruder"])
    stale = fake.notification(order_no=order["orderNo"], amount_fen=39900, transaction_id="t2",
                              timestamp=int(time.time()) - 3600)
    headers, body = fake.notification(order_no=order["orderNo"], amount_fen=39900, transaction_id="t3")
    tampered = (headers, body.replace(b'"summary"', b'"summarY"'))
    failed = fake.notification(order_no=order["orderNo"], amount_fen=39900, transaction_id="t4",
                               trade_state="PAYERROR")
    statuses = []
    for h, b in (forged, stale, tampered, failed):
        statuses.append((await mall.client.post("/webhooks/payments/wechatpay", content=b, headers=h)).status_code)
    # then
    assert statuses == [401, 401, 401, 200]  # a verified failure report is acknowledged, nothing else
    assert (await mall.me(alice))["orders"]["edges"][0]["node"]["status"] == "PENDING_PAYMENT"


async def test_wechatpay_unavailable_keeps_the_order_for_a_retry(paymall):
    # given
    mall, fake = paymall
    alice = await mall.member("alice")
    await mall.add(alice, "SCARF-1", 1)
    fake.refuse_next = 1
    first = await mall.checkout(alice, key="retry")
    # when
    second = await mall.checkout(alice, key="retry")
    # then
    assert codes_of(first) == ["UPSTREAM_UNAVAILABLE"] and first["order"]["status"] == "PENDING_PAYMENT"
    assert second["userErrors"] == [] and second["order"]["orderNo"] == first["order"]["orderNo"]
    assert second["payment"]["provider"] == "wechatpay"




# ------------------------------------------------------------------ WeChat Pay v3 refunds

REFUND_ORDER = """mutation($id: ID!) { refundOrder(id: $id, reason: "顾客取消") {
  order { status refundedFen } userErrors { code } } }"""
RECEIVE = """mutation($o: ID!, $s: ID!, $l: [ReturnLineInput!]!) {
  receiveReturn(orderId: $o, storeId: $s, lines: $l, reason: "不喜欢") {
    returnRequest { id status refundFen refundFailure } userErrors { code } } }"""
RETURN = "query($id: ID!) { node(id: $id) { ... on ReturnRequest { status refundFen refundFailure } } }"
RETRY = "mutation($o: ID!) { retryRefunds(orderId: $o) { order { refundedFen } userErrors { code } } }"


async def _paid_on_wechatpay(mall, fake, name="alice", quantity=2) -> tuple[str, dict]:
    token = await mall.member(name)
    await mall.add(token, "SCARF-1", quantity)
    order = (await mall.checkout(token))["order"]
    headers, body = fake.notification(order_no=order["orderNo"], amount_fen=order["totalFen"],
                                      transaction_id="42" + order["orderNo"])
    assert (await mall.client.post("/webhooks/payments/wechatpay", content=body, headers=headers)).status_code == 200
    return token, order


async def _delivered(mall, token, order) -> str:
    data = await mall.api.data("""query($id: ID!) { node(id: $id) { ... on Order {
        lines { id } shipments { id } } } }""", {"id": order["id"]}, token)
    shipment = data["node"]["shipments"][0]["id"]
    for mutation in ("packShipment(id: $id)", 'shipShipment(id: $id, carrier: "EMS", trackingNo: "E1")',
                     "markDelivered(id: $id)"):
        await mall.api.data(f"mutation($id: ID!) {{ {mutation} {{ userErrors {{ code }} }} }}", {"id": shipment},
                            mall.hq)
    return data["node"]["lines"][0]["id"]


async def test_a_return_is_refunded_through_wechatpay_and_confirmed_by_its_notification(paymall, pay_keys):
    # given: two scarves paid with WeChat Pay and delivered
    mall, fake = paymall
    alice, order = await _paid_on_wechatpay(mall, fake)
    line = await _delivered(mall, alice, order)
    # when: one comes back at S1
    data = await mall.api.data(RECEIVE, {"o": order["id"], "s": mall.stores["S1"],
                                         "l": [{"orderLineId": line, "quantity": 1}]}, mall.managers["S1"])
    # then: WeChat Pay was asked, signed (the fake checks), for the scarf's share of the order
    back = data["receiveReturn"]["returnRequest"]
    assert (back["status"], back["refundFen"], back["refundFailure"]) == ("RECEIVED", 39900, None)
    (refund_no, asked), = fake.refunds.items()
    assert asked["out_trade_no"] == order["orderNo"]
    assert asked["amount"] == {"refund": 39900, "total": 79800, "currency": "CNY"}
    # when: notifications arrive: forged, for another amount, then the real one twice
    forged = fake.refund_notification(refund_no=refund_no, signer=pay_keys["intruder"])
    wrong = fake.refund_notification(refund_no=refund_no, amount_fen=39899)
    real = fake.refund_notification(refund_no=refund_no)
    statuses = []
    for headers, body in (forged, wrong):
        statuses.append((await mall.client.post("/webhooks/payments/wechatpay", content=body, headers=headers)).status_code)
    assert statuses == [401, 400]
    assert (await mall.api.data(RETURN, {"id": back["id"]}, alice))["node"]["status"] == "RECEIVED"
    for _ in range(2):
        resp = await mall.client.post("/webhooks/payments/wechatpay", content=real[1], headers=real[0])
        assert resp.status_code == 200
    # then: refunded once
    assert (await mall.api.data(RETURN, {"id": back["id"]}, alice))["node"]["status"] == "REFUNDED"
    assert fake.refund_requests == 1


async def test_a_refund_wechatpay_refuses_keeps_its_reason_and_can_be_retried(paymall):
    # given: WeChat Pay will refuse the next refund (the merchant balance is short)
    mall, fake = paymall
    alice, order = await _paid_on_wechatpay(mall, fake, quantity=1)
    line = await _delivered(mall, alice, order)
    fake.refuse_refunds = 1
    # when
    data = await mall.api.data(RECEIVE, {"o": order["id"], "s": mall.stores["S1"],
                                         "l": [{"orderLineId": line, "quantity": 1}]}, mall.managers["S1"])
    # then: the goods are received, the refund stands refused with WeChat Pay's reason
    back = data["receiveReturn"]["returnRequest"]
    assert back["status"] == "RECEIVED" and back["refundFailure"].startswith("NOT_ENOUGH")
    # when: the manager asks again, WeChat Pay accepts, and later confirms
    retried = await mall.api.data(RETRY, {"o": order["id"]}, mall.managers["S1"])
    assert retried["retryRefunds"] == {"order": {"refundedFen": 39900}, "userErrors": []}
    assert (await mall.api.data(RETURN, {"id": back["id"]}, alice))["node"]["refundFailure"] is None
    (refund_no, _), = fake.refunds.items()
    headers, body = fake.refund_notification(refund_no=refund_no)
    assert (await mall.client.post("/webhooks/payments/wechatpay", content=body, headers=headers)).status_code == 200
    assert (await mall.api.data(RETURN, {"id": back["id"]}, alice))["node"]["status"] == "REFUNDED"
    # another store's guide may not ask for it
    other = await mall.api.data(RETRY, {"o": order["id"]}, mall.guides["guide-c"][1])
    assert codes_of(other["retryRefunds"]) == ["FORBIDDEN"]


async def test_refund_order_goes_through_wechatpay_too(paymall):
    # given
    mall, fake = paymall
    alice, order = await _paid_on_wechatpay(mall, fake)
    # when
    data = await mall.api.data(REFUND_ORDER, {"id": order["id"]}, mall.hq)
    # then
    assert data["refundOrder"]["order"] == {"status": "REFUNDED", "refundedFen": 79800}
    (refund_no, asked), = fake.refunds.items()
    assert asked["amount"]["refund"] == 79800 and asked["out_trade_no"] == order["orderNo"]


async def test_an_unknown_refund_notification_changes_nothing(paymall):
    # given: a refund WeChat Pay knows of, but not ours
    mall, fake = paymall
    fake.refunds["RF-not-ours"] = {"out_trade_no": "x", "refund_id": "50x", "out_refund_no": "RF-not-ours",
                                   "amount": {"refund": 100, "total": 100}}
    headers, body = fake.refund_notification(refund_no="RF-not-ours")
    # when
    resp = await mall.client.post("/webhooks/payments/wechatpay", content=body, headers=headers)
    # then
    assert resp.status_code == 404


# ------------------------------------------------------------------ paying in the demo

@pytest.mark.parametrize("mode", [{"debug": True}, {"demo": True}])
async def test_the_demo_pays_an_order_through_the_sandbox(mall, settings, mode):
    # given an order waiting for payment, and a server in DEBUG or demo mode on the same database
    alice, order = await placed_order(mall)
    demo = create_app(settings.model_copy(update=mode))
    async with demo.router.lifespan_context(demo):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=demo), base_url="http://demo") as client:
            # when the developer asks for it to be paid, twice
            paid = await client.post(f"/demo/pay/{order['orderNo']}")
            again = await client.post(f"/demo/pay/{order['orderNo']}")
            unknown = await client.post("/demo/pay/20260101000000999")
            odd = await client.post("/demo/pay/%00abc")
    # then it is paid once, as a signed sandbox notification would pay it
    assert (paid.status_code, paid.json()) == (200, {"orderNo": order["orderNo"], "status": "PAID"})
    assert (again.status_code, again.json()["status"]) == (200, "PAID")
    assert unknown.status_code == odd.status_code == 404
    assert (await mall.me(alice))["orders"]["edges"][0]["node"]["status"] == "PAID"
    async with mall.sessionmaker() as session:
        notices = (await session.execute(select(PaymentNotice.provider, PaymentNotice.outcome))).all()
    assert notices == [("sandbox", "PAID")]


async def test_there_is_no_demo_payment_in_production(mall):
    # given
    alice, order = await placed_order(mall)
    # when
    resp = await mall.client.post(f"/demo/pay/{order['orderNo']}")
    # then
    assert resp.status_code == 404
    assert (await mall.me(alice))["orders"]["edges"][0]["node"]["status"] == "PENDING_PAYMENT"
