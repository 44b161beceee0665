"""GraphQL types of customers, staff and sessions.

Customer is the hub the mini-program starts from: its fields reach into members, appointments,
orders and loyalty. Those types build on Staff, so they are named lazily here (graphql/lazy.py)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from storelink.accounts import models
from storelink.accounts.loaders import StaffById
from storelink.api.context import Info
from storelink.appointments.loaders import AppointmentsOfCustomer
from storelink.db import transaction
from storelink.graphql.enums import graphql_enums
from storelink.graphql.errors import UserError
from storelink.graphql.lazy import lazy_class
from storelink.graphql.pagination import PageInfo, cursor_for, id_after
from storelink.graphql.relay import Node, to_global_id
from storelink.loyalty.loaders import CouponsOf
from storelink.marketing.loaders import CreditsOf
from storelink.members import member_codes
from storelink.members.loaders import MembershipByCustomer, PersonalCodeByGuide
from storelink.orders.loaders import CartOf, OrdersPage
from storelink.stores.types import Store, load_store

if TYPE_CHECKING:  # names for the lazy annotations below; imported for real on first use
    from storelink.marketing.types import MessageSubscription, Referral
    from storelink.accounts.service import IssuedTokens
    from storelink.appointments.types import Appointment
    from storelink.loyalty.types import Coupon, CouponStatus
    from storelink.members.types import JoinCode, MemberCode, Membership
    from storelink.orders.types import Cart, OrderConnection

_MEMBERS = "storelink.members.types"
_ORDERS = "storelink.orders.types"
_APPOINTMENTS = "storelink.appointments.types"
_LOYALTY = "storelink.loyalty.types"
_MARKETING = "storelink.marketing.types"

StaffRole = models.StaffRole
graphql_enums(StaffRole)


@strawberry.type
class Staff(Node):
    id: strawberry.ID
    name: str
    role: StaffRole
    pk: strawberry.Private[int]
    store_pk: strawberry.Private[int | None]

    @classmethod
    def from_model(cls, row: models.Staff) -> "Staff":
        return cls(
            id=to_global_id("Staff", row.id), name=row.name, role=StaffRole(row.role),
            pk=row.id, store_pk=row.store_id,
        )

    @strawberry.field(description="The store a guide or store manager belongs to; null for HQ.")
    async def store(self, info: Info) -> Store | None:
        return await load_store(info, self.store_pk)

    @strawberry.field(description="The guide's own permanent scan-to-join code (null for roles that have none).")
    async def join_code(self, info: Info) -> Annotated["JoinCode", strawberry.lazy(_MEMBERS)] | None:
        if self.role != StaffRole.GUIDE:
            return None
        row = await PersonalCodeByGuide.of(info).load(self.pk)
        join_code = lazy_class("JoinCode", _MEMBERS)
        return join_code.from_model(row, info.context.settings.public_base_url) if row else None


async def load_staff(info: Info, pk: int | None) -> Staff | None:
    """The Staff with that id through the request's DataLoader (None for None or a missing one)."""
    if pk is None:
        return None
    row = await StaffById.of(info).load(pk)
    return Staff.from_model(row) if row else None


