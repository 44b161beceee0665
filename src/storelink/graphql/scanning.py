"""The checkout scanner's GraphQL face: `scanCode` and the ScanResult union, one branch per kind
of code (the kinds themselves live in their domains and register with storelink.scanner)."""
from __future__ import annotations

from typing import Annotated, Union

import strawberry

from storelink import scanner
from storelink.accounts.models import Customer as CustomerRow
from storelink.appointments import booking
from storelink.appointments.types import Appointment, AppointmentScan
from storelink.graphql.errors import UserError, in_transaction
from storelink.graphql.permissions import staff_for_mutation
from storelink.graphql.relay import decode_id
from storelink.loyalty import service as loyalty
from storelink.loyalty.types import Coupon
from storelink.members import service as members
from storelink.members.types import MemberProfile, MemberScan
from storelink.orders import pickup
from storelink.orders.types import Order, PickupScan


@strawberry.type
class CouponScan:
    coupon: Coupon
    member: MemberProfile


ScanResult = Annotated[Union[MemberScan, CouponScan, PickupScan, AppointmentScan], strawberry.union("ScanResult")]


@strawberry.type
class ScanPayload:
    result: ScanResult | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


async def _result(session, found, secret: str):
    """The GraphQL shape of what the scanner found."""
    if isinstance(found, members.MemberScanned):
        customer = await session.get(CustomerRow, found.membership.customer_id)
        return MemberScan(member=MemberProfile.from_rows(found.membership, customer))
    if isinstance(found, loyalty.CouponScanned):
        customer = await session.get(CustomerRow, found.membership.customer_id)
        return CouponScan(coupon=Coupon.from_model(found.coupon, found.campaign, secret),
                          member=MemberProfile.from_rows(found.membership, customer))
    if isinstance(found, pickup.PickupScanned):
        return PickupScan(order=Order.from_model(found.order, secret, for_owner=False))
    if isinstance(found, booking.AppointmentCheckedIn):
        return AppointmentScan(appointment=Appointment.from_model(found.appointment, secret))
    raise TypeError(f"no GraphQL shape for {type(found).__name__}")


@strawberry.type
class ScanMutations:
    @strawberry.mutation(description="Staff at checkout: resolve any scanned code (member code, coupon, pickup, appointment check-in).")
    async def scan_code(self, info: strawberry.Info, code: str, store_id: strawberry.ID) -> ScanPayload:
        async def work(session):
            actor = await staff_for_mutation(info)
            found = await scanner.scan(
                session, staff=actor, store_id=decode_id(store_id, "Store", ["storeId"]), code=code,
                settings=info.context.settings,
            )
            return {"result": await _result(session, found, info.context.settings.jwt_secret)}

        return await in_transaction(info, ScanPayload, work)
