"""GraphQL types of coupons and campaigns."""
from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry

from storelink.graphql.errors import UserError
from storelink.graphql.relay import Node, node_resolver, to_global_id
from storelink.loyalty import models, service


@strawberry.enum
class CouponStatus(Enum):
    AVAILABLE = "AVAILABLE"
    REDEEMED = "REDEEMED"
    EXPIRED = "EXPIRED"


@strawberry.type
class CouponCampaign(Node):
    id: strawberry.ID
    title: str
    discount_fen: int
    min_spend_fen: int
    valid_from: dt.datetime
    valid_until: dt.datetime
    remaining: int | None = strawberry.field(description="How many coupons are left to claim (null = unlimited).")
    per_customer_limit: int = strawberry.field(description="How many one customer may claim (beyond the contract).")

    @classmethod
    def from_model(cls, row: models.CouponCampaign) -> "CouponCampaign":
        return cls(id=to_global_id("CouponCampaign", row.id), title=row.title, discount_fen=row.discount_fen,
                   min_spend_fen=row.min_spend_fen, valid_from=row.valid_from, valid_until=row.valid_until,
                   remaining=service.remaining(row), per_customer_limit=row.per_customer_limit)


@node_resolver("CouponCampaign")
async def _campaign_node(info, pk: int) -> CouponCampaign | None:
    row = await info.context.loaders.campaign.load(pk)  # campaigns are public offers
    return CouponCampaign.from_model(row) if row else None


@strawberry.type
class Coupon(Node):
    id: strawberry.ID
    code: str = strawberry.field(description="Single-use code; shown as a QR code and scanned at the store to redeem offline.")
    campaign: CouponCampaign
    status: CouponStatus
    claimed_at: dt.datetime
    redeemed_at: dt.datetime | None

    @classmethod
    def from_model(cls, row: models.Coupon, campaign: models.CouponCampaign, secret: str) -> "Coupon":
        return cls(id=to_global_id("Coupon", row.id), code=service.coupon_code(row, secret),
                   campaign=CouponCampaign.from_model(campaign), status=CouponStatus(service.status_of(row, campaign)),
                   claimed_at=row.claimed_at, redeemed_at=row.redeemed_at)


@node_resolver("Coupon")
async def _coupon_node(info, pk: int) -> Coupon | None:
    from storelink.graphql.permissions import customer_for_query, forbidden

    me = await customer_for_query(info)  # a coupon's code is the owner's to show
    async with info.context.sessionmaker() as session:
        row = await session.get(models.Coupon, pk)
        if row is None:
            return None
        if row.customer_id != me.id:
            raise forbidden()
        campaign = await session.get(models.CouponCampaign, row.campaign_id)
    return Coupon.from_model(row, campaign, info.context.settings.jwt_secret)


@strawberry.input
class CouponCampaignInput:
    title: str
    discount_fen: int
    valid_from: dt.datetime
    valid_until: dt.datetime
    min_spend_fen: int = 0
    total_quantity: int | None = strawberry.field(default=None, description="Null: unlimited.")
    per_customer_limit: int = strawberry.field(default=1, description="How many coupons of this campaign one customer may claim.")


@strawberry.type
class CouponPayload:
    coupon: Coupon | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CouponCampaignPayload:
    campaign: CouponCampaign | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
