"""Staff look-ups of members."""
from __future__ import annotations

import strawberry

from storelink.api.context import Info
from storelink.errors import Forbidden, NotFound
from storelink.graphql import caller
from storelink.graphql.relay import decode_id, node_resolver
from storelink.members import models
from storelink.members.scope import member_in_scope
from storelink.members.types import MemberProfile, member_profile


@node_resolver("MemberProfile")
async def load_member_profile(info: Info, membership_id: int) -> MemberProfile | None:
    """The profile if the signed-in staff member may see it (null, or a FORBIDDEN error)."""
    staff = await caller.staff(info)
    async with info.context.reader() as session:
        membership = await session.get(models.Membership, membership_id)
        if membership is None:
            return None
        if not await member_in_scope(session, staff, membership):
            raise Forbidden("This member is outside your store's scope")
    return await member_profile(info, membership)


@strawberry.type
class MemberQueries:
    @strawberry.field(description="Staff: a member of their scope, with cart, recent orders and tags.")
    async def member(self, info: Info, id: strawberry.ID) -> MemberProfile | None:
        try:
            pk = decode_id(id, "MemberProfile", ["id"])
        except NotFound:
            return None
        return await load_member_profile(info, pk)
