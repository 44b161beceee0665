"""Fields whose GraphQL type lives in a module that imports this one.

The GraphQL graph has cycles (Staff → joinCode → JoinCode → guide → Staff); the module graph must
not. Such a field is annotated `Annotated["JoinCode", strawberry.lazy(module)]` and builds its
value through `lazy_class`, which imports that module on first use, when every module is loaded.
"""
from __future__ import annotations

from functools import cache
from typing import Any

from strawberry.types.lazy_type import LazyType


@cache
def lazy_class(type_name: str, module: str) -> Any:
    return LazyType(type_name, module).resolve_type()
