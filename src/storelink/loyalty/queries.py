"""Coupon campaigns on offer; campaigns and coupons by node ID."""
from __future__ import annotations

import strawberry

from storelink import db
from storelink.api.context import Info
from storelink.graphql import caller
from storelink.graphql.relay import node_resolver
from storelink.loyalty import models, service
from storelink.loyalty.loaders import CampaignById
from storelink.loyalty.types import Coupon, CouponCampaign


@node_resolver("CouponCampaign")
async def _campaign_node(info: Info, pk: int) -> CouponCampaign | None:
    row = await CampaignById.of(info).load(pk)  # campaigns are public offers
    return CouponCampaign.from_model(row) if row else None


@node_resolver("Coupon")
async def _coupon_node(info: Info, pk: int) -> Coupon | None:
    me = await caller.customer(info)  # a coupon's code is the owner's to show
    async with info.context.reader() as session:
        row = await session.get(models.Coupon, pk)
        if row is None:
            return None
        if row.customer_id != me.id:
            return None  # someone else's reads as missing (ids are sequential)
        campaign = await db.existing(session, models.CouponCampaign, row.campaign_id)
    return Coupon.from_model(row, campaign, info.context.settings.jwt_secret)


@strawberry.type
class LoyaltyQueries:
    @strawberry.field(description="Campaigns that have not ended, soonest ending first (public). A customer sees those "
                                  "they may claim; staff see every one; others those open to any member.")
    async def coupon_campaigns(self, info: Info) -> list[CouponCampaign]:
        who = await info.context.principal()
        customer_id = who.customer.id if who is not None and who.customer is not None else None
        viewer = "staff" if who is not None and who.staff is not None else \
            "customer" if customer_id is not None else "anyone"
        async with info.context.reader() as session:
            rows = await service.running_campaigns(
                session, viewer=viewer, customer_id=customer_id,
                settings=info.context.settings)
        return [CouponCampaign.from_model(r) for r in rows]
