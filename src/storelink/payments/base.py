"""What every payment provider offers the order flow: payment parameters for the mini-program,
refunds, and the reading of its signed payment and refund notifications."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from storelink.limits import MAX_INT, clean_text


class BadNotification(Exception):
    """The notification's signature or content does not verify: it changes nothing."""


class PaymentUnavailable(Exception):
    """The provider could not be reached or refused the request; the customer may retry."""


class RefundRefused(Exception):
    """The provider answered and will not make this refund (e.g. the merchant balance is short);
    its reason is kept on the refund, which may be retried."""


@dataclass(frozen=True)
class RefundRequest:
    order_no: str
    refund_no: str  # ours; the provider refunds once per number however often it is asked
    amount_fen: int
    order_total_fen: int
    reason: str


@dataclass(frozen=True)
class RefundAccepted:
    provider_refund_id: str
    done: bool  # the money is back already (else a refund notification will say so)


@dataclass(frozen=True)
class RefundNotice:
    """A verified notification that a refund reached the payer."""

    refund_no: str
    amount_fen: int
    provider_refund_id: str

    def __post_init__(self) -> None:
        texts_fit = all(isinstance(t, str) and 0 < len(t) <= 64 and clean_text(t)
                        for t in (self.refund_no, self.provider_refund_id))
        amount_fits = isinstance(self.amount_fen, int) and not isinstance(self.amount_fen, bool) \
            and 0 < self.amount_fen <= MAX_INT
        if not (texts_fit and amount_fits):
            raise BadNotification("the refund notification's number, amount or id is malformed")


@dataclass(frozen=True)
class PaymentOrder:
    order_no: str
    total_fen: int
    description: str
    openid: str | None


@dataclass(frozen=True)
class PaidNotice:
    """A verified notification that money for an order was received.

    Checked when made, whatever the provider: a signed body is still outside input, and nothing
    in it may reach the database that the database cannot take (NUL, a lone surrogate, an amount
    past its column)."""

    order_no: str
    amount_fen: int
    transaction_id: str

    def __post_init__(self) -> None:
        texts_fit = all(isinstance(t, str) and 0 < len(t) <= 64 and clean_text(t)
                        for t in (self.order_no, self.transaction_id))
        amount_fits = isinstance(self.amount_fen, int) and not isinstance(self.amount_fen, bool) \
            and 0 < self.amount_fen <= MAX_INT
        if not (texts_fit and amount_fits):
            raise BadNotification("the notification's order, amount or transaction is malformed")


class PaymentProvider(Protocol):
    name: str

    async def prepare(self, order: PaymentOrder) -> dict:
        """The parameters for wx.requestPayment (timeStamp, nonceStr, package, signType, paySign)."""
        ...

    async def refund(self, request: RefundRequest) -> RefundAccepted:
        """Ask for a refund: RefundRefused when the provider says no, PaymentUnavailable when it
        could not be asked (kept PENDING and asked again)."""
        ...

    def read_notification(self, headers: dict[str, str], body: bytes) -> PaidNotice | RefundNotice | None:
        """The payment or refund a notification reports; None for a verified notification that
        reports neither (e.g. a failed payment); BadNotification when it does not verify."""
        ...
