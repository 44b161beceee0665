"""HQ creates coupon campaigns; members claim coupons."""
from __future__ import annotations

import strawberry

from storelink.api.context import Info
from storelink.graphql.errors import in_transaction
from storelink.graphql import caller
from storelink.graphql.relay import decode_id
from storelink.loyalty import service
from storelink.loyalty.models import CouponCampaign as CampaignRow
from storelink.loyalty.types import Coupon, CouponCampaign, CouponCampaignInput, CouponCampaignPayload, CouponPayload


@strawberry.type
class LoyaltyMutations:
    @strawberry.mutation(description="HQ admin.")
    async def create_coupon_campaign(self, info: Info, input: CouponCampaignInput) -> CouponCampaignPayload:
        async def work(session):
            actor = await caller.staff(info)
            row = await service.create_campaign(
                session, actor=actor, title=input.title, discount_fen=input.discount_fen,
                min_spend_fen=input.min_spend_fen, valid_from=input.valid_from, valid_until=input.valid_until,
                total_quantity=input.total_quantity, per_customer_limit=input.per_customer_limit,
                channel=input.channel.value,
                store_ids=[decode_id(s, "Store", ["input", "storeIds", str(i)]) for i, s in enumerate(input.store_ids)],
                audience_rule=input.audience.rule(["input", "audience"]) if input.audience is not None else None,
            )
            return {"campaign": CouponCampaign.from_model(row)}

        return await in_transaction(info, CouponCampaignPayload, work)

    @strawberry.mutation
    async def claim_coupon(self, info: Info, campaign_id: strawberry.ID) -> CouponPayload:
        async def work(session):
            me = await caller.customer(info)
            coupon = await service.claim(session, customer_id=me.id,
                                         campaign_id=decode_id(campaign_id, "CouponCampaign", ["campaignId"]),
                                         settings=info.context.settings)
            campaign = await session.get(CampaignRow, coupon.campaign_id, populate_existing=True)
            return {"coupon": Coupon.from_model(coupon, campaign, info.context.settings.jwt_secret)}

        return await in_transaction(info, CouponPayload, work)
