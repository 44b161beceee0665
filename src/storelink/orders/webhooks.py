"""POST /webhooks/payments/{provider}: the payment provider tells us an order was paid, or that a
refund reached the payer.

Authenticated by the provider's signature, never by a bearer token. Every outcome is logged;
only a verified notification for a known order with the right amount changes anything, and the
same transaction marks the order paid (and credits points) once however often it arrives.
"""
from __future__ import annotations

import json
import logging

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse

from storelink.db import transaction
from storelink.limits import clean_text
from storelink.orders import checkout
from storelink.orders.models import Order
from storelink.payments import sandbox
from storelink.payments.base import BadNotification, RefundNotice
from storelink.returns import payouts

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024


def _answer(status: int, message: str | None = None) -> JSONResponse:
    # WeChat Pay's format; any non-2xx makes the provider deliver again later.
    body = {"code": "SUCCESS"} if status == 200 else {"code": "FAIL", "message": message}
    return JSONResponse(body, status_code=status)


async def payment_webhook(request: Request) -> JSONResponse:
    body = await request.body()
    if len(body) > MAX_BODY:
        return _answer(413, "too large")
    return await receive(request.app.state, request.path_params["provider"], request.headers, body)


async def receive(state, name: str, headers, body: bytes) -> JSONResponse:
    """One notification, as the provider `name` sent it (also the demo's sandbox payments)."""
    provider = state.payments.named(name)
    if provider is None:
        log.warning("payment notification for unknown provider %r", name[:32])
        return _answer(404, "unknown provider")
    try:
        notice = provider.read_notification(headers, body)
    except BadNotification as exc:
        log.warning("%s notification rejected: %s", name, exc)
        return _answer(401, "signature or content does not verify")
    if notice is None:
        log.info("%s notification reports no payment or refund; nothing to do", name)
        return _answer(200)
    if isinstance(notice, RefundNotice):
        return await _refunded(state, name, notice)
    try:
        outcome = await transaction(state.sessionmaker,
                                    lambda session: checkout.settle(session, provider=name, notice=notice,
                                                                    settings=state.settings))
    except checkout.UnknownOrder:
        log.warning("%s notification %s names unknown order %s", name, notice.transaction_id, notice.order_no)
        return _answer(404, "unknown order")
    except checkout.WrongAmount as exc:
        log.warning("%s notification %s refused: wrong amount (%s)", name, notice.transaction_id, exc)
        return _answer(400, "amount does not match the order")
    log.info("%s notification %s for order %s: %s", name, notice.transaction_id, notice.order_no, outcome)
    return _answer(200)


async def _refunded(state, name: str, notice: RefundNotice) -> JSONResponse:
    try:
        outcome = await transaction(state.sessionmaker, lambda session: payouts.confirm(session, notice))
    except payouts.UnknownRefund:
        log.warning("%s refund notification names unknown refund %s", name, notice.refund_no)
        return _answer(404, "unknown refund")
    except payouts.WrongRefundAmount as exc:
        log.warning("%s refund notification refused: wrong amount (%s)", name, exc)
        return _answer(400, "amount does not match the refund")
    log.info("%s refund notification for %s: %s", name, notice.refund_no, outcome)
    return _answer(200)


async def demo_payment(request: Request) -> JSONResponse:
    """POST /demo/pay/{orderNo} (DEBUG or `serve --demo` only): pay an order through the sandbox as
    if the customer had paid: the signed notification the sandbox would send, handled as any other."""
    order_no = request.path_params["order_no"]
    order = None
    if len(order_no) <= 24 and clean_text(order_no):  # no NUL byte or lone surrogate reaches the database
        async with request.app.state.reader() as session:
            order = (await session.execute(
                select(Order).where(Order.order_no == order_no, Order.channel == "ONLINE"))).scalar_one_or_none()
    if order is None:
        return JSONResponse({"error": "unknown order"}, status_code=404)
    secret = request.app.state.settings.payment_sandbox_secret
    body = json.dumps({"orderNo": order.order_no, "amountFen": order.total_fen,
                       "transactionId": f"demo-{order.order_no}"}).encode()
    answer = await receive(request.app.state, "sandbox", {"x-sandbox-signature": sandbox.sign(secret, body)}, body)
    async with request.app.state.reader() as session:
        status = (await session.execute(select(Order.status).where(Order.id == order.id))).scalar_one()
    return JSONResponse({"orderNo": order.order_no, "status": status}, status_code=answer.status_code)
