"""DataLoaders for memberships and guides' personal join codes."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from storelink.graphql.dataloaders import RequestLoader, RowsByKey
from storelink.members import join_codes
from storelink.members.models import JoinCode, Membership


class MembershipByCustomer(RowsByKey):
    model = Membership
    column = "customer_id"


class PersonalCodeByGuide(RequestLoader[int, JoinCode | None]):
    async def fetch(self, session: AsyncSession, guide_ids: Sequence[int]) -> list[JoinCode | None]:
        found = await join_codes.personal_codes(session, list(guide_ids))
        return [found.get(g) for g in guide_ids]
