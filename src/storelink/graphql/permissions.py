"""Resolving the caller for a field: who must be signed in, and as what.

Queries answer a refusal as a top-level error (ApiError); mutations as userErrors (DomainError).
"""
from __future__ import annotations

from storelink.accounts.models import Customer, Staff
from storelink.errors import Forbidden, Unauthenticated
from storelink.graphql.errors import ApiError


async def _caller(info, kind: str, *, for_mutation: bool):
    principal = await info.context.principal()
    if principal is None:
        if for_mutation:
            raise Unauthenticated("Please sign in")
        raise ApiError("UNAUTHENTICATED", "Please sign in")
    found = principal.customer if kind == "customer" else principal.staff
    if found is None:
        message = "Only customers may do this" if kind == "customer" else "Only staff may do this"
        if for_mutation:
            raise Forbidden(message)
        raise ApiError("FORBIDDEN", message)
    return found


async def customer_for_query(info) -> Customer:
    return await _caller(info, "customer", for_mutation=False)


async def staff_for_query(info) -> Staff:
    return await _caller(info, "staff", for_mutation=False)


async def customer_for_mutation(info) -> Customer:
    return await _caller(info, "customer", for_mutation=True)


async def staff_for_mutation(info) -> Staff:
    return await _caller(info, "staff", for_mutation=True)


async def caller_for_mutation(info) -> tuple[Customer | None, Staff | None]:
    """(customer, None) or (None, staff), for mutations open to both."""
    principal = await info.context.principal()
    if principal is None:
        raise Unauthenticated("Please sign in")
    return principal.customer, principal.staff


async def caller_for_query(info) -> tuple[Customer | None, Staff | None]:
    """(customer, None) or (None, staff), for fields open to both; UNAUTHENTICATED otherwise."""
    principal = await info.context.principal()
    if principal is None:
        raise ApiError("UNAUTHENTICATED", "Please sign in")
    return principal.customer, principal.staff


def forbidden(message: str = "You may not see this") -> ApiError:
    return ApiError("FORBIDDEN", message)
