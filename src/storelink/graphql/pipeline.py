"""Every request's limits, caches and error policy, as one strawberry extension.

strawberry runs the hooks of each extension at each stage (operation, parsing, validation,
execution) of every request. As five small extensions (token limit, depth and alias rules,
parse cache, validation cache, error policy) that bookkeeping cost about a tenth of a
nearbyStores request; as one it is a few microseconds.
"""
from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from graphql import parse
from strawberry.schema.schema import validate_document

from storelink.graphql.errors import ErrorPolicy

CACHE_SIZE = 256  # distinct documents kept parsed and validated; the apps send a few dozen


@lru_cache(maxsize=CACHE_SIZE)
def _parsed(query: str, max_tokens: int):
    # Documents over the token limit raise here and are not cached.
    return parse(query, max_tokens=max_tokens)


# Keyed by the parsed document, which _parsed hands out once per distinct query text.
_validated = lru_cache(maxsize=CACHE_SIZE)(validate_document)


class RequestPipeline(ErrorPolicy):
    def __init__(self, *, rules: tuple, max_tokens: int):
        super().__init__()
        self.rules = rules
        self.max_tokens = max_tokens

    def on_operation(self) -> Iterator[None]:
        ctx = self.execution_context
        ctx.validation_rules = ctx.validation_rules + self.rules
        yield from super().on_operation()

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        ctx.graphql_document = _parsed(ctx.query, self.max_tokens)
        yield

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        ctx.pre_execution_errors = _validated(ctx.schema._schema, ctx.graphql_document, ctx.validation_rules)
        yield
