"""Audience previews: how many members a rule matches and how many a message could reach."""
from __future__ import annotations

import strawberry

from storelink.api.context import Info
from storelink.clock import utcnow
from storelink.graphql import caller
from storelink.graphql.relay import node_resolver
from storelink.marketing import audience as audiences, campaigns, referrals
from storelink.marketing.campaign_types import CampaignStatus, MarketingCampaign
from storelink.marketing.models import CampaignStatus as Status, MarketingCampaign as CampaignRow
from storelink.marketing.types import AudienceInput, AudienceSize, ReferralProgram


@node_resolver("MarketingCampaign")
async def _campaign_node(info: Info, pk: int) -> MarketingCampaign | None:
    staff = await caller.staff(info)
    async with info.context.reader() as session:
        row = await session.get(CampaignRow, pk)
    return MarketingCampaign.from_model(row) if row is not None and campaigns.visible_to(staff, row) else None


@strawberry.type
class MarketingQueries:
    @strawberry.field(description="HQ, or a store manager for their own store: how many members a rule matches "
                                  "and how many are reachable.")
    async def audience_preview(self, info: Info, audience: AudienceInput,
                               template_id: str | None = None) -> AudienceSize:
        staff = await caller.staff(info)
        rule = audience.rule(["audience"])
        campaigns.confine(staff, rule)
        if template_id is not None:
            audiences.check_template_id(template_id, ["templateId"])
        async with info.context.reader() as session:
            rule = await audiences.checked(session, rule, ["audience"])
            members, reachable = await audiences.size(session, rule, template_id=template_id, now=utcnow(),
                                                     settings=info.context.settings)
        return AudienceSize(members=members, reachable=reachable)

    @strawberry.field(description="HQ: every campaign; a store manager: their store's. Newest first.")
    async def marketing_campaigns(self, info: Info, status: CampaignStatus | None = None) -> list[MarketingCampaign]:
        staff = await caller.staff(info)
        async with info.context.reader() as session:
            rows = await campaigns.listed(session, actor=staff, status=Status(status.value) if status else None,
                                          now=utcnow())
        return [MarketingCampaign.from_model(r) for r in rows]

    @strawberry.field(description="The referral program (signed in: customers and staff); null until HQ sets one.")
    async def referral_program(self, info: Info) -> ReferralProgram | None:
        await caller.signed_in(info)
        async with info.context.reader() as session:
            row = await referrals.program(session)
        return ReferralProgram.from_model(row) if row else None
