"""The checkout scanner's GraphQL face: `scanCode` and the ScanResult union, one branch per kind
of code (the kinds themselves live in their domains and register with storelink.scanning.scanner)."""
from __future__ import annotations

from typing import Annotated, Union

import strawberry

from storelink.api.context import Info
from storelink.appointments import booking
from storelink.appointments.types import Appointment, AppointmentScan
from storelink.graphql import caller
from storelink.graphql.errors import UserError, in_transaction
from storelink.graphql.relay import decode_id
from storelink.loyalty import service as loyalty
from storelink.loyalty.types import Coupon
from storelink.members.member_codes import MemberScanned
from storelink.members.types import MemberProfile, MemberScan, member_profile
from storelink.orders import pickup
from storelink.orders.types import Order, PickupScan
from storelink.scanning import scanner


@strawberry.type
class CouponScan:
    coupon: Coupon
    member: MemberProfile


ScanResult = Annotated[Union[MemberScan, CouponScan, PickupScan, AppointmentScan], strawberry.union("ScanResult")]


@strawberry.type
class ScanPayload:
    result: ScanResult | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


async def _result(info: Info, found, secret: str):
    """The GraphQL shape of what the scanner found."""
    if isinstance(found, MemberScanned):
        return MemberScan(member=await member_profile(info, found.membership))
    if isinstance(found, loyalty.CouponScanned):
        return CouponScan(coupon=Coupon.from_model(found.coupon, found.campaign, secret),
                          member=await member_profile(info, found.membership))
    if isinstance(found, pickup.PickupScanned):
        return PickupScan(order=Order.from_model(found.order, secret, for_owner=False))
    if isinstance(found, booking.AppointmentCheckedIn):
        return AppointmentScan(appointment=Appointment.from_model(found.appointment, secret))
    raise TypeError(f"no GraphQL shape for {type(found).__name__}")


@strawberry.type
class ScanMutations:
    @strawberry.mutation(description="Staff at checkout: resolve any scanned code (member code, coupon, pickup, appointment check-in).")
    async def scan_code(self, info: Info, code: str, store_id: strawberry.ID) -> ScanPayload:
        async def work(session):
            actor = await caller.staff(info)
            found = await scanner.scan(
                session, staff=actor, store_id=decode_id(store_id, "Store", ["storeId"]), code=code,
                settings=info.context.settings,
            )
            return {"result": await _result(info, found, info.context.settings.jwt_secret)}

        return await in_transaction(info, ScanPayload, work)
