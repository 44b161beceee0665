"""Recommendations for the mini-program (any caller; a signed-in customer's own signals) and, on
the tablet, for a member standing in the store. Each answer is stored (what was shown), so these
queries write, through the one transaction helper."""
from __future__ import annotations

import strawberry

from storelink.accounts import permissions
from storelink.api.context import Info
from storelink.db import transaction
from storelink.errors import Forbidden
from storelink.graphql import caller
from storelink.graphql.relay import decode_id, decode_optional_id
from storelink.members.scope import member_for_staff
from storelink.recommend import serve
from storelink.recommend.types import Recommendation, RecommendationContext
from storelink.stores import service as store_service


@strawberry.type
class RecommendQueries:
    @strawberry.field
    async def recommendations(self, info: Info, context: RecommendationContext,
                              product_id: strawberry.ID | None = None, store_id: strawberry.ID | None = None,
                              first: int = 10) -> list[Recommendation]:
        principal = await info.context.principal()
        customer = principal.customer if principal else None

        async def work(session):
            store_pk = decode_optional_id(store_id, "Store", ["storeId"])
            store = await store_service.require_store(session, store_pk, ["storeId"]) if store_pk else None
            product_pk = decode_optional_id(product_id, "Product", ["productId"])
            return await serve.recommend(
                session, context=context.value, customer_id=customer.id if customer else None, staff_id=None,
                store=store, product_id=product_pk, first=first, lang=info.context.lang)

        return [Recommendation.from_shown(s) for s in await transaction(info.context.sessionmaker, work)]

    @strawberry.field(description="Staff: the AI guide's suggestions for a member standing in the store.")
    async def member_recommendations(self, info: Info, member_id: strawberry.ID, store_id: strawberry.ID,
                                     first: int = 10) -> list[Recommendation]:
        staff = await caller.staff(info)

        async def work(session):
            store = await store_service.require_store(session, decode_id(store_id, "Store", ["storeId"]), ["storeId"])
            if not permissions.can_see_store(staff, store.id):
                raise Forbidden("You can only serve members at your own store")
            membership = await member_for_staff(
                session, staff, decode_id(member_id, "MemberProfile", ["memberId"]), ["memberId"])
            return await serve.recommend(
                session, context="STORE_VISIT", customer_id=membership.customer_id, staff_id=staff.id,
                store=store, product_id=None, first=first, lang=info.context.lang)

        return [Recommendation.from_shown(s) for s in await transaction(info.context.sessionmaker, work)]
