"""GraphQL types of the AI guide's recommendations."""
from __future__ import annotations

from typing import TYPE_CHECKING

import strawberry

from storelink.catalog.types import Product, Sku
from storelink.graphql.enums import graphql_enums
from storelink.graphql.relay import to_global_id
from storelink.recommend import models

if TYPE_CHECKING:
    from storelink.recommend.serve import Shown


RecommendationContext = models.RecommendationContext
RecommendationFeedback = models.RecommendationFeedback
graphql_enums(RecommendationContext, RecommendationFeedback)


@strawberry.type
class Recommendation:
    id: strawberry.ID = strawberry.field(description="Identifies this one shown recommendation, for feedback and attribution.")
    product: Product
    sku: Sku = strawberry.field(description="The SKU to add, in stock where the recommendation is used.")
    score: float
    reasons: list[str] = strawberry.field(
        description="Short human-readable reasons in the caller's language, e.g. '常与购物车中的羊毛大衣一起购买'.")

    @classmethod
    def from_shown(cls, shown: Shown) -> "Recommendation":
        return cls(id=to_global_id("Recommendation", shown.row.id), product=Product.from_model(shown.product),
                   sku=Sku.from_model(shown.sku), score=shown.row.score, reasons=list(shown.row.reasons))
