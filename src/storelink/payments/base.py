"""What every payment provider offers the order flow: payment parameters for the mini-program,
and the reading of its signed payment notifications."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class BadNotification(Exception):
    """The notification's signature or content does not verify: it changes nothing."""


class PaymentUnavailable(Exception):
    """The provider could not be reached or refused the request; the customer may retry."""


@dataclass(frozen=True)
class PaymentOrder:
    order_no: str
    total_fen: int
    description: str
    openid: str | None


@dataclass(frozen=True)
class PaidNotice:
    """A verified notification that money for an order was received."""

    order_no: str
    amount_fen: int
    transaction_id: str


class PaymentProvider(Protocol):
    name: str

    async def prepare(self, order: PaymentOrder) -> dict:
        """The parameters for wx.requestPayment (timeStamp, nonceStr, package, signType, paySign)."""
        ...

    def read_notification(self, headers: dict[str, str], body: bytes) -> PaidNotice | None:
        """The payment a notification reports; None for a verified notification that reports no
        payment (e.g. a failed one); BadNotification when it does not verify."""
        ...
