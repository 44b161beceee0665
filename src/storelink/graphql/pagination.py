"""Opaque keyset cursors: base64url of "<kind>:<id>"; a malformed one is INVALID_INPUT on `after`."""
from __future__ import annotations

import base64
import binascii

import strawberry

from storelink.errors import InvalidInput
from storelink.limits import valid_pk


@strawberry.type(description=(
    "Relay page info. Pages run forward only (first/after): hasPreviousPage is true when `after` was "
    "given, since the item the cursor names comes before this page."))
class PageInfo:
    has_next_page: bool
    end_cursor: str | None
    has_previous_page: bool = False
    start_cursor: str | None = None

    @classmethod
    def of(cls, cursors: list[str], *, more: bool, after: str | None) -> "PageInfo":
        """The page info of a forward page whose edges carry `cursors` (in order)."""
        return cls(has_next_page=more, end_cursor=cursors[-1] if cursors else None,
                   has_previous_page=after is not None, start_cursor=cursors[0] if cursors else None)


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
