"""WeChat Pay v3, JSAPI (mini-program) payments and refunds.

Requests to WeChat Pay are signed with the merchant's RSA key (WECHATPAY2-SHA256-RSA2048); its
answers and notifications are verified with the platform public key, and a notification's
resource is decrypted with the APIv3 key (AEAD_AES_256_GCM).
"""
from __future__ import annotations

import asyncio
import base64
import json
import secrets
import time
from pathlib import Path

import aiohttp
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from storelink.payments.base import (
    BadNotification, PaidNotice, PaymentOrder, PaymentUnavailable, RefundAccepted, RefundNotice, RefundRefused,
    RefundRequest,
)

# A notification older than this is refused: a captured one cannot be replayed later.
MAX_CLOCK_SKEW_SECONDS = 300
JSAPI_PATH = "/v3/pay/transactions/jsapi"
REFUND_PATH = "/v3/refund/domestic/refunds"
# Refund answers that mean "ask again later" rather than "no".
RETRY_CODES = {"SYSTEM_ERROR", "FREQUENCY_LIMITED"}


def rsa_sign(key: rsa.RSAPrivateKey, message: str) -> str:
    return base64.b64encode(key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


def rsa_verify(key: rsa.RSAPublicKey, message: str, signature: str) -> bool:
    try:
        key.verify(base64.b64decode(signature), message.encode(), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def load_private_key(path: Path) -> rsa.RSAPrivateKey:
    return serialization.load_pem_private_key(path.read_bytes(), password=None)  # type: ignore[return-value]


def load_public_key(path: Path) -> rsa.RSAPublicKey:
    """The platform key: a PEM public key, or the platform certificate it is in."""
    data = path.read_bytes()
    if b"CERTIFICATE" in data:
        from cryptography import x509

        return x509.load_pem_x509_certificate(data).public_key()  # type: ignore[return-value]
    return serialization.load_pem_public_key(data)  # type: ignore[return-value]


def signed_message(timestamp: str, nonce: str, body: str) -> str:
    return f"{timestamp}\n{nonce}\n{body}\n"


def decrypt_resource(apiv3_key: str, resource: dict) -> dict:
    aead = AESGCM(apiv3_key.encode())
    plain = aead.decrypt(
        resource["nonce"].encode(), base64.b64decode(resource["ciphertext"]),
        (resource.get("associated_data") or "").encode(),
    )
    return json.loads(plain)


class WeChatPayProvider:
    name = "wechatpay"

    def __init__(self, http: aiohttp.ClientSession, *, appid: str, mchid: str, serial: str,
                 private_key: rsa.RSAPrivateKey, platform_key: rsa.RSAPublicKey, apiv3_key: str,
                 notify_url: str, api_base: str):
        if len(apiv3_key.encode()) != 32:
            raise ValueError("WECHATPAY_APIV3_KEY must be 32 bytes")
        self._http = http
        self._appid, self._mchid, self._serial = appid, mchid, serial
        self._key, self._platform_key, self._apiv3_key = private_key, platform_key, apiv3_key
        self._notify_url = notify_url
        self._base = api_base.rstrip("/")

    def _authorization(self, method: str, path: str, body: str) -> str:
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        signature = rsa_sign(self._key, f"{method}\n{path}\n{timestamp}\n{nonce}\n{body}\n")
        return (f'WECHATPAY2-SHA256-RSA2048 mchid="{self._mchid}",nonce_str="{nonce}",'
                f'signature="{signature}",timestamp="{timestamp}",serial_no="{self._serial}"')

    def _verify(self, headers, body: str) -> None:
        timestamp = headers.get("wechatpay-timestamp", "")
        nonce = headers.get("wechatpay-nonce", "")
        signature = headers.get("wechatpay-signature", "")
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12 and nonce and signature):
            raise BadNotification("missing WeChat Pay signature headers")
        if abs(time.time() - int(timestamp)) > MAX_CLOCK_SKEW_SECONDS:
            raise BadNotification("stale WeChat Pay timestamp")
        if not rsa_verify(self._platform_key, signed_message(timestamp, nonce, body), signature):
            raise BadNotification("bad WeChat Pay signature")

    async def _post(self, path: str, body: str):
        try:
            async with self._http.post(
                self._base + path, data=body.encode(),
                headers={"Authorization": self._authorization("POST", path, body),
                         "Content-Type": "application/json", "Accept": "application/json"},
            ) as resp:
                return resp.status, resp.headers, await resp.text()
        except (aiohttp.ClientError, asyncio.TimeoutError, UnicodeDecodeError) as exc:
            raise PaymentUnavailable(f"WeChat Pay unreachable: {type(exc).__name__}") from None

    async def refund(self, request: RefundRequest) -> RefundAccepted:
        body = json.dumps({
            "out_trade_no": request.order_no, "out_refund_no": request.refund_no, "reason": request.reason[:80],
            "notify_url": self._notify_url,
            "amount": {"refund": request.amount_fen, "total": request.order_total_fen, "currency": "CNY"},
        }, ensure_ascii=False, separators=(",", ":"))
        status, headers, text = await self._post(REFUND_PATH, body)
        if status != 200:
            try:
                answer = json.loads(text)
                code, message = str(answer.get("code", "")), str(answer.get("message", ""))[:120]
            except (ValueError, AttributeError):
                code, message = "", ""
            if status >= 500 or code in RETRY_CODES:
                raise PaymentUnavailable(f"WeChat Pay refund failed: HTTP {status} {code}")
            raise RefundRefused(f"{code or status}: {message}".strip())
        try:
            self._verify(headers, text)
            answer = json.loads(text)
            refund_id, refund_status = str(answer["refund_id"])[:64], answer["status"]
        except (BadNotification, ValueError, KeyError, TypeError) as exc:
            raise PaymentUnavailable(f"WeChat Pay refund answer did not verify: {exc}") from None
        if refund_status in ("CLOSED", "ABNORMAL"):
            raise RefundRefused(f"refund {refund_status}")
        return RefundAccepted(provider_refund_id=refund_id, done=refund_status == "SUCCESS")

    async def prepare(self, order: PaymentOrder) -> dict:
        if not order.openid:
            raise PaymentUnavailable("the customer has no WeChat openid")
        body = json.dumps({
            "appid": self._appid, "mchid": self._mchid, "description": order.description[:127],
            "out_trade_no": order.order_no, "notify_url": self._notify_url,
            "amount": {"total": order.total_fen, "currency": "CNY"}, "payer": {"openid": order.openid},
        }, ensure_ascii=False, separators=(",", ":"))
        status, headers, text = await self._post(JSAPI_PATH, body)
        if status != 200:
            raise PaymentUnavailable(f"WeChat Pay refused the order: HTTP {status}")
        try:
            self._verify(headers, text)
            prepay_id = json.loads(text)["prepay_id"]
        except (BadNotification, ValueError, KeyError) as exc:
            raise PaymentUnavailable(f"WeChat Pay answer did not verify: {exc}") from None
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        package = f"prepay_id={prepay_id}"
        return {
            "appId": self._appid, "timeStamp": timestamp, "nonceStr": nonce, "package": package,
            "signType": "RSA",
            "paySign": rsa_sign(self._key, f"{self._appid}\n{timestamp}\n{nonce}\n{package}\n"),
        }

    def read_notification(self, headers, body: bytes) -> PaidNotice | RefundNotice | None:
        text = body.decode("utf-8", errors="replace")
        self._verify(headers, text)
        try:
            envelope = json.loads(text)
            resource = envelope["resource"]
            if resource.get("algorithm") != "AEAD_AES_256_GCM":
                raise BadNotification("unknown resource algorithm")
            content = decrypt_resource(self._apiv3_key, resource)
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError, InvalidTag):
            raise BadNotification("the notification resource does not decrypt") from None
        if not isinstance(content, dict) or not isinstance(envelope.get("event_type"), str):
            raise BadNotification("the notification resource is not a transaction or refund")
        if content.get("mchid") != self._mchid:
            raise BadNotification("the notification is for another merchant")
        if envelope["event_type"].startswith("REFUND."):
            return self._refund_notice(envelope["event_type"], content)
        if content.get("appid") != self._appid:
            raise BadNotification("the notification is for another app")
        if envelope["event_type"] != "TRANSACTION.SUCCESS" or content.get("trade_state") != "SUCCESS":
            return None
        try:
            return PaidNotice(order_no=str(content["out_trade_no"]),
                              amount_fen=int(content["amount"]["total"]),
                              transaction_id=str(content["transaction_id"])[:64])
        except (KeyError, TypeError, ValueError):
            raise BadNotification("the transaction lacks its order, amount or id") from None

    @staticmethod
    def _refund_notice(event_type: str, refund: dict) -> RefundNotice | None:
        if event_type != "REFUND.SUCCESS" or refund.get("refund_status") != "SUCCESS":
            return None  # closed or abnormal: the refund stays PENDING and is looked at by hand
        try:
            return RefundNotice(refund_no=str(refund["out_refund_no"]), amount_fen=int(refund["amount"]["refund"]),
                                provider_refund_id=str(refund["refund_id"])[:64])
        except (KeyError, TypeError, ValueError):
            raise BadNotification("the refund lacks its number, amount or id") from None
