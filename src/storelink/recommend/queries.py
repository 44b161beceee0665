"""Recommendations for the mini-program (any caller; a signed-in customer's own signals) and, on
the tablet, for a member standing in the store."""
from __future__ import annotations

import strawberry

from storelink.accounts import permissions
from storelink.errors import Forbidden
from storelink.graphql.permissions import staff_for_query
from storelink.graphql.relay import decode_id, decode_optional_id
from storelink.members import service as members
from storelink.recommend import serve
from storelink.recommend.types import Recommendation, RecommendationContext
from storelink.stores import service as store_service


@strawberry.type
class RecommendQueries:
    @strawberry.field
    async def recommendations(self, info: strawberry.Info, context: RecommendationContext,
                              product_id: strawberry.ID | None = None, store_id: strawberry.ID | None = None,
                              first: int = 10) -> list[Recommendation]:
        principal = await info.context.principal()
        customer = principal.customer if principal else None
        async with info.context.sessionmaker() as session:
            store_pk = decode_optional_id(store_id, "Store", ["storeId"])
            store = await store_service.require_store(session, store_pk, ["storeId"]) if store_pk else None
            product_pk = decode_optional_id(product_id, "Product", ["productId"])
            shown = await serve.recommend(
                session, context=context.value, customer_id=customer.id if customer else None, staff_id=None,
                store=store, product_id=product_pk, first=first)
            await session.commit()
        return [Recommendation.from_shown(s) for s in shown]

    @strawberry.field(description="Staff: the AI guide's suggestions for a member standing in the store.")
    async def member_recommendations(self, info: strawberry.Info, member_id: strawberry.ID, store_id: strawberry.ID,
                                     first: int = 10) -> list[Recommendation]:
        staff = await staff_for_query(info)
        async with info.context.sessionmaker() as session:
            store = await store_service.require_store(session, decode_id(store_id, "Store", ["storeId"]), ["storeId"])
            if not permissions.can_see_store(staff, store.id):
                raise Forbidden("You can only serve members at your own store")
            membership = await members.member_for_staff(
                session, staff, decode_id(member_id, "MemberProfile", ["memberId"]), ["memberId"])
            shown = await serve.recommend(
                session, context="STORE_VISIT", customer_id=membership.customer_id, staff_id=staff.id,
                store=store, product_id=None, first=first)
            await session.commit()
        return [Recommendation.from_shown(s) for s in shown]
