"""Coupon campaigns on offer."""
from __future__ import annotations

import strawberry

from storelink.loyalty import service
from storelink.loyalty.types import CouponCampaign


@strawberry.type
class LoyaltyQueries:
    @strawberry.field(description="Campaigns that have not ended, soonest ending first (public).")
    async def coupon_campaigns(self, info: strawberry.Info) -> list[CouponCampaign]:
        async with info.context.sessionmaker() as session:
            rows = await service.running_campaigns(session)
        return [CouponCampaign.from_model(r) for r in rows]
