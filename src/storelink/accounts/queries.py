"""Who am I: the signed-in customer or staff member; staff and customers by node ID."""
from __future__ import annotations

import strawberry

from storelink.accounts import permissions
from storelink.accounts.loaders import StaffById
from storelink.accounts.types import Customer, Staff
from storelink.api.context import Info
from storelink.errors import Forbidden
from storelink.graphql import caller
from storelink.graphql.relay import node_resolver


@node_resolver("Staff")
async def _staff_node(info: Info, pk: int) -> Staff | None:
    viewer = await caller.staff(info)
    row = await StaffById.of(info).load(pk)
    if row is None:
        return None
    if not permissions.can_see_staff(viewer, row):
        raise Forbidden("You may not see this")
    return Staff.from_model(row)


@node_resolver("Customer")
async def _customer_node(info: Info, pk: int) -> Customer | None:
    me = await caller.customer(info)  # staff see members through MemberProfile, never the raw customer
    return Customer.from_model(me) if me.id == pk else None  # another customer reads as missing


@strawberry.type
class AccountQueries:
    @strawberry.field(description="The signed-in customer.")
    async def me(self, info: Info) -> Customer | None:
        return Customer.from_model(await caller.customer(info))

    @strawberry.field(description="The signed-in staff member.")
    async def staff_me(self, info: Info) -> Staff | None:
        return Staff.from_model(await caller.staff(info))
