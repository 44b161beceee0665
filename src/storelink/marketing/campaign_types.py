"""GraphQL types of marketing campaigns, their reports, location reports and one-to-one messages."""
from __future__ import annotations

import datetime as dt

import strawberry

from storelink.api.context import Info
from storelink.clock import utcnow
from storelink.errors import InvalidInput
from storelink.graphql.enums import graphql_enums
from storelink.graphql.errors import UserError
from storelink.graphql.relay import Node, to_global_id
from storelink.graphql.scalars import Long
from storelink.loyalty.loaders import CampaignById
from storelink.loyalty.types import Coupon, CouponCampaign
from storelink.marketing import campaigns, models, report as reports
from storelink.marketing.audience import Rule
from storelink.marketing.types import Audience, AudienceInput
from storelink.stores.types import Store, load_store

CampaignTrigger = models.CampaignTrigger
CampaignStatus = models.CampaignStatus
graphql_enums(CampaignTrigger, CampaignStatus)


@strawberry.type(description="What a campaign caused, measured against its control group.")
class CampaignReport:
    eligible: int = strawberry.field(description="Members who met the trigger and the audience (treated and control).")
    control: int
    sent: int = strawberry.field(description="Messages WeChat accepted.")
    unreachable: int = strawberry.field(
        description="Treated members without marketing consent or without a subscription credit.")
    suppressed: int = strawberry.field(
        description="Held back by the frequency cap (a message waiting out quiet hours is not counted until it goes).")
    failed: int
    coupons_issued: int
    coupons_redeemed_online: int
    coupons_redeemed_in_store: int
    treated_converted: int = strawberry.field(
        description="Treated members with a paid order (either channel) within attributionDays of being reached.")
    control_converted: int = strawberry.field(
        description="Control members with a paid order within attributionDays of being held out.")
    treated_conversion_rate: float
    control_conversion_rate: float
    lift: float = strawberry.field(
        description="treatedConversionRate - controlConversionRate, and its 95% confidence interval.")
    lift_low: float
    lift_high: float
    gmv_fen: Long = strawberry.field(description="Paid order value of converted treated members within the window.")


@strawberry.type
class MarketingCampaign(Node):
    id: strawberry.ID
    name: str
    trigger: CampaignTrigger
    audience: Audience
    template_id: str = strawberry.field(description="The WeChat subscribe-message template the message is sent with.")
    status: CampaignStatus
    starts_at: dt.datetime
    ends_at: dt.datetime
    control_share: float = strawberry.field(
        description="Share of eligible members held out, deterministically, as the control group (0 to 0.5).")
    radius_meters: int | None
    delay_minutes: int | None
    pk: strawberry.Private[int]
    offer_pk: strawberry.Private[int | None]
    store_pk: strawberry.Private[int | None]

    @classmethod
    def from_model(cls, row: models.MarketingCampaign) -> "MarketingCampaign":
        return cls(id=to_global_id("MarketingCampaign", row.id), name=row.name,
                   trigger=CampaignTrigger(row.trigger), audience=Audience.from_rule(Rule.from_json(row.audience)),
                   template_id=row.template_id, status=CampaignStatus(campaigns.status_of(row, utcnow()).value),
                   starts_at=row.starts_at, ends_at=row.ends_at, control_share=row.control_share,
                   radius_meters=row.radius_m, delay_minutes=row.delay_minutes, pk=row.id,
                   offer_pk=row.offer_campaign_id, store_pk=row.store_id)

    @strawberry.field(description="The coupon each reached member receives (null: a message only).")
    async def offer(self, info: Info) -> CouponCampaign | None:
        if self.offer_pk is None:
            return None
        row = await CampaignById.of(info).load(self.offer_pk)
        return CouponCampaign.from_model(row) if row else None

    @strawberry.field(description="The store whose manager made it; null for HQ's campaigns.")
    async def store(self, info: Info) -> Store | None:
        return await load_store(info, self.store_pk)

    @strawberry.field
    async def report(self, info: Info, attribution_days: int = 14) -> CampaignReport:
        if not 1 <= attribution_days <= reports.MAX_ATTRIBUTION_DAYS:
            raise InvalidInput("attributionDays is 1 to {n}", n=reports.MAX_ATTRIBUTION_DAYS,
                               field=["attributionDays"])
        async with info.context.reader() as session:
            found = await reports.of(session, self.pk, attribution_days)
        return CampaignReport(**vars(found))


@strawberry.input
class MarketingCampaignInput:
    name: str
    trigger: CampaignTrigger
    audience: AudienceInput
    template_id: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    offer_campaign_id: strawberry.ID | None = None
    control_share: float = 0.1
    radius_meters: int | None = strawberry.field(default=None, description="STORE_NEARBY only; default 3000.")
    delay_minutes: int | None = strawberry.field(default=None, description="Delayed triggers only.")


@strawberry.type
class MarketingCampaignPayload:
    campaign: MarketingCampaign | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class LocationPayload:
    coupons: list[Coupon] = strawberry.field(
        default_factory=list,
        description="Coupons this report earned (STORE_NEARBY campaigns); they are in the customer's coupons too.")
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class OutreachPayload:
    sent: bool = strawberry.field(default=False, description="True when WeChat accepted the message.")
    coupon: Coupon | None = strawberry.field(default=None, description="The coupon given with it, if any.")
    user_errors: list[UserError] = strawberry.field(default_factory=list)
