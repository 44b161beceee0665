"""Opaque keyset cursors: base64url of "<kind>:<id>"; a malformed one is INVALID_INPUT on `after`."""
from __future__ import annotations

import base64
import binascii

import strawberry

from storelink.errors import InvalidInput
from storelink.limits import valid_pk


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


def cursor_for(kind: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{pk}".encode()).decode().rstrip("=")


def id_after(cursor: str | None, kind: str) -> int | None:
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInput("Malformed cursor", field=["after"]) from None
    found_kind, _, pk = raw.partition(":")
    found = valid_pk(pk)
    if found_kind != kind or found is None:
        raise InvalidInput("Malformed cursor", field=["after"])
    return found
