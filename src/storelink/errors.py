"""Domain errors: services raise these; the GraphQL layer turns them into userErrors in one place.

`Code` is the one list of error codes: the GraphQL `ErrorCode` enum wraps it, and a DomainError
takes nothing else, so a misspelt code fails where it is written, not at run time.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from enum import Enum
from typing import Any


class Code(str, Enum):
    INVALID_INPUT = "INVALID_INPUT"
    NOT_FOUND = "NOT_FOUND"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    RATE_LIMITED = "RATE_LIMITED"
    CONFLICT = "CONFLICT"
    CODE_INVALID = "CODE_INVALID"
    CODE_EXPIRED = "CODE_EXPIRED"
    CODE_USED_UP = "CODE_USED_UP"
    CONSENT_REQUIRED = "CONSENT_REQUIRED"
    PHONE_REQUIRED = "PHONE_REQUIRED"
    ALREADY_MEMBER = "ALREADY_MEMBER"
    SLOT_UNAVAILABLE = "SLOT_UNAVAILABLE"
    SLOT_FULL = "SLOT_FULL"
    BOOKING_WINDOW_CLOSED = "BOOKING_WINDOW_CLOSED"
    OUT_OF_STOCK = "OUT_OF_STOCK"
    COUPON_NOT_APPLICABLE = "COUPON_NOT_APPLICABLE"
    INSUFFICIENT_POINTS = "INSUFFICIENT_POINTS"
    INVALID_STATE = "INVALID_STATE"
    NOT_ELIGIBLE = "NOT_ELIGIBLE"
    RETURN_WINDOW_CLOSED = "RETURN_WINDOW_CLOSED"
    # Beyond the contract: WeChat or a payment provider failed or timed out; retrying may work.
    UPSTREAM_UNAVAILABLE = "UPSTREAM_UNAVAILABLE"


# Work to record after the rollback of a failed transaction (takes the session).
Bookkeeping = Callable[[Any], Awaitable[object]]  # what it returns is not used


class DomainError(Exception):
    """An expected failure a caller can act on; its message says what to do next."""

    code: Code = Code.INVALID_INPUT

    def __init__(
        self,
        message: str,
        *,
        code: Code | None = None,
        field: Sequence[str] | None = None,
        bookkeeping: Bookkeeping | None = None,
        **values: Any,
    ):
        # `message` is an English template with {named} values; the catalog in storelink.i18n
        # says it in Chinese. `self.message` is the English text, for logs and tests.
        self.template = message
        self.values = values
        self.message = message.format(**values) if values else message
        super().__init__(self.message)
        if code is not None:
            if not isinstance(code, Code):
                raise TypeError(f"error code {code!r} is not a storelink.errors.Code")
            self.code = code
        self.field = list(field) if field else None
        # Security bookkeeping (a failed-login count, a scan log, a revoked token family) must
        # survive the error that reports it: db.transaction rolls everything back, then records
        # these in a transaction of their own.
        self.bookkeeping: list[Bookkeeping] = [bookkeeping] if bookkeeping else []
        # Fields of the mutation's payload that come with the error (ALREADY_MEMBER returns the
        # existing membership); set by the resolver, which knows the GraphQL shapes.
        self.payload: dict[str, Any] = {}


class InvalidInput(DomainError):
    code = Code.INVALID_INPUT


class NotFound(DomainError):
    code = Code.NOT_FOUND


class Forbidden(DomainError):
    code = Code.FORBIDDEN


class Unauthenticated(DomainError):
    code = Code.UNAUTHENTICATED


class RateLimited(DomainError):
    code = Code.RATE_LIMITED


class Conflict(DomainError):
    code = Code.CONFLICT


class InvalidState(DomainError):
    code = Code.INVALID_STATE


class UpstreamUnavailable(DomainError):
    """A partner API (WeChat, payment) failed or timed out; the user may retry."""

    code = Code.UPSTREAM_UNAVAILABLE
