"""Who must be signed in for a field, and as what.

A refusal is a DomainError like any other: in a mutation's transaction it becomes userErrors, in
a query a coded top-level error (graphql/errors.py), so one helper serves both.
The kit reads the caller through `info.context.principal()` and imports no domain.
"""
from __future__ import annotations

from typing import Any

import strawberry

from storelink.errors import Forbidden, Unauthenticated


async def signed_in(info: strawberry.Info) -> Any:
    """The caller's principal (customer or staff); UNAUTHENTICATED without one."""
    principal = await info.context.principal()
    if principal is None:
        raise Unauthenticated("Please sign in")
    return principal


async def customer(info: strawberry.Info) -> Any:
    """The signed-in customer; FORBIDDEN for staff."""
    found = (await signed_in(info)).customer
    if found is None:
        raise Forbidden("Only customers may do this")
    return found


async def staff(info: strawberry.Info) -> Any:
    """The signed-in staff member; FORBIDDEN for customers."""
    found = (await signed_in(info)).staff
    if found is None:
        raise Forbidden("Only staff may do this")
    return found
