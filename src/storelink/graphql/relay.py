"""Relay global IDs ("Store:12" base64url-encoded) and the `node(id:)` registry."""
from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from typing import Any

import strawberry

from storelink.errors import InvalidInput, NotFound
from storelink.ids import global_id
from storelink.limits import valid_pk


@strawberry.interface
class Node:
    id: strawberry.ID


def to_global_id(type_name: str, pk: int | str) -> strawberry.ID:
    return strawberry.ID(global_id(type_name, pk))


def from_global_id(gid: str) -> tuple[str, str]:
    try:
        padded = gid + "=" * (-len(gid) % 4)
        type_name, _, pk = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInput("Malformed ID") from None
    if not type_name or not pk:
        raise InvalidInput("Malformed ID")
    return type_name, pk


def decode_id(gid: str, type_name: str, field: list[str] | None = None) -> int:
    """The primary key inside a global ID of the expected type."""
    try:
        found_type, pk = from_global_id(gid)
    except InvalidInput:
        raise InvalidInput("Malformed ID", field=field) from None
    found = valid_pk(pk)
    if found_type != type_name or found is None:  # no such row can exist: the same as a missing one
        raise NotFound("Not found; check the ID", field=field)
    return found


def decode_optional_id(gid: str | None, type_name: str, field: list[str] | None = None) -> int | None:
    return None if gid is None else decode_id(gid, type_name, field)


# type name -> async (info, pk) -> GraphQL object | None, applying that type's read checks.
NodeResolver = Callable[[Any, int], Awaitable[Any]]
NODE_RESOLVERS: dict[str, NodeResolver] = {}


def node_resolver(type_name: str) -> Callable[[NodeResolver], NodeResolver]:
    def register(fn: NodeResolver) -> NodeResolver:
        NODE_RESOLVERS[type_name] = fn
        return fn

    return register


async def resolve_node(info, gid: str):
    type_name, pk = from_global_id(gid)
    resolver = NODE_RESOLVERS.get(type_name)
    found = valid_pk(pk)
    if resolver is None or found is None:
        return None
    return await resolver(info, found)
