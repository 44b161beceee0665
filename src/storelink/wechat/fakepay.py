"""A fake of WeChat Pay v3 for tests: the JSAPI prepay and refund endpoints, and signed, encrypted
payment and refund notifications, with keys the tests generate. It checks our request signatures the way WeChat
Pay does and signs what it sends with the "platform" key, so our verification code runs for real.
"""
from __future__ import annotations

import base64
import json
import re
import secrets
import time
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from storelink.payments.wechatpay import JSAPI_PATH, REFUND_PATH, rsa_sign, rsa_verify, signed_message

_AUTH = re.compile(r'(\w+)="([^"]*)"')


@dataclass
class FakeWeChatPay:
    appid: str
    mchid: str
    merchant_public_key: rsa.RSAPublicKey
    platform_private_key: rsa.RSAPrivateKey
    apiv3_key: str
    platform_serial: str = "FAKEPLATFORMSERIAL"
    orders: dict[str, dict] = field(default_factory=dict)  # out_trade_no -> the prepay request
    refuse_next: int = 0  # the next N prepay requests fail with HTTP 500
    refunds: dict[str, dict] = field(default_factory=dict)  # out_refund_no -> the refund request
    refund_requests: int = 0  # refund calls received, repeats included
    refuse_refunds: int = 0  # the next N refund requests are refused (balance short)

    def _signed(self, status: int, payload: dict) -> Response:
        body = json.dumps(payload)
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        return Response(body, status_code=status, media_type="application/json", headers={
            "Wechatpay-Timestamp": timestamp, "Wechatpay-Nonce": nonce, "Wechatpay-Serial": self.platform_serial,
            "Wechatpay-Signature": rsa_sign(self.platform_private_key, signed_message(timestamp, nonce, body)),
        })

    def _signed_by_merchant(self, request: Request, path: str, body: str) -> bool:
        auth = request.headers.get("authorization", "")
        fields = dict(_AUTH.findall(auth))
        message = f"POST\n{path}\n{fields.get('timestamp')}\n{fields.get('nonce_str')}\n{body}\n"
        return (auth.startswith("WECHATPAY2-SHA256-RSA2048 ") and fields.get("mchid") == self.mchid
                and rsa_verify(self.merchant_public_key, message, fields.get("signature", "")))

    async def jsapi(self, request: Request) -> Response:
        body = (await request.body()).decode()
        if not self._signed_by_merchant(request, JSAPI_PATH, body):
            return JSONResponse({"code": "SIGN_ERROR", "message": "签名错误"}, status_code=401)
        if self.refuse_next > 0:
            self.refuse_next -= 1
            return JSONResponse({"code": "SYSTEM_ERROR", "message": "系统错误"}, status_code=500)
        order = json.loads(body)
        if order.get("appid") != self.appid or order.get("mchid") != self.mchid:
            return JSONResponse({"code": "PARAM_ERROR", "message": "appid/mchid"}, status_code=400)
        self.orders[order["out_trade_no"]] = order
        return self._signed(200, {"prepay_id": "wx" + secrets.token_hex(14)})

    async def refund(self, request: Request) -> Response:
        """POST /v3/refund/domestic/refunds: idempotent on out_refund_no; answers PROCESSING (the
        refund notification, sent by the test, confirms it)."""
        body = (await request.body()).decode()
        if not self._signed_by_merchant(request, REFUND_PATH, body):
            return JSONResponse({"code": "SIGN_ERROR", "message": "签名错误"}, status_code=401)
        self.refund_requests += 1
        if self.refuse_refunds > 0:
            self.refuse_refunds -= 1
            return JSONResponse({"code": "NOT_ENOUGH", "message": "基本账户余额不足，请充值后重新发起"}, status_code=403)
        asked = json.loads(body)
        amount = asked.get("amount", {})
        order = self.orders.get(asked.get("out_trade_no"))
        if (order is None or amount.get("total") != order["amount"]["total"]
                or not 0 < amount.get("refund", 0) <= amount.get("total", 0)):
            return JSONResponse({"code": "PARAM_ERROR", "message": "订单或金额不符"}, status_code=400)
        known = self.refunds.setdefault(asked["out_refund_no"], {**asked, "refund_id": "50" + secrets.token_hex(14)})
        return self._signed(200, {
            "refund_id": known["refund_id"], "out_refund_no": known["out_refund_no"],
            "out_trade_no": known["out_trade_no"], "status": "PROCESSING",
            "amount": {"refund": known["amount"]["refund"], "total": known["amount"]["total"], "currency": "CNY"},
        })

    def refund_notification(self, *, refund_no: str, amount_fen: int | None = None, status: str = "SUCCESS",
                            signer: rsa.RSAPrivateKey | None = None) -> tuple[dict[str, str], bytes]:
        """The headers and body WeChat Pay posts to notify_url when a refund it accepted ends."""
        known = self.refunds[refund_no]
        refund = {
            "mchid": self.mchid, "out_trade_no": known["out_trade_no"], "transaction_id": "42" + secrets.token_hex(8),
            "out_refund_no": refund_no, "refund_id": known["refund_id"], "refund_status": status,
            "success_time": time.strftime("%Y-%m-%dT%H:%M:%S+08:00"), "user_received_account": "支付用户零钱",
            "amount": {"total": known["amount"]["total"],
                       "refund": known["amount"]["refund"] if amount_fen is None else amount_fen,
                       "payer_total": known["amount"]["total"],
                       "payer_refund": known["amount"]["refund"] if amount_fen is None else amount_fen},
        }
        return self._envelope(f"REFUND.{status}", "refund", refund, signer=signer)

    def _envelope(self, event_type: str, original_type: str, content: dict, *,
                  signer: rsa.RSAPrivateKey | None = None, timestamp: int | None = None
                  ) -> tuple[dict[str, str], bytes]:
        nonce, associated = secrets.token_hex(6), original_type
        ciphertext = AESGCM(self.apiv3_key.encode()).encrypt(
            nonce.encode(), json.dumps(content).encode(), associated.encode())
        body = json.dumps({
            "id": secrets.token_hex(18), "create_time": time.strftime("%Y-%m-%dT%H:%M:%S+08:00"),
            "resource_type": "encrypt-resource", "event_type": event_type, "summary": event_type,
            "resource": {"original_type": original_type, "algorithm": "AEAD_AES_256_GCM",
                         "ciphertext": base64.b64encode(ciphertext).decode(), "associated_data": associated,
                         "nonce": nonce},
        })
        ts, header_nonce = str(timestamp or int(time.time())), secrets.token_hex(16)
        headers = {
            "Wechatpay-Timestamp": ts, "Wechatpay-Nonce": header_nonce, "Wechatpay-Serial": self.platform_serial,
            "Wechatpay-Signature": rsa_sign(signer or self.platform_private_key, signed_message(ts, header_nonce, body)),
            "Content-Type": "application/json",
        }
        return headers, body.encode()

    def notification(self, *, order_no: str, amount_fen: int, transaction_id: str,
                     trade_state: str = "SUCCESS", signer: rsa.RSAPrivateKey | None = None,
                     timestamp: int | None = None) -> tuple[dict[str, str], bytes]:
        """The headers and body WeChat Pay posts to notify_url for a payment."""
        transaction = {
            "appid": self.appid, "mchid": self.mchid, "out_trade_no": order_no,
            "transaction_id": transaction_id, "trade_type": "JSAPI", "trade_state": trade_state,
            "trade_state_desc": "支付成功", "success_time": time.strftime("%Y-%m-%dT%H:%M:%S+08:00"),
            "payer": {"openid": "o-fake"},
            "amount": {"total": amount_fen, "payer_total": amount_fen, "currency": "CNY", "payer_currency": "CNY"},
        }
        return self._envelope("TRANSACTION.SUCCESS" if trade_state == "SUCCESS" else "TRANSACTION.FAIL",
                              "transaction", transaction, signer=signer, timestamp=timestamp)
