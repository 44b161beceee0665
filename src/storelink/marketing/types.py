"""GraphQL types of audiences, message credits and referrals."""
from __future__ import annotations

import asyncio

import strawberry

from storelink.api.context import Info
from storelink.errors import InvalidInput
from storelink.graphql.enums import graphql_enums
from storelink.graphql.errors import UserError
from storelink.graphql.relay import decode_id
from storelink.marketing import audience, models
from storelink.marketing.loaders import ReferralCountsOf
from storelink.members.types import MemberSegment, MemberTier
from storelink.scanning import codes
from storelink.stores.types import Store, load_store


ActivityKind = models.ActivityKind
graphql_enums(ActivityKind)


@strawberry.input(description="A rule over members; every non-empty condition must hold.")
class AudienceInput:
    segments: list[MemberSegment] = strawberry.field(default_factory=list)
    tiers: list[MemberTier] = strawberry.field(default_factory=list)
    store_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Joined at one of these stores, or bound to a guide of one of them.")
    tags: list[str] = strawberry.field(default_factory=list, description="Has every one of these tags.")
    last_purchase_min_days: int | None = strawberry.field(
        default=None,
        description="Last paid order (either channel) at least this many days ago; members who never bought match.")
    last_purchase_max_days: int | None = strawberry.field(
        default=None, description="Last paid order (either channel) at most this many days ago.")

    def rule(self, field: list[str]) -> audience.Rule:
        if len(self.store_ids) > audience.MAX_STORES:
            raise InvalidInput("At most {n} stores", n=audience.MAX_STORES, field=[*field, "storeIds"])
        return audience.Rule(
            segments=tuple(s.value for s in self.segments), tiers=tuple(t.value for t in self.tiers),
            store_ids=tuple(decode_id(s, "Store", [*field, "storeIds", str(i)]) for i, s in enumerate(self.store_ids)),
            tags=tuple(self.tags), last_purchase_min_days=self.last_purchase_min_days,
            last_purchase_max_days=self.last_purchase_max_days)


@strawberry.type
class Audience:
    segments: list[MemberSegment]
    tiers: list[MemberTier]
    tags: list[str]
    last_purchase_min_days: int | None
    last_purchase_max_days: int | None
    store_pks: strawberry.Private[tuple[int, ...]]

    @classmethod
    def from_rule(cls, rule: audience.Rule) -> "Audience":
        return cls(segments=[MemberSegment(s) for s in rule.segments], tiers=[MemberTier(t) for t in rule.tiers],
                   tags=list(rule.tags), last_purchase_min_days=rule.last_purchase_min_days,
                   last_purchase_max_days=rule.last_purchase_max_days, store_pks=rule.store_ids)

    @strawberry.field
    async def stores(self, info: Info) -> list[Store]:
        found = await asyncio.gather(*(load_store(info, pk) for pk in self.store_pks))  # one batch
        return [s for s in found if s is not None]


@strawberry.type
class AudienceSize:
    members: int = strawberry.field(description="Members the rule matches now.")
    reachable: int = strawberry.field(
        description="Of those, how many a marketing message could reach now: marketing consent, and a "
                    "subscription credit for the template when one is given.")


@strawberry.type
class MessageSubscription:
    template_id: str
    credits: int


@strawberry.type
class Referral:
    code: str
    url: str = strawberry.field(description="The link the invite QR code encodes.")
    image_url: str = strawberry.field(description="Where the rendered QR image is served: this path with .png or .svg.")
    membership_pk: strawberry.Private[int]

    @strawberry.field(description="Friends who joined with this code.")
    async def joined(self, info: Info) -> int:
        return (await ReferralCountsOf.of(info).load(self.membership_pk))[0]

    @strawberry.field(description="Friends whose first paid order earned both sides the reward.")
    async def rewarded(self, info: Info) -> int:
        return (await ReferralCountsOf.of(info).load(self.membership_pk))[1]

    @classmethod
    def of(cls, membership_id: int, info: Info) -> "Referral":
        settings = info.context.settings
        code = codes.referral_code(membership_id, settings.jwt_secret)
        base = settings.public_base_url.rstrip("/")
        return cls(code=code, url=f"{base}/j/{code}", image_url=f"{base}/qr/{code}", membership_pk=membership_id)


@strawberry.type
class ReferralProgram:
    inviter_points: int
    invitee_points: int
    monthly_limit: int
    active: bool

    @classmethod
    def from_model(cls, row: models.ReferralProgram) -> "ReferralProgram":
        return cls(inviter_points=row.inviter_points, invitee_points=row.invitee_points,
                   monthly_limit=row.monthly_limit, active=row.active)


@strawberry.input
class ReferralProgramInput:
    inviter_points: int
    invitee_points: int
    monthly_limit: int = strawberry.field(default=10, description="Rewards one inviter may earn per calendar month.")
    active: bool = True


@strawberry.type
class ReferralProgramPayload:
    program: ReferralProgram | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
