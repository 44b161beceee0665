"""The wire format of errors: DomainError -> UserError (mutations) or a top-level error (queries),
in one place, plus masking of everything unexpected."""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLError, VariableDefinitionNode
from strawberry.extensions import SchemaExtension

from storelink import i18n
from storelink.db import transaction
from storelink.errors import Code, DomainError
from storelink.logs import request_id_var

log = logging.getLogger("storelink.graphql")


# The GraphQL face of the one list of codes (storelink.errors.Code): the class itself, marked by
# strawberry.enum (a plain alias keeps it a type for mypy).
ErrorCode = Code
strawberry.enum(ErrorCode, name="ErrorCode")


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
    def from_domain(cls, err: DomainError, lang: str = i18n.DEFAULT) -> "UserError":
        return cls(code=err.code, field=err.field, message=i18n.say(err.template, err.values, lang))


P = TypeVar("P")


async def in_transaction(info: strawberry.Info, payload: Callable[..., P], work: Callable[[Any], Awaitable[dict]]) -> P:
    """Run one mutation field in its own transaction (db.transaction).

    `work(session)` returns the payload's fields; a DomainError becomes the payload's userErrors.
    """
    try:
        fields = await transaction(info.context.sessionmaker, work)
    except DomainError as err:
        return payload(user_errors=[UserError.from_domain(err, info.context.lang)], **err.payload)
    return payload(user_errors=[], **fields)


def _public(error: GraphQLError, lang: str) -> GraphQLError | None:
    """The error as the client may see it, or None when it must be masked."""
    original = error.original_error
    if isinstance(original, DomainError):
        return GraphQLError(
            i18n.say(original.template, original.values, lang),
            nodes=error.nodes,
            path=error.path,
            extensions={"code": original.code.value, **({"field": original.field} if original.field else {})},
        )
    if original is None:
        return error  # parse, validation and limit errors carry their own safe message
    if any(isinstance(node, VariableDefinitionNode) for node in error.nodes or ()):
        # A variable that does not fit its type (a Date "2026-13-01", an Int "abc"): the
        # client's mistake, said as GraphQL says it for the same value written inline (and, to a
        # Chinese caller, as what the code means, with GraphQL's words kept for the developer).
        if lang == "zh":
            return GraphQLError(i18n.zh.CODES[Code.INVALID_INPUT.value], nodes=error.nodes,
                                extensions={"code": Code.INVALID_INPUT.value, "detail": error.message})
        return GraphQLError(error.message, nodes=error.nodes, extensions={"code": Code.INVALID_INPUT.value})
    return None


class ErrorPolicy(SchemaExtension):
    """Domain errors in queries become coded top-level errors; anything unexpected is logged
    with the request id and replaced by "Unexpected error."."""

    def on_operation(self) -> Iterator[None]:
        yield
        self._make_public(self.execution_context.result)

    def on_stream_result(self, result) -> Iterator[None]:
        # A subscription's results (its refusal, each event) are sent one by one, before the
        # operation ends: each goes through the same policy on its way out.
        self._make_public(result)
        yield

    def _make_public(self, result) -> None:
        if not result or not getattr(result, "errors", None):
            return
        context = self.execution_context.context
        lang = getattr(context, "lang", i18n.DEFAULT)
        processed = []
        for error in result.errors:
            public = _public(error, lang)
            if public is None:
                log.error(
                    "unexpected error in %s", ".".join(map(str, error.path or [])) or "operation",
                    exc_info=error.original_error,
                )
                public = GraphQLError(
                    i18n.say("Unexpected error.", lang=lang),
                    nodes=error.nodes,
                    path=error.path,
                    extensions={"code": "INTERNAL", "requestId": request_id_var.get()},
                )
            processed.append(public)
        result.errors = processed
