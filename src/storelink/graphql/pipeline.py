"""Every request's limits, caches and error policy, as one strawberry extension.

strawberry runs the hooks of each extension at each stage (operation, parsing, validation,
execution) of every request. As five small extensions (token limit, depth and alias rules,
parse cache, validation cache, error policy) that bookkeeping cost about a tenth of a
nearbyStores request; as one it is a few microseconds.
"""
from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from graphql import (
    GraphQLError, KnownFragmentNamesRule, NoFragmentCyclesRule, OperationDefinitionNode, StringValueNode, Visitor,
    parse, visit,
)
from strawberry.schema.schema import validate_document

from storelink.graphql.errors import ErrorPolicy
from storelink.limits import clean_text, unclean_text_in

CACHE_SIZE = 256  # distinct documents kept parsed and validated; the apps send a few dozen


@lru_cache(maxsize=CACHE_SIZE)
def _parsed(query: str, max_tokens: int):
    # Documents over the token limit raise here and are not cached.
    return parse(query, max_tokens=max_tokens)


# Keyed by the parsed document, which _parsed hands out once per distinct query text.
_validated = lru_cache(maxsize=CACHE_SIZE)(validate_document)


_FRAGMENT_RULES = (KnownFragmentNamesRule, NoFragmentCyclesRule)


class _UncleanString(Visitor):
    def __init__(self):
        super().__init__()
        self.found = False

    def enter_string_value(self, node: StringValueNode, *_):
        if not clean_text(node.value):
            self.found = True
            return self.BREAK
        return None


@lru_cache(maxsize=CACHE_SIZE)
def _has_unclean_literal(document) -> bool:
    finder = _UncleanString()
    visit(document, finder)
    return finder.found


def _operation_count(document) -> int:
    return sum(isinstance(d, OperationDefinitionNode) for d in document.definitions)


def unclean_text_error() -> GraphQLError:
    # One answer for every field: PostgreSQL cannot store NUL, nor UTF-8 a lone surrogate.
    return GraphQLError("Text may not contain NUL characters or unpaired surrogates.",
                        extensions={"code": "INVALID_INPUT"})


class RequestPipeline(ErrorPolicy):
    def __init__(self, *, rules: tuple, max_tokens: int):
        super().__init__()
        self.rules = rules
        self.max_tokens = max_tokens

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        ctx.graphql_document = _parsed(ctx.query, self.max_tokens)
        yield

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        document = ctx.graphql_document
        # Fragments first: strawberry's depth limiter follows every spread and fails on an unknown
        # fragment or loops on a cycle. Then the spec's rules and the limits together, so a
        # document too deep is refused as such whatever else is wrong with it.
        errors = (_validated(ctx.schema._schema, document, _FRAGMENT_RULES)
                  or _validated(ctx.schema._schema, document, tuple(ctx.validation_rules) + self.rules))
        if not errors and ctx._provided_operation_name is None and _operation_count(document) > 1:
            # strawberry would run the first; the spec says refuse.
            errors = [GraphQLError("Must provide operation name if query contains multiple operations.")]
        if not errors and (_has_unclean_literal(document) or unclean_text_in(ctx.variables or {})):
            errors = [unclean_text_error()]
        ctx.pre_execution_errors = errors
        yield
