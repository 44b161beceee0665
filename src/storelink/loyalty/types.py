"""GraphQL types of coupons and campaigns."""
from __future__ import annotations

import asyncio
import datetime as dt

import strawberry
from sqlalchemy import Row

from storelink.api.context import Info
from storelink.graphql.enums import graphql_enums
from storelink.graphql.errors import UserError
from storelink.graphql.relay import Node, to_global_id
from storelink.loyalty import models
from storelink.marketing.audience import Rule
from storelink.marketing.types import Audience, AudienceInput
from storelink.scanning import codes
from storelink.stores.types import Store, load_store


CouponStatus = models.CouponStatus
CouponChannel = models.CouponChannel
graphql_enums(CouponStatus, CouponChannel)


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
    channel: CouponChannel
    audience: Audience | None = strawberry.field(description="Who may claim or receive it (null: any member).")
    store_pks: strawberry.Private[list[int]]

    @classmethod
    def from_model(cls, row: models.CouponCampaign) -> "CouponCampaign":
        return cls(id=to_global_id("CouponCampaign", row.id), title=row.title, discount_fen=row.discount_fen,
                   min_spend_fen=row.min_spend_fen, valid_from=row.valid_from, valid_until=row.valid_until,
                   remaining=models.remaining(row), per_customer_limit=row.per_customer_limit,
                   channel=CouponChannel(row.channel),
                   audience=Audience.from_rule(Rule.from_json(row.audience)) if row.audience else None,
                   store_pks=list(row.store_ids))

    @strawberry.field(description="Redeemable only at these stores (empty: any store).")
    async def stores(self, info: Info) -> list[Store]:
        found = await asyncio.gather(*(load_store(info, pk) for pk in self.store_pks))
        return [s for s in found if s is not None]


@strawberry.type
class Coupon(Node):
    id: strawberry.ID
    code: str = strawberry.field(description="Single-use code; shown as a QR code and scanned at the store to redeem offline.")
    campaign: CouponCampaign
    status: CouponStatus
    claimed_at: dt.datetime
    redeemed_at: dt.datetime | None

    @classmethod
    def from_model(cls, row: models.Coupon | Row, campaign: models.CouponCampaign, secret: str) -> "Coupon":
        """From the model, or from a row with its columns (loyalty.issue's RETURNING)."""
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
    channel: CouponChannel = CouponChannel.ANY
    store_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    audience: AudienceInput | None = None


@strawberry.type
class CouponPayload:
    coupon: Coupon | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CouponCampaignPayload:
    campaign: CouponCampaign | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
