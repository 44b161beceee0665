"""Staff look-ups of members."""
from __future__ import annotations

import strawberry

from storelink.api.context import Info
from storelink.errors import Forbidden, NotFound
from storelink.graphql import caller
from storelink.graphql.pagination import PageInfo, cursor_for, id_after
from storelink.graphql.relay import decode_id, decode_optional_id, node_resolver
from storelink.members import client_book, models
from storelink.members.scope import member_in_scope
from storelink.members.types import (
    MemberProfile, MemberProfileConnection, MemberProfileEdge, MemberSegment, PrivacyPolicy, member_profile,
)


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
    @strawberry.field(description="Public: the privacy policy a customer accepts to join.")
    def privacy_policy(self, info: Info) -> PrivacyPolicy:
        settings = info.context.settings
        return PrivacyPolicy(version=settings.privacy_policy_version, url=settings.privacy_policy_url)

    @strawberry.field(description="Staff: a member of their scope, with cart, recent orders and tags.")
    async def member(self, info: Info, id: strawberry.ID) -> MemberProfile | None:
        try:
            pk = decode_id(id, "MemberProfile", ["id"])
        except NotFound:
            return None
        return await load_member_profile(info, pk)

    @strawberry.field(description=(
        "Staff: a guide's book of members (guides: their own; managers: any guide of their store, or the whole "
        "store when guideId is null; HQ: any). query matches member number, nickname or the phone's last four "
        "digits."))
    async def client_book(self, info: Info, guide_id: strawberry.ID | None = None,
                          segment: MemberSegment | None = None, query: str | None = None, first: int = 20,
                          after: str | None = None) -> MemberProfileConnection:
        viewer = await caller.staff(info)
        async with info.context.reader() as session:
            book = await client_book.book_for(session, viewer, decode_optional_id(guide_id, "Staff", ["guideId"]))
            rows, more, total = await client_book.page(
                session, book=book, segment=segment, query=query, first=first,
                before_id=id_after(after, "MemberProfile"), settings=info.context.settings)
        edges = [MemberProfileEdge(node=MemberProfile.from_rows(m, c), cursor=cursor_for("MemberProfile", m.id))
                 for m, c in rows]
        return MemberProfileConnection(edges=edges, total_count=total, page_info=PageInfo.of(
            [e.cursor for e in edges], more=more, after=after))
