"""The wire format of errors: DomainError -> UserError (mutations) or a top-level error (queries),
in one place, plus masking of everything unexpected."""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator
from enum import Enum
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from storelink.errors import DomainError
from storelink.logs import request_id_var

log = logging.getLogger("storelink.graphql")


@strawberry.enum
class ErrorCode(Enum):
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
    # Beyond the contract: WeChat or a payment provider failed or timed out; retrying may work.
    UPSTREAM_UNAVAILABLE = "UPSTREAM_UNAVAILABLE"


# Shown instead of the English message when the caller prefers Chinese.
_ZH = {
    "INVALID_INPUT": "输入有误，请检查后重试",
    "NOT_FOUND": "找不到该对象",
    "UNAUTHENTICATED": "请先登录",
    "FORBIDDEN": "没有权限执行此操作",
    "RATE_LIMITED": "操作过于频繁，请稍后再试",
    "CONFLICT": "与现有数据冲突",
    "CODE_INVALID": "无效的码",
    "CODE_EXPIRED": "码已过期",
    "CODE_USED_UP": "码已被使用",
    "UPSTREAM_UNAVAILABLE": "微信服务暂时不可用，请稍后再试",
}


@strawberry.type
class UserError:
    code: ErrorCode
    field: list[str] | None = strawberry.field(
        default=None,
        description='Path to the input field at fault, e.g. ["input", "startAt"]; null when not about one field.',
    )
    message: str = strawberry.field(
        default="",
        description="Human-readable, safe to show to an end user (Simplified Chinese or English per Accept-Language).",
    )

    @classmethod
    def from_domain(cls, err: DomainError, lang: str = "en") -> "UserError":
        message = _ZH.get(err.code, err.message) if lang == "zh" else err.message
        return cls(code=ErrorCode(err.code), field=err.field, message=message)


class ApiError(GraphQLError):
    """A top-level error a client should see as is (not masked): FORBIDDEN, UNAUTHENTICATED, ..."""

    def __init__(self, code: str, message: str):
        super().__init__(message, extensions={"code": code})


P = TypeVar("P")


async def in_transaction(info, payload: Callable[..., P], work: Callable[[Any], Awaitable[dict]]) -> P:
    """Run one mutation field in its own transaction.

    `work(session)` returns the payload's fields. A DomainError rolls everything back (unless it
    asks to keep security bookkeeping) and becomes the payload's userErrors.
    """
    ctx = info.context
    async with ctx.sessionmaker() as session:
        try:
            fields = await work(session)
        except DomainError as err:
            if err.keep_changes:
                await session.commit()
            else:
                await session.rollback()
            return payload(user_errors=[UserError.from_domain(err, ctx.lang)])
        await session.commit()
    return payload(user_errors=[], **fields)


def _public(error: GraphQLError) -> GraphQLError | None:
    """The error as the client may see it, or None when it must be masked."""
    original = error.original_error
    if isinstance(error, ApiError) or isinstance(original, ApiError):
        return error
    if isinstance(original, DomainError):
        return GraphQLError(
            original.message,
            nodes=error.nodes,
            path=error.path,
            extensions={"code": original.code, **({"field": original.field} if original.field else {})},
        )
    if original is None:
        return error  # parse, validation and limit errors carry their own safe message
    return None


class ErrorPolicy(SchemaExtension):
    """Domain errors in queries become coded top-level errors; anything unexpected is logged
    with the request id and replaced by "Unexpected error."."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if not result or not getattr(result, "errors", None):
            return
        processed = []
        for error in result.errors:
            public = _public(error)
            if public is None:
                log.error(
                    "unexpected error in %s", ".".join(map(str, error.path or [])) or "operation",
                    exc_info=error.original_error,
                )
                public = GraphQLError(
                    "Unexpected error.",
                    nodes=error.nodes,
                    path=error.path,
                    extensions={"code": "INTERNAL", "requestId": request_id_var.get()},
                )
            processed.append(public)
        result.errors = processed
