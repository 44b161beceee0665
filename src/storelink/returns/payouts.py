"""Moving refund money through the payment provider, outside any database transaction.

A refund is written PENDING in the transaction that decides it (returns.accounting); after the
commit the provider is asked (`pay_out`). The sandbox refunds at once; WeChat Pay answers
PROCESSING and confirms with a signed refund notification (`confirm`, from the payment webhook).
Asking again with the same refund number refunds once, so a provider that could not be reached
is simply asked again by the worker; a provider that said no leaves the refund FAILED with its
reason, and `retry` (Mutation.retryRefunds) asks again.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storelink.clock import utcnow
from storelink.db import transaction
from storelink.orders.models import Order
from storelink.payments.base import PaymentUnavailable, RefundNotice, RefundRefused, RefundRequest
from storelink.returns.models import Refund, RefundStatus, ReturnRequest, ReturnStatus

log = logging.getLogger(__name__)

# The worker asks again for refunds still PENDING this long after they were decided.
RETRY_AFTER = dt.timedelta(minutes=1)


class UnknownRefund(Exception):
    pass


class WrongRefundAmount(Exception):
    pass


async def pay_out(sessionmaker: async_sessionmaker, payments, refund_id: int) -> str:
    """Ask the provider for one PENDING refund; returns the refund's status afterwards."""
    async def read(session: AsyncSession):
        return (await session.execute(
            select(Refund, Order.order_no, Order.total_fen).join(Order, Order.id == Refund.order_id)
            .where(Refund.id == refund_id))).first()

    found = await transaction(sessionmaker, read)
    if found is None:
        raise UnknownRefund(refund_id)
    refund, order_no, order_total = found
    if refund.status != RefundStatus.PENDING.value:
        return refund.status
    provider = payments.named(refund.provider) if payments is not None else None
    if provider is None:
        return await _fail(sessionmaker, refund, f"payment provider {refund.provider} is not configured")
    try:
        accepted = await provider.refund(RefundRequest(
            order_no=order_no, refund_no=refund.refund_no, amount_fen=refund.amount_fen,
            order_total_fen=order_total, reason=refund.reason))
    except PaymentUnavailable as exc:
        log.warning("refund %s not asked yet: %s", refund.refund_no, exc)
        return RefundStatus.PENDING.value
    except RefundRefused as exc:
        log.warning("refund %s refused by %s: %s", refund.refund_no, refund.provider, exc)
        return await _fail(sessionmaker, refund, str(exc))

    async def accepted_now(session: AsyncSession) -> str:
        await session.execute(update(Refund).where(Refund.id == refund.id)
                              .values(provider_refund_id=accepted.provider_refund_id))
        if accepted.done:
            await _succeed(session, refund.id)
            return RefundStatus.SUCCEEDED.value
        return RefundStatus.PENDING.value

    return await transaction(sessionmaker, accepted_now)


async def _fail(sessionmaker: async_sessionmaker, refund: Refund, reason: str) -> str:
    async def work(session: AsyncSession) -> str:
        await session.execute(update(Refund).where(Refund.id == refund.id, Refund.status == RefundStatus.PENDING.value)
                              .values(status=RefundStatus.FAILED.value, failure_reason=reason[:200]))
        return RefundStatus.FAILED.value

    return await transaction(sessionmaker, work)


async def _succeed(session: AsyncSession, refund_id: int) -> bool:
    """PENDING -> SUCCEEDED once; its return (if any) becomes REFUNDED. False if already done."""
    now = utcnow()
    done = (await session.execute(
        update(Refund).where(Refund.id == refund_id, Refund.status != RefundStatus.SUCCEEDED.value)
        .values(status=RefundStatus.SUCCEEDED.value, succeeded_at=now, failure_reason=None)
        .returning(Refund.return_id))).first()
    if done is None:
        return False
    if done.return_id is not None:
        await session.execute(update(ReturnRequest).where(ReturnRequest.id == done.return_id)
                              .values(status=ReturnStatus.REFUNDED.value, refunded_at=now))
    return True


async def confirm(session: AsyncSession, notice: RefundNotice) -> str:
    """A verified refund notification: REFUNDED, or DUPLICATE when it was confirmed before.
    UnknownRefund and WrongRefundAmount change nothing."""
    refund = (await session.execute(select(Refund).where(Refund.refund_no == notice.refund_no).with_for_update())
              ).scalar_one_or_none()
    if refund is None:
        raise UnknownRefund(notice.refund_no)
    if notice.amount_fen != refund.amount_fen:
        raise WrongRefundAmount(f"refund {refund.refund_no}: notified {notice.amount_fen}, asked {refund.amount_fen}")
    if not await _succeed(session, refund.id):
        return "DUPLICATE"
    await session.execute(update(Refund).where(Refund.id == refund.id)
                          .values(provider_refund_id=notice.provider_refund_id))
    return "REFUNDED"


async def reopen(session: AsyncSession, order_id: int) -> list[int]:
    """FAILED refunds of an order become PENDING again (to be asked after the commit)."""
    return list((await session.execute(
        update(Refund).where(Refund.order_id == order_id, Refund.status == RefundStatus.FAILED.value)
        .values(status=RefundStatus.PENDING.value, failure_reason=None).returning(Refund.id))).scalars())


async def retry_due(sessionmaker: async_sessionmaker, payments_factory: Callable, *, batch: int = 20) -> int:
    """The worker: ask again for refunds left PENDING (provider unreachable, or the server
    stopped between the commit and the call). Returns how many were asked."""
    async def read(session: AsyncSession):
        return (await session.execute(
            # Accepted ones (a provider id) wait for the provider's notification instead.
            select(Refund.id).where(Refund.status == RefundStatus.PENDING.value, Refund.provider_refund_id.is_(None),
                                    Refund.created_at <= utcnow() - RETRY_AFTER)
            .order_by(Refund.id).limit(batch))).scalars().all()

    due = await transaction(sessionmaker, read)
    if not due:
        return 0
    payments = payments_factory()
    for refund_id in due:
        await pay_out(sessionmaker, payments, refund_id)
    return len(due)
