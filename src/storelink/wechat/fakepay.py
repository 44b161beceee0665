"""A fake of WeChat Pay v3 for tests: the JSAPI prepay endpoint and signed, encrypted payment
notifications, with keys the tests generate. It checks our request signatures the way WeChat
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

from storelink.payments.wechatpay import JSAPI_PATH, rsa_sign, rsa_verify, signed_message

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

    def _signed(self, status: int, payload: dict) -> Response:
        body = json.dumps(payload)
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        return Response(body, status_code=status, media_type="application/json", headers={
            "Wechatpay-Timestamp": timestamp, "Wechatpay-Nonce": nonce, "Wechatpay-Serial": self.platform_serial,
            "Wechatpay-Signature": rsa_sign(self.platform_private_key, signed_message(timestamp, nonce, body)),
        })

    async def jsapi(self, request: Request) -> Response:
        body = (await request.body()).decode()
        auth = request.headers.get("authorization", "")
        fields = dict(_AUTH.findall(auth))
        message = f"POST\n{JSAPI_PATH}\n{fields.get('timestamp')}\n{fields.get('nonce_str')}\n{body}\n"
        if (not auth.startswith("WECHATPAY2-SHA256-RSA2048 ") or fields.get("mchid") != self.mchid
                or not rsa_verify(self.merchant_public_key, message, fields.get("signature", ""))):
            return JSONResponse({"code": "SIGN_ERROR", "message": "签名错误"}, status_code=401)
        if self.refuse_next > 0:
            self.refuse_next -= 1
            return JSONResponse({"code": "SYSTEM_ERROR", "message": "系统错误"}, status_code=500)
        order = json.loads(body)
        if order.get("appid") != self.appid or order.get("mchid") != self.mchid:
            return JSONResponse({"code": "PARAM_ERROR", "message": "appid/mchid"}, status_code=400)
        self.orders[order["out_trade_no"]] = order
        return self._signed(200, {"prepay_id": "wx" + secrets.token_hex(14)})

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
        nonce, associated = secrets.token_hex(6), "transaction"
        ciphertext = AESGCM(self.apiv3_key.encode()).encrypt(
            nonce.encode(), json.dumps(transaction).encode(), associated.encode())
        body = json.dumps({
            "id": secrets.token_hex(18), "create_time": time.strftime("%Y-%m-%dT%H:%M:%S+08:00"),
            "resource_type": "encrypt-resource",
            "event_type": "TRANSACTION.SUCCESS" if trade_state == "SUCCESS" else "TRANSACTION.FAIL",
            "summary": "支付成功",
            "resource": {"original_type": "transaction", "algorithm": "AEAD_AES_256_GCM",
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
