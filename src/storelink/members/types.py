"""GraphQL types of membership, join codes, member codes and the checkout scanner."""
from __future__ import annotations

import datetime as dt

import strawberry

from storelink.accounts.loaders import CustomerById
from storelink.accounts.types import Staff, load_staff
from storelink.api.context import Info
from storelink.errors import InvalidInput
from storelink.graphql.enums import graphql_enums
from storelink.graphql.errors import UserError
from storelink.graphql.relay import Node, to_global_id
from storelink.graphql.pagination import PageInfo
from storelink.graphql.scalars import Long
from storelink.kpi.loaders import ActivityOf, TagsOf
from storelink.loyalty.loaders import StandingOf
from storelink.loyalty import models as loyalty_models
from storelink.members import models
from storelink.orders.loaders import CartOf, RecentOrders
from storelink.orders.types import Cart, Order
from storelink.stores.types import Store, load_store

MemberSegment = models.MemberSegment
JoinCodeKind = models.JoinCodeKind
JoinChannel = models.JoinChannel
MemberTier = loyalty_models.MemberTier
graphql_enums(MemberSegment, JoinCodeKind, JoinChannel, MemberTier)


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
    mini_program_code_url: str = strawberry.field(
        description="The WeChat mini-program code (PNG) opening the join page with this code as its scene; "
                    "the plain-URL QR while WeChat cannot draw it."
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
            image_url=f"{base}/qr/{row.code}", mini_program_code_url=f"{base}/qr/{row.code}.wxa.png", campaign=row.campaign, expires_at=row.expires_at,
            max_uses=row.max_uses, uses=row.uses, active=row.active, store_pk=row.store_id,
            guide_pk=row.guide_id,
        )

    @strawberry.field
    async def store(self, info: Info) -> Store:
        store = await load_store(info, self.store_pk)
        assert store is not None
        return store

    @strawberry.field
    async def guide(self, info: Info) -> Staff | None:
        return await load_staff(info, self.guide_pk)


async def _standing(info: Info, membership_pk: int):
    return await StandingOf.of(info).load(membership_pk)


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
    async def tier(self, info: Info) -> MemberTier:
        return MemberTier((await _standing(info, self.pk)).tier)

    @strawberry.field(description="The balance of the points ledger.")
    async def points(self, info: Info) -> int:
        return (await _standing(info, self.pk)).points

    @strawberry.field(description="The store credited with this member's join; null for a plain online join.")
    async def join_store(self, info: Info) -> Store | None:
        return await load_store(info, self.join_store_pk)

    @strawberry.field(description="The guide who recruited the member (开卡导购); never changes.")
    async def recruited_by(self, info: Info) -> Staff | None:
        return await load_staff(info, self.recruited_by_pk)

    @strawberry.field(description="The member's current exclusive guide (专属导购); null when unbound.")
    async def guide(self, info: Info) -> Staff | None:
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
            phone_masked=customer.phone_masked if customer else None,
            joined_at=membership.joined_at,
            join_channel=JoinChannel(membership.join_channel), pk=membership.id, customer_pk=membership.customer_id,
            join_store_pk=membership.join_store_id, guide_pk=membership.guide_id,
        )

    @strawberry.field
    async def tier(self, info: Info) -> MemberTier:
        return MemberTier((await _standing(info, self.pk)).tier)

    @strawberry.field
    async def points(self, info: Info) -> int:
        return (await _standing(info, self.pk)).points

    @strawberry.field(
        description="Behavioural segment, e.g. STORE_EXPERIENCE, ONLINE_REPURCHASE, OMNICHANNEL_ACTIVE, DORMANT, NEW."
    )
    async def segment(self, info: Info) -> str:
        return (await ActivityOf.of(info).load(self.pk)).segment

    @strawberry.field(description="What the member buys: categories and product tags, most bought first.")
    async def tags(self, info: Info) -> list[str]:
        return await TagsOf.of(info).load(self.customer_pk)

    @strawberry.field(description="When the member last paid for an order, in either channel (not refunded).")
    async def last_purchase_at(self, info: Info) -> dt.datetime | None:
        return (await ActivityOf.of(info).load(self.pk)).last_paid_at

    @strawberry.field(description="Paid orders in both channels, ever (refunded ones not counted).")
    async def orders_count(self, info: Info) -> int:
        return (await ActivityOf.of(info).load(self.pk)).orders

    @strawberry.field(description="What those orders came to, in fen.")
    async def lifetime_spend_fen(self, info: Info) -> Long:
        return Long((await ActivityOf.of(info).load(self.pk)).spend_fen)

    @strawberry.field
    async def cart(self, info: Info) -> Cart:
        return Cart.from_rows(await CartOf.of(info).load(self.customer_pk))

    @strawberry.field
    async def recent_orders(self, info: Info, first: int = 5) -> list[Order]:
        if not 0 < first <= 20:
            raise InvalidInput("first must be 1..20")
        rows = await RecentOrders.of(info).load((self.customer_pk, first))
        secret = info.context.settings.jwt_secret
        return [Order.from_model(r, secret, for_owner=False) for r in rows]

    @strawberry.field
    async def join_store(self, info: Info) -> Store | None:
        return await load_store(info, self.join_store_pk)

    @strawberry.field
    async def guide(self, info: Info) -> Staff | None:
        return await load_staff(info, self.guide_pk)


async def member_profile(info: Info, membership: models.Membership) -> MemberProfile:
    return MemberProfile.from_rows(membership, await CustomerById.of(info).load(membership.customer_id))


@strawberry.type
class MemberProfileEdge:
    node: MemberProfile
    cursor: str


@strawberry.type
class MemberProfileConnection:
    edges: list[MemberProfileEdge]
    page_info: PageInfo
    total_count: int = strawberry.field(description="Members in the book with these filters, over all pages.")


@strawberry.type
class MemberScan:
    member: MemberProfile


@strawberry.input
class ConsentInput:
    privacy_policy_version: str = strawberry.field(description="The version of the privacy policy the customer accepted.")
    marketing: bool


@strawberry.input
class TillEnrollInput:
    store_id: strawberry.ID
    phone: str = strawberry.field(description="The customer's mainland mobile number, as given at the till.")
    consent: ConsentInput
    guide_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The guide who enrolls the customer; defaults to the signed-in staff member when that is a guide.")


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


@strawberry.type
class PrivacyPolicy:
    version: str = strawberry.field(
        description="The version a customer must accept to join (ConsentInput.privacyPolicyVersion).")
    url: str | None
