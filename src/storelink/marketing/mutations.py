"""Campaigns (HQ and store managers), what feeds their triggers (recordMessageSubscriptions,
trackActivity, reportLocation) and a guide's one-to-one message (sendToMember)."""
from __future__ import annotations

import strawberry
from sqlalchemy import select

from storelink.api.context import Info
from storelink.clock import utcnow
from storelink.db import transaction
from storelink.graphql import caller
from storelink.graphql.errors import in_transaction
from storelink.graphql.relay import decode_id, decode_optional_id
from storelink.loyalty.models import Coupon as CouponRow, CouponCampaign as OfferRow
from storelink.loyalty.types import Coupon
from storelink.marketing import activity, campaigns, messages, nearby, outreach, referrals
from storelink.marketing.campaign_types import (
    CampaignStatus, LocationPayload, MarketingCampaign, MarketingCampaignInput, MarketingCampaignPayload,
    OutreachPayload,
)
from storelink.marketing.models import CampaignStatus as Status, CampaignTrigger
from storelink.marketing.types import (
    ActivityKind, MessageSubscription, ReferralProgram, ReferralProgramInput, ReferralProgramPayload,
)
from storelink.stores.service import point
from storelink.stores.types import GeoPointInput


@strawberry.type
class MarketingMutations:
    @strawberry.mutation(description="Customer: the templates they accepted in wx.requestSubscribeMessage; one "
                                     "credit each. Returns the credits of the templates named.")
    async def record_message_subscriptions(self, info: Info, accepted_template_ids: list[str]
                                           ) -> list[MessageSubscription]:
        me = await caller.customer(info)
        credits = await transaction(info.context.sessionmaker, lambda session: messages.record(
            session, customer_id=me.id, accepted=accepted_template_ids))
        return [MessageSubscription(template_id=t, credits=n) for t, n in credits]

    @strawberry.mutation(description="Customer: what they looked at or searched for.")
    async def track_activity(self, info: Info, kind: ActivityKind, product_id: strawberry.ID | None = None,
                             store_id: strawberry.ID | None = None, query: str | None = None) -> bool:
        me = await caller.customer(info)
        product = decode_optional_id(product_id, "Product", ["productId"])
        store = decode_optional_id(store_id, "Store", ["storeId"])
        await transaction(info.context.sessionmaker, lambda session: activity.track(
            session, customer_id=me.id, kind=activity.ActivityKind(kind.value), product_id=product,
            store_id=store, query=query))
        return True

    @strawberry.mutation(description="HQ admin, or a store manager for an audience within their own store.")
    async def create_marketing_campaign(self, info: Info, input: MarketingCampaignInput) -> MarketingCampaignPayload:
        async def work(session):
            staff = await caller.staff(info)
            row = await campaigns.create(
                session, actor=staff, name=input.name, trigger=CampaignTrigger(input.trigger.value),
                rule=input.audience.rule(["input", "audience"]),
                offer_campaign_id=decode_optional_id(input.offer_campaign_id, "CouponCampaign",
                                                     ["input", "offerCampaignId"]),
                template_id=input.template_id, starts_at=input.starts_at, ends_at=input.ends_at,
                control_share=input.control_share, radius_m=input.radius_meters, delay_minutes=input.delay_minutes,
                now=utcnow())
            return {"campaign": MarketingCampaign.from_model(row)}

        return await in_transaction(info, MarketingCampaignPayload, work)

    @strawberry.mutation(description="SCHEDULED or RUNNING (go: the calendar says which) <-> PAUSED; anything -> "
                                     "ENDED; nothing after ENDED.")
    async def set_marketing_campaign_status(self, info: Info, id: strawberry.ID,
                                            status: CampaignStatus) -> MarketingCampaignPayload:
        async def work(session):
            staff = await caller.staff(info)
            row = await campaigns.set_status(session, actor=staff, campaign_id=decode_id(id, "MarketingCampaign",
                                                                                          ["id"]),
                                             status=Status(status.value), now=utcnow())
            return {"campaign": MarketingCampaign.from_model(row)}

        return await in_transaction(info, MarketingCampaignPayload, work)

    @strawberry.mutation(description="Customer: where they are now, checked at once against the running "
                                     "STORE_NEARBY campaigns and never stored. At most 10 a minute.")
    async def report_location(self, info: Info, location: GeoPointInput) -> LocationPayload:
        async def work(session):
            me = await caller.customer(info)
            near = point(location, ["location"])
            earned = await nearby.report(session, customer_id=me.id, near=near, now=utcnow(),
                                         settings=info.context.settings)
            secret = info.context.settings.jwt_secret
            return {"coupons": [Coupon.from_model(coupon, offer, secret) for coupon, offer in earned]}

        return await in_transaction(info, LocationPayload, work)

    @strawberry.mutation(description="A guide: a one-to-one message to a member of their own book, with an optional "
                                     "coupon and products. Needs a credit and marketing consent; counts against the "
                                     "weekly cap.")
    async def send_to_member(self, info: Info, member_id: strawberry.ID, template_id: str,
                             coupon_campaign_id: strawberry.ID | None = None,
                             product_ids: list[strawberry.ID] = [], note: str | None = None
                             ) -> OutreachPayload:
        async def work(session):
            guide = await caller.staff(info)
            coupon = await outreach.send(
                session, info.context.wechat, guide=guide,
                membership_id=decode_id(member_id, "MemberProfile", ["memberId"]), template_id=template_id,
                coupon_campaign_id=decode_optional_id(coupon_campaign_id, "CouponCampaign", ["couponCampaignId"]),
                product_ids=[decode_id(p, "Product", ["productIds", str(i)]) for i, p in enumerate(product_ids)],
                note=note, now=utcnow(), settings=info.context.settings)
            found = await _coupons(session, [coupon.id] if coupon else [], info)
            return {"sent": True, "coupon": found[0] if found else None}

        return await in_transaction(info, OutreachPayload, work)

    @strawberry.mutation(description="HQ admin: the referral program's rewards and monthly limit.")
    async def set_referral_program(self, info: Info, input: ReferralProgramInput) -> ReferralProgramPayload:
        async def work(session):
            staff = await caller.staff(info)
            row = await referrals.set_program(
                session, actor=staff, inviter_points=input.inviter_points, invitee_points=input.invitee_points,
                monthly_limit=input.monthly_limit, active=input.active, now=utcnow())
            return {"program": ReferralProgram.from_model(row)}

        return await in_transaction(info, ReferralProgramPayload, work)


async def _coupons(session, ids: list[int], info: Info) -> list[Coupon]:
    if not ids:
        return []
    rows = await session.execute(select(CouponRow, OfferRow).join(OfferRow, OfferRow.id == CouponRow.campaign_id)
                                 .where(CouponRow.id.in_(ids)).order_by(CouponRow.id))
    return [Coupon.from_model(c, k, info.context.settings.jwt_secret) for c, k in rows]