@strawberry.type
class Customer(Node):
    id: strawberry.ID
    nickname: str | None
    avatar_url: str | None
    phone_masked: str | None = strawberry.field(
        description="Phone with the middle four digits hidden, e.g. 138****5678. Null until a phone is bound."
    )
    pk: strawberry.Private[int]

    @classmethod
    def from_model(cls, row: models.Customer) -> "Customer":
        return cls(
            id=to_global_id("Customer", row.id), nickname=row.nickname, avatar_url=row.avatar_url,
            phone_masked=row.phone_masked, pk=row.id,
        )

    @strawberry.field(description="Null until the customer joins the membership.")
    async def membership(self, info: Info) -> Annotated["Membership", strawberry.lazy(_MEMBERS)] | None:
        row = await MembershipByCustomer.of(info).load(self.pk)
        return lazy_class("Membership", _MEMBERS).from_model(row) if row else None

    @strawberry.field
    async def appointments(
        self, info: Info, upcoming_only: bool = True
    ) -> list[Annotated["Appointment", strawberry.lazy(_APPOINTMENTS)]]:
        rows = await AppointmentsOfCustomer.of(info).load((self.pk, upcoming_only))
        appointment = lazy_class("Appointment", _APPOINTMENTS)
        return [appointment.from_model(r, info.context.settings.jwt_secret) for r in rows]

    @strawberry.field
    async def cart(self, info: Info) -> Annotated["Cart", strawberry.lazy(_ORDERS)]:
        return lazy_class("Cart", _ORDERS).from_rows(await CartOf.of(info).load(self.pk))

    @strawberry.field
    async def orders(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> Annotated["OrderConnection", strawberry.lazy(_ORDERS)]:
        rows, more = await OrdersPage.of(info).load((self.pk, first, id_after(after, "Order")))
        order, edge = lazy_class("Order", _ORDERS), lazy_class("OrderEdge", _ORDERS)
        secret = info.context.settings.jwt_secret
        edges = [edge(node=order.from_model(r, secret, for_owner=True), cursor=cursor_for("Order", r.id))
                 for r in rows]
        return lazy_class("OrderConnection", _ORDERS)(edges=edges, page_info=PageInfo.of(
            [e.cursor for e in edges], more=more, after=after))

    @strawberry.field(description="Their invite code (members only): friends who join with it are credited to "
                                  "their guide, and both sides earn the referral program's points.")
    async def referral(self, info: Info) -> Annotated["Referral", strawberry.lazy(_MARKETING)] | None:
        row = await MembershipByCustomer.of(info).load(self.pk)
        return lazy_class("Referral", _MARKETING).of(row.id, info) if row else None

    @strawberry.field(description="Subscribe-message credits left, per template.")
    async def message_subscriptions(self, info: Info) -> list[Annotated["MessageSubscription", strawberry.lazy(_MARKETING)]]:
        subscription = lazy_class("MessageSubscription", _MARKETING)
        return [subscription(template_id=t, credits=n) for t, n in await CreditsOf.of(info).load(self.pk)]

    @strawberry.field
    async def coupons(
        self, info: Info,
        status: Annotated["CouponStatus", strawberry.lazy(_LOYALTY)] | None = None,
    ) -> list[Annotated["Coupon", strawberry.lazy(_LOYALTY)]]:
        rows = await CouponsOf.of(info).load((self.pk, status.value if status else None))
        coupon = lazy_class("Coupon", _LOYALTY)
        return [coupon.from_model(c, k, info.context.settings.jwt_secret) for c, k in rows]

    @strawberry.field(
        description="A fresh single-use code for the member card QR shown at checkout; expires within 60 seconds."
    )
    async def member_code(self, info: Info) -> Annotated["MemberCode", strawberry.lazy(_MEMBERS)]:
        # The one field of a query that writes: each read issues a new code.
        async def issue(session):
            return await member_codes.issue_member_code(session, customer_id=self.pk, settings=info.context.settings)

        code, expires_at = await transaction(info.context.sessionmaker, issue)
        return lazy_class("MemberCode", _MEMBERS)(code=code, expires_at=expires_at)


@strawberry.type
class AuthPayload:
    access_token: str | None = None
    refresh_token: str | None = None
    expires_in: int | None = strawberry.field(default=None, description="Seconds until the access token expires.")
    customer: Customer | None = None
    staff: Staff | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def auth_fields(issued: IssuedTokens) -> dict:
    return {
        "access_token": issued.access_token,
        "refresh_token": issued.refresh_token,
        "expires_in": issued.expires_in,
        "customer": Customer.from_model(issued.customer) if issued.customer else None,
        "staff": Staff.from_model(issued.staff) if issued.staff else None,
    }


@strawberry.type
class CustomerPayload:
    customer: Customer | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class CreateStaffInput:
    username: str
    password: str
    name: str
    role: StaffRole
    store_id: strawberry.ID | None = strawberry.field(default=None, description="Required for GUIDE and STORE_MANAGER.")


@strawberry.type
class StaffPayload:
    staff: Staff | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
