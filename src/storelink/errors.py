"""Domain errors: services raise these; the GraphQL layer turns them into userErrors in one place."""
from __future__ import annotations

from collections.abc import Sequence


class DomainError(Exception):
    """An expected failure a caller can act on. `code` is one of the contract's ErrorCode values."""

    code = "INVALID_INPUT"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: Sequence[str] | None = None,
        keep_changes: bool = False,
    ):
        super().__init__(message)
        self.message = message
        # Security bookkeeping (a failed-login count, a revoked token family) must survive the
        # error that reports it; everything else is rolled back.
        self.keep_changes = keep_changes
        if code:
            self.code = code
        self.field = list(field) if field else None


class InvalidInput(DomainError):
    code = "INVALID_INPUT"


class NotFound(DomainError):
    code = "NOT_FOUND"


class Forbidden(DomainError):
    code = "FORBIDDEN"


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"


class RateLimited(DomainError):
    code = "RATE_LIMITED"


class Conflict(DomainError):
    code = "CONFLICT"


class UpstreamUnavailable(DomainError):
    """A partner API (WeChat, payment) failed or timed out; the user may retry."""

    code = "UPSTREAM_UNAVAILABLE"
