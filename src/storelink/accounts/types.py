"""GraphQL types of customers, staff and sessions."""
from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from storelink.accounts import models, permissions
from storelink.accounts.service import IssuedTokens
from storelink.graphql.errors import UserError
from storelink.graphql.permissions import forbidden
from storelink.graphql.relay import Node, node_resolver, to_global_id
from storelink.stores.types import Store

if TYPE_CHECKING:
    from storelink.appointments.types import Appointment
    from storelink.loyalty.types import Coupon, CouponStatus
    from storelink.members.types import JoinCode, MemberCode, Membership
    from storelink.orders.types import Cart, OrderConnection

# members.types builds on these types, so they refer back to it lazily.
_MEMBERS = "storelink.members.types"
_ORDERS = "storelink.orders.types"


@strawberry.enum
class StaffRole(Enum):
    GUIDE = "GUIDE"
    STORE_MANAGER = "STORE_MANAGER"
    HQ_ADMIN = "HQ_ADMIN"


def mask_phone(phone: str | None) -> str | None:
    """138****5678: staff and logs never see the middle four digits."""
    if not phone:
        return None
    if len(phone) < 7:
        return "*" * len(phone)
    return phone[:3] + "****" + phone[-4:]


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
    async def store(self, info: strawberry.Info) -> Store | None:
        if self.store_pk is None:
            return None
        row = await info.context.loaders.store.load(self.store_pk)
        return Store.from_model(row) if row else None

    @strawberry.field(description="The guide's own permanent scan-to-join code (null for roles that have none).")
    async def join_code(
        self, info: strawberry.Info
    ) -> Annotated["JoinCode", strawberry.lazy(_MEMBERS)] | None:
        from storelink.members.types import JoinCode

        if self.role != StaffRole.GUIDE:
            return None
        row = await info.context.loaders.personal_code.load(self.pk)
        return JoinCode.from_model(row, info.context.settings.public_base_url) if row else None


async def load_staff(info, pk: int | None) -> Staff | None:
    """The Staff with that id through the request's DataLoader (None for None or a missing one)."""
    if pk is None:
        return None
    row = await info.context.loaders.staff.load(pk)
    return Staff.from_model(row) if row else None


@node_resolver("Staff")
async def _staff_node(info, pk: int) -> Staff | None:
    from storelink.graphql.permissions import staff_for_query

    viewer = await staff_for_query(info)
    async with info.context.sessionmaker() as session:
        row = await session.get(models.Staff, pk)
    if row is None:
        return None
    if not permissions.can_see_staff(viewer, row):
        raise forbidden()
    return Staff.from_model(row)


@strawberry.type
class Customer(Node):
    id: strawberry.ID
    nickname: str | None
    phone_masked: str | None = strawberry.field(
        description="Phone with the middle four digits hidden, e.g. 138****5678. Null until a phone is bound."
    )
    pk: strawberry.Private[int]

    @classmethod
    def from_model(cls, row: models.Customer) -> "Customer":
        return cls(
            id=to_global_id("Customer", row.id), nickname=row.nickname,
            phone_masked=mask_phone(row.phone), pk=row.id,
        )

    @strawberry.field(description="Null until the customer joins the membership.")
    async def membership(
        self, info: strawberry.Info
    ) -> Annotated["Membership", strawberry.lazy(_MEMBERS)] | None:
        from storelink.members.types import Membership

        row = await info.context.loaders.membership_by_customer.load(self.pk)
        return Membership.from_model(row) if row else None

    @strawberry.field
    async def appointments(
        self, info: strawberry.Info, upcoming_only: bool = True
    ) -> list[Annotated["Appointment", strawberry.lazy("storelink.appointments.types")]]:
        from storelink.appointments import booking
        from storelink.appointments.types import Appointment

        async with info.context.sessionmaker() as session:
            rows = await booking.customer_appointments(
                session, customer_id=self.pk, upcoming_only=upcoming_only
            )
        return [Appointment.from_model(r, info.context.settings.jwt_secret) for r in rows]

    @strawberry.field
    async def cart(self, info: strawberry.Info) -> Annotated["Cart", strawberry.lazy(_ORDERS)]:
        from storelink.orders.types import load_cart

        return await load_cart(info, self.pk)

    @strawberry.field
    async def orders(
        self, info: strawberry.Info, first: int = 20, after: str | None = None
    ) -> Annotated["OrderConnection", strawberry.lazy(_ORDERS)]:
        from storelink.graphql.pagination import PageInfo, cursor_for, id_after
        from storelink.orders import service
        from storelink.orders.types import Order, OrderConnection, OrderEdge

        async with info.context.sessionmaker() as session:
            rows, more = await service.customer_orders(
                session, customer_id=self.pk, first=first, before_id=id_after(after, "Order"))
        secret = info.context.settings.jwt_secret
        edges = [OrderEdge(node=Order.from_model(r, secret, for_owner=True), cursor=cursor_for("Order", r.id))
                 for r in rows]
        return OrderConnection(edges=edges, page_info=PageInfo(
            has_next_page=more, end_cursor=edges[-1].cursor if edges else None))

    @strawberry.field
    async def coupons(
        self, info: strawberry.Info,
        status: Annotated["CouponStatus", strawberry.lazy("storelink.loyalty.types")] | None = None,
    ) -> list[Annotated["Coupon", strawberry.lazy("storelink.loyalty.types")]]:
        from storelink.loyalty import service
        from storelink.loyalty.types import Coupon

        async with info.context.sessionmaker() as session:
            rows = await service.customer_coupons(session, customer_id=self.pk,
                                                  status=status.value if status else None)
        return [Coupon.from_model(c, k, info.context.settings.jwt_secret) for c, k in rows]

    @strawberry.field(
        description="A fresh single-use code for the member card QR shown at checkout; expires within 60 seconds."
    )
    async def member_code(self, info: strawberry.Info) -> Annotated["MemberCode", strawberry.lazy(_MEMBERS)]:
        from storelink.members import service
        from storelink.members.types import MemberCode

        ctx = info.context
        async with ctx.sessionmaker.begin() as session:
            code, expires_at = await service.issue_member_code(
                session, customer_id=self.pk, settings=ctx.settings
            )
        return MemberCode(code=code, expires_at=expires_at)


@node_resolver("Customer")
async def _customer_node(info, pk: int) -> Customer | None:
    from storelink.graphql.permissions import customer_for_query

    me = await customer_for_query(info)
    if me.id != pk:
        raise forbidden()  # staff see members through MemberProfile, never the raw customer
    return Customer.from_model(me)


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
