"""POST /webhooks/payments/{provider}: the payment provider tells us an order was paid.

Authenticated by the provider's signature, never by a bearer token. Every outcome is logged;
only a verified notification for a known order with the right amount changes anything, and the
same transaction marks the order paid (and credits points) once however often it arrives.
"""
from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse

from storelink.db import transaction
from storelink.orders import checkout
from storelink.payments.base import BadNotification

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024


def _answer(status: int, message: str | None = None) -> JSONResponse:
    # WeChat Pay's format; any non-2xx makes the provider deliver again later.
    body = {"code": "SUCCESS"} if status == 200 else {"code": "FAIL", "message": message}
    return JSONResponse(body, status_code=status)


async def payment_webhook(request: Request) -> JSONResponse:
    name = request.path_params["provider"]
    provider = request.app.state.payments.named(name)
    if provider is None:
        log.warning("payment notification for unknown provider %r", name[:32])
        return _answer(404, "unknown provider")
    body = await request.body()
    if len(body) > MAX_BODY:
        return _answer(413, "too large")
    try:
        notice = provider.read_notification(request.headers, body)
    except BadNotification as exc:
        log.warning("%s notification rejected: %s", name, exc)
        return _answer(401, "signature or content does not verify")
    if notice is None:
        log.info("%s notification reports no payment; nothing to do", name)
        return _answer(200)
    try:
        outcome = await transaction(request.app.state.sessionmaker,
                                    lambda session: checkout.settle(session, provider=name, notice=notice))
    except checkout.UnknownOrder:
        log.warning("%s notification %s names unknown order %s", name, notice.transaction_id, notice.order_no)
        return _answer(404, "unknown order")
    except checkout.WrongAmount as exc:
        log.warning("%s notification %s refused: wrong amount (%s)", name, notice.transaction_id, exc)
        return _answer(400, "amount does not match the order")
    log.info("%s notification %s for order %s: %s", name, notice.transaction_id, notice.order_no, outcome)
    return _answer(200)
