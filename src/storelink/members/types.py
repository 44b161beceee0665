"""GraphQL types of membership, join codes, member codes and the checkout scanner."""
from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry

from storelink.accounts.types import Staff, load_staff, mask_phone
from storelink.graphql.errors import ApiError, UserError
from storelink.graphql.relay import Node, node_resolver, to_global_id
from storelink.members import models
from storelink.orders.types import Cart, Order, load_cart
from storelink.stores.types import Store, load_store

@strawberry.enum
class JoinCodeKind(Enum):
    STORE = "STORE"
    GUIDE = "GUIDE"
    CAMPAIGN = "CAMPAIGN"


@strawberry.enum
class JoinChannel(Enum):
    STORE_QR = "STORE_QR"
    GUIDE_QR = "GUIDE_QR"
    CAMPAIGN_QR = "CAMPAIGN_QR"
    ONLINE = "ONLINE"


@strawberry.enum
class MemberTier(Enum):
    REGULAR = "REGULAR"
    SILVER = "SILVER"
    GOLD = "GOLD"
    PLATINUM = "PLATINUM"


@strawberry.type
class JoinCode:
    code: str = strawberry.field(
        description="Short code (at most 32 characters, usable as a WeChat mini-program code scene)."
    )
    kind: JoinCodeKind
    url: str = strawberry.field(
        description="The link the QR code encodes (opens the mini-program through its ordinary-link QR rule)."
    )
    image_url: str = strawberry.field(
        description="Where the rendered QR image is served: this path with .png or .svg."
    )
    campaign: str | None
    expires_at: dt.datetime | None
    max_uses: int | None
    uses: int
    active: bool
    store_pk: strawberry.Private[int]
    guide_pk: strawberry.Private[int | None]

    @classmethod
    def from_model(cls, row: models.JoinCode, public_base_url: str) -> "JoinCode":
        base = public_base_url.rstrip("/")
        return cls(
            code=row.code, kind=JoinCodeKind(row.kind), url=f"{base}/j/{row.code}",
            image_url=f"{base}/qr/{row.code}", campaign=row.campaign, expires_at=row.expires_at,
            max_uses=row.max_uses, uses=row.uses, active=row.active, store_pk=row.store_id,
            guide_pk=row.guide_id,
        )

    @strawberry.field
    async def store(self, info: strawberry.Info) -> Store:
        store = await load_store(info, self.store_pk)
        assert store is not None
        return store

    @strawberry.field
    async def guide(self, info: strawberry.Info) -> Staff | None:
        return await load_staff(info, self.guide_pk)


async def _standing(info, membership_pk: int):
    return await info.context.loaders.standing.load(membership_pk)


@strawberry.type
class Membership:
    member_no: str
    joined_at: dt.datetime
    join_channel: JoinChannel
    pk: strawberry.Private[int]
    join_store_pk: strawberry.Private[int | None]
    recruited_by_pk: strawberry.Private[int | None]
    guide_pk: strawberry.Private[int | None]

    @classmethod
    def from_model(cls, row: models.Membership) -> "Membership":
        return cls(
            member_no=row.member_no, joined_at=row.joined_at, join_channel=JoinChannel(row.join_channel),
            pk=row.id, join_store_pk=row.join_store_id, recruited_by_pk=row.recruited_by_id, guide_pk=row.guide_id,
        )

    @strawberry.field(description="From paid spend in the last 12 months, both channels.")
    async def tier(self, info: strawberry.Info) -> MemberTier:
        return MemberTier((await _standing(info, self.pk)).tier)

    @strawberry.field(description="The balance of the points ledger.")
    async def points(self, info: strawberry.Info) -> int:
        return (await _standing(info, self.pk)).points

    @strawberry.field(description="The store credited with this member's join; null for a plain online join.")
    async def join_store(self, info: strawberry.Info) -> Store | None:
        return await load_store(info, self.join_store_pk)

    @strawberry.field(description="The guide who recruited the member (开卡导购); never changes.")
    async def recruited_by(self, info: strawberry.Info) -> Staff | None:
        return await load_staff(info, self.recruited_by_pk)

    @strawberry.field(description="The member's current exclusive guide (专属导购); null when unbound.")
    async def guide(self, info: strawberry.Info) -> Staff | None:
        return await load_staff(info, self.guide_pk)


@strawberry.type
class MemberCode:
    code: str
    expires_at: dt.datetime


