"""The payment webhook is open to the internet: whatever arrives (bytes in headers, signed bodies
with NUL, lone surrogates, deep nesting, absurd amounts), the answer is a 4xx and nothing changes."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from storelink.orders.models import Order, PaymentNotice
from storelink.payments.sandbox import sign
from tests.builders import SANDBOX_SECRET

URL = "/webhooks/payments/sandbox"


async def _pending_order(mall) -> dict:
    token = await mall.member("payer")
    await mall.add(token, "SCARF-1")
    return (await mall.checkout(token))["order"]


async def _nothing_changed(sessionmaker, order_no: str) -> None:
    async with sessionmaker() as session:
        status = (await session.execute(select(Order.status).where(Order.order_no == order_no))).scalar_one()
        notices = (await session.execute(select(func.count()).select_from(PaymentNotice))).scalar_one()
    assert (status, notices) == ("PENDING_PAYMENT", 0)


@pytest.mark.parametrize("signature", [b"\xff\xfe", "签名".encode(), b"\xe9t\xe9", b"a" * 5000])
async def test_odd_bytes_in_the_signature_header_are_401(http, mall, sessionmaker, signature):
    # given
    order = await _pending_order(mall)
    body = json.dumps({"orderNo": order["orderNo"], "amountFen": order["totalFen"], "transactionId": "t1"}).encode()
    # when
    resp = await http.post(URL, content=body, headers=[(b"x-sandbox-signature", signature)])
    # then
    assert resp.status_code == 401
    # when
    await _nothing_changed(sessionmaker, order["orderNo"])


def _signed_bodies(order: dict) -> list[bytes]:
    deep = b"[" * 100_000 + b"]" * 100_000
    base = {"orderNo": order["orderNo"], "amountFen": order["totalFen"], "transactionId": "t1"}
    return [
        json.dumps({**base, "orderNo": order["orderNo"] + "\x00"}).encode(),
        json.dumps({**base, "transactionId": "t\ud800"}).encode(),
        json.dumps({**base, "orderNo": "\udfff"}).encode(),
        deep,
        b'{"orderNo": ' + deep + b"}",
        json.dumps({**base, "amountFen": 2**63}).encode(),
        json.dumps({**base, "amountFen": -5}).encode(),
        json.dumps({**base, "amountFen": True}).encode(),
        json.dumps({**base, "amountFen": 1.5}).encode(),
        json.dumps({**base, "transactionId": "x" * 65}).encode(),
        json.dumps({**base, "orderNo": 5}).encode(),
        json.dumps([base]).encode(),
        b"\xff\xfe\x00",
        b"null",
    ]


async def test_signed_but_malformed_bodies_are_4xx_and_change_nothing(http, mall, sessionmaker):
    order = await _pending_order(mall)
    for body in _signed_bodies(order):
        # when a correctly signed body carries what no provider sends
        resp = await http.post(URL, content=body, headers={"x-sandbox-signature": sign(SANDBOX_SECRET, body)})
        # then it is refused
        assert 400 <= resp.status_code < 500, (body[:80], resp.status_code)
    await _nothing_changed(sessionmaker, order["orderNo"])


async def test_a_large_body_is_413(http):
    # when
    resp = await http.post(URL, content=b"x" * 200_000, headers={"x-sandbox-signature": "0"})
    # then
    assert resp.status_code == 413


async def test_a_good_notification_still_pays(http, mall):
    # given
    order = await _pending_order(mall)
    body = json.dumps({"orderNo": order["orderNo"], "amountFen": order["totalFen"], "transactionId": "t-ok"}).encode()
    # when
    resp = await http.post(URL, content=body, headers={"x-sandbox-signature": sign(SANDBOX_SECRET, body)})
    # then
    assert resp.status_code == 200


@pytest.mark.parametrize("timestamp", ["²³", "1" * 40, "-1", ""])
async def test_wechat_pay_headers_with_odd_timestamps_are_refused(timestamp):
    # given
    from storelink.payments.base import BadNotification
    from storelink.payments.wechatpay import WeChatPayProvider

    provider = object.__new__(WeChatPayProvider)  # only _verify's header checks run before the key is needed
    # when / then
    with pytest.raises(BadNotification):
        provider._verify({"wechatpay-timestamp": timestamp, "wechatpay-nonce": "n", "wechatpay-signature": "s"}, "{}")
