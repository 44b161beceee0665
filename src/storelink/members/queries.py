"""Staff look-ups of members."""
from __future__ import annotations

import strawberry

from storelink.errors import NotFound
from storelink.graphql.relay import decode_id
from storelink.members.types import MemberProfile, load_member_profile


@strawberry.type
class MemberQueries:
    @strawberry.field(description="Staff: a member of their scope, with cart, recent orders and tags.")
    async def member(self, info: strawberry.Info, id: strawberry.ID) -> MemberProfile | None:
        try:
            pk = decode_id(id, "MemberProfile", ["id"])
        except NotFound:
            return None
        return await load_member_profile(info, pk)
