"""Audience previews: how many members a rule matches and how many a message could reach."""
from __future__ import annotations

import strawberry

from storelink.accounts import permissions
from storelink.accounts.models import StaffRole
from storelink.api.context import Info
from storelink.clock import utcnow
from storelink.errors import Forbidden
from storelink.graphql import caller
from storelink.marketing import audience as audiences
from storelink.marketing.types import AudienceInput, AudienceSize


def confine(staff, rule: audiences.Rule) -> None:
    """HQ: brand-wide; a store manager: exactly their own store (API-NOTES "Marketing")."""
    if permissions.is_hq(staff):
        return
    if staff.role != StaffRole.STORE_MANAGER or rule.store_ids != (staff.store_id,):
        raise Forbidden("A store manager's audiences are their own store's: set storeIds to it alone")


@strawberry.type
class MarketingQueries:
    @strawberry.field(description="HQ, or a store manager for their own store: how many members a rule matches "
                                  "and how many are reachable.")
    async def audience_preview(self, info: Info, audience: AudienceInput,
                               template_id: str | None = None) -> AudienceSize:
        staff = await caller.staff(info)
        rule = audience.rule(["audience"])
        confine(staff, rule)
        if template_id is not None:
            audiences.check_template_id(template_id, ["templateId"])
        async with info.context.reader() as session:
            rule = await audiences.checked(session, rule, ["audience"])
            members, reachable = await audiences.size(session, rule, template_id=template_id, now=utcnow(),
                                                     settings=info.context.settings)
        return AudienceSize(members=members, reachable=reachable)
