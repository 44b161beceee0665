"""GraphQL types of coupons and campaigns."""
from __future__ import annotations

import datetime as dt

import strawberry

from storelink.graphql.errors import UserError
from storelink.graphql.relay import Node, to_global_id
from storelink.loyalty import models
from storelink.scanning import codes


CouponStatus = strawberry.enum(models.CouponStatus)


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
                   remaining=models.remaining(row), per_customer_limit=row.per_customer_limit)


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
        return cls(id=to_global_id("Coupon", row.id), code=codes.coupon_code(row.token, secret),
                   campaign=CouponCampaign.from_model(campaign), status=models.coupon_status(row, campaign),
                   claimed_at=row.claimed_at, redeemed_at=row.redeemed_at)


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
