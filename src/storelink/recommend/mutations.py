"""Feedback on a shown recommendation."""
from __future__ import annotations

import strawberry

from storelink.graphql.permissions import caller_for_query
from storelink.graphql.relay import decode_id
from storelink.recommend import feedback as feedback_service
from storelink.recommend.types import RecommendationFeedback


@strawberry.type
class RecommendMutations:
    @strawberry.mutation(description="True when recorded; false for a recommendation not shown to the caller.")
    async def record_recommendation_feedback(self, info: strawberry.Info, id: strawberry.ID,
                                             feedback: RecommendationFeedback) -> bool:
        # A top-level error rather than userErrors: this mutation answers a bare Boolean.
        customer, staff = await caller_for_query(info)
        async with info.context.sessionmaker() as session:
            recorded = await feedback_service.record_feedback(
                session, shown_id=decode_id(id, "Recommendation", ["id"]), feedback=feedback.value,
                customer=customer, staff=staff)
            await session.commit()
        return recorded