@strawberry.type(description="What a staff member sees of a member on the tablet: no raw phone, no precise location.")
class MemberProfile(Node):
    id: strawberry.ID
    member_no: str
    nickname: str | None
    phone_masked: str | None
    joined_at: dt.datetime
    join_channel: JoinChannel
    pk: strawberry.Private[int]
    customer_pk: strawberry.Private[int]
    join_store_pk: strawberry.Private[int | None]
    guide_pk: strawberry.Private[int | None]

    @classmethod
    def from_rows(cls, membership: models.Membership, customer) -> "MemberProfile":
        return cls(
            id=to_global_id("MemberProfile", membership.id), member_no=membership.member_no,
            nickname=customer.nickname if customer else None,
            phone_masked=mask_phone(customer.phone) if customer else None,
            joined_at=membership.joined_at,
            join_channel=JoinChannel(membership.join_channel), pk=membership.id, customer_pk=membership.customer_id,
            join_store_pk=membership.join_store_id, guide_pk=membership.guide_id,
        )

    @strawberry.field
    async def tier(self, info: strawberry.Info) -> MemberTier:
        return MemberTier((await _standing(info, self.pk)).tier)

    @strawberry.field
    async def points(self, info: strawberry.Info) -> int:
        return (await _standing(info, self.pk)).points

    @strawberry.field(
        description="Behavioural segment, e.g. STORE_EXPERIENCE, ONLINE_REPURCHASE, OMNICHANNEL_ACTIVE, DORMANT, NEW."
    )
    async def segment(self, info: strawberry.Info) -> str:
        return (await info.context.loaders.insights.load(self.pk))[0]

    @strawberry.field(description="What the member buys: categories and product tags, most bought first.")
    async def tags(self, info: strawberry.Info) -> list[str]:
        return (await info.context.loaders.insights.load(self.pk))[1]

    @strawberry.field
    async def cart(self, info: strawberry.Info) -> Cart:
        return await load_cart(info, self.customer_pk)

    @strawberry.field
    async def recent_orders(self, info: strawberry.Info, first: int = 5) -> list[Order]:
        if not 0 < first <= 20:
            raise ApiError("INVALID_INPUT", "first must be 1..20")
        rows = await info.context.loaders.recent_orders.load((self.customer_pk, first))
        secret = info.context.settings.jwt_secret
        return [Order.from_model(r, secret, for_owner=False) for r in rows]

    @strawberry.field
    async def join_store(self, info: strawberry.Info) -> Store | None:
        return await load_store(info, self.join_store_pk)

    @strawberry.field
    async def guide(self, info: strawberry.Info) -> Staff | None:
        return await load_staff(info, self.guide_pk)


async def load_member_profile(info, membership_id: int) -> MemberProfile | None:
    """The profile if the signed-in staff member may see it (null, or a FORBIDDEN error)."""
    from storelink.graphql.permissions import forbidden, staff_for_query
    from storelink.members import service

    staff = await staff_for_query(info)
    async with info.context.sessionmaker() as session:
        membership = await session.get(models.Membership, membership_id)
        if membership is None:
            return None
        if not await service.member_in_scope(session, staff, membership):
            raise forbidden("This member is outside your store's scope")
    customer = await info.context.loaders.customer.load(membership.customer_id)
    return MemberProfile.from_rows(membership, customer)


@node_resolver("MemberProfile")
async def _member_node(info, pk: int) -> MemberProfile | None:
    return await load_member_profile(info, pk)


@strawberry.type
class MemberScan:
    member: MemberProfile


@strawberry.input
class ConsentInput:
    privacy_policy_version: str = strawberry.field(description="The version of the privacy policy the customer accepted.")
    marketing: bool


@strawberry.input
class CreateJoinCodeInput:
    store_id: strawberry.ID
    guide_id: strawberry.ID | None = None
    campaign: str | None = None
    expires_at: dt.datetime | None = None
    max_uses: int | None = None


@strawberry.type
class JoinPayload:
    membership: Membership | None = None
    is_new_member: bool = False
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class JoinCodePayload:
    join_code: JoinCode | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class TransferPayload:
    transferred: int = 0
    skipped: int = strawberry.field(
        default=0, description="Members left with their guide: moved by transfer twice in the last 90 days."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ConsentPayload:
    marketing: bool | None = strawberry.field(default=None, description="Marketing consent now in force.")
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeletePayload:
    deleted: bool = False
    user_errors: list[UserError] = strawberry.field(default_factory=list)
