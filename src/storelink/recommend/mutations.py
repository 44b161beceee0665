"""Feedback on a shown recommendation."""
from __future__ import annotations

import strawberry

from storelink.api.context import Info
from storelink.db import transaction
from storelink.graphql import caller
from storelink.graphql.relay import decode_id
from storelink.recommend import feedback as feedback_service
from storelink.recommend.types import RecommendationFeedback


@strawberry.type
class RecommendMutations:
    @strawberry.mutation(description="True when recorded; false for a recommendation not shown to the caller.")
    async def record_recommendation_feedback(self, info: Info, id: strawberry.ID,
                                             feedback: RecommendationFeedback) -> bool:
        # A top-level error rather than userErrors: this mutation answers a bare Boolean.
        who = await caller.signed_in(info)
        shown_id = decode_id(id, "Recommendation", ["id"])
        return await transaction(info.context.sessionmaker, lambda session: feedback_service.record_feedback(
            session, shown_id=shown_id, feedback=feedback.value, customer=who.customer, staff=who.staff))
