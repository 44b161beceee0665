"""The sandbox provider (API-NOTES): notifications are JSON signed with HMAC-SHA256 over the raw
body under PAYMENT_SANDBOX_SECRET, sent in the X-Sandbox-Signature header. Refunds succeed at once."""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time

from storelink.payments.base import BadNotification, PaidNotice, PaymentOrder, RefundAccepted, RefundRequest


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class SandboxProvider:
    name = "sandbox"

    def __init__(self, secret: str):
        self._secret = secret

    async def prepare(self, order: PaymentOrder) -> dict:
        # Same shape as WeChat Pay's, so the mini-program code path is the same; signed with the
        # sandbox key so a test client can check it came from us.
        params = {
            "timeStamp": str(int(time.time())),
            "nonceStr": secrets.token_hex(16),
            "package": f"prepay_id=sandbox-{order.order_no}",
            "signType": "HMAC-SHA256",
        }
        message = "\n".join([params["timeStamp"], params["nonceStr"], params["package"]]).encode()
        params["paySign"] = sign(self._secret, message)
        return params

    async def refund(self, request: RefundRequest) -> RefundAccepted:
        # The sandbox refunds at once (API-NOTES): no notification follows.
        return RefundAccepted(provider_refund_id=f"sandbox-{request.refund_no}", done=True)

    def read_notification(self, headers: dict[str, str], body: bytes) -> PaidNotice | None:
        # Compared as bytes: a header may carry any byte, and compare_digest takes only ASCII text.
        given = headers.get("x-sandbox-signature", "").lower().encode("utf-8", "replace")
        if not hmac.compare_digest(given, sign(self._secret, body).encode()):
            raise BadNotification("bad sandbox signature")
        try:
            data = json.loads(body)
            order_no, amount, transaction_id = data["orderNo"], data["amountFen"], data["transactionId"]
        except (ValueError, KeyError, TypeError, RecursionError):
            raise BadNotification("malformed sandbox notification") from None
        return PaidNotice(order_no=order_no, amount_fen=amount, transaction_id=transaction_id)
