"""The checkout scanner: one entry point for every code a store tablet scans.

Each kind of code registers a handler under its kind letter (see scanning.codes); `scan` checks
the caller, the store and the throttle, recognises the kind and dispatches. Later kinds (coupons,
pickups, appointments) register here without touching the callers.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storelink import throttle
from storelink.accounts import permissions
from storelink.accounts.models import Staff
from storelink.errors import Code, DomainError, Forbidden
from storelink.scanning.codes import parse_scan_code
from storelink.settings import Settings
from storelink.stores import service as store_service

# A tablet scanning garbage this often is someone guessing codes.
SCAN_FAILURE_LIMIT = 20
SCAN_FAILURE_WINDOW = timedelta(minutes=5)
_CODE_FAILURES = {Code.CODE_INVALID, Code.CODE_EXPIRED, Code.CODE_USED_UP}


@dataclass(frozen=True)
class ScanRequest:
    staff: Staff
    store_id: int
    token: str
    settings: Settings


Handler = Callable[[AsyncSession, ScanRequest], Awaitable[Any]]
_HANDLERS: dict[str, Handler] = {}


def handles(kind: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        _HANDLERS[kind] = fn
        return fn

    return register


async def scan(
    session: AsyncSession, *, staff: Staff, store_id: int, code: str, settings: Settings
) -> Any:
    await store_service.require_store(session, store_id, ["storeId"])
    if not permissions.can_see_store(staff, store_id):
        raise Forbidden("You can only scan at your own store")
    key = f"scan:staff:{staff.id}"
    await throttle.count_attempt(
        session, key, limit=SCAN_FAILURE_LIMIT, window=SCAN_FAILURE_WINDOW,
        message="Too many invalid scans; wait a few minutes",
    )
    try:
        kind, token = parse_scan_code(code[:64], settings.jwt_secret)
        handler = _HANDLERS.get(kind)
        if handler is None:
            raise DomainError("This code cannot be scanned here", code=Code.CODE_INVALID, field=["code"])
        found = await handler(session, ScanRequest(staff, store_id, token, settings))
    except DomainError as err:
        if err.code not in _CODE_FAILURES:  # only bad codes count against the tablet
            err.bookkeeping.append(lambda s: throttle.give_back(s, key))
        raise
    await throttle.give_back(session, key)
    return found
