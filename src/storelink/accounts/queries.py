"""Who am I: the signed-in customer or staff member."""
from __future__ import annotations

import strawberry

from storelink.accounts.types import Customer, Staff
from storelink.graphql.permissions import customer_for_query, staff_for_query


@strawberry.type
class AccountQueries:
    @strawberry.field(description="The signed-in customer.")
    async def me(self, info: strawberry.Info) -> Customer | None:
        return Customer.from_model(await customer_for_query(info))

    @strawberry.field(description="The signed-in staff member.")
    async def staff_me(self, info: strawberry.Info) -> Staff | None:
        return Staff.from_model(await staff_for_query(info))
