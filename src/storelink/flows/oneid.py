"""One member ID across channels: the phone joins them (API-NOTES, "One member ID").

- enroll_at_till: staff make a membership (channel TILL, credited to the store and guide) from the
  phone a customer gives at the till, with consent recorded as given there. If a WeChat customer
  already holds that phone, the membership is theirs; if the phone already has a membership, it is
  ALREADY_MEMBER and that membership is returned.
- bind_phone: when a WeChat customer binds a phone that a till-only customer holds, they take over
  that customer: membership (with its points ledger and guide binding), orders, coupons, consents,
  appointments, member codes, scan log; the till-only customer is retired. A customer who already
  has a membership of their own cannot take over another: ALREADY_MEMBER, nothing changes.

Every step that may give a phone a membership or move one holds the phone's lock (phones.lock_phone)
and then the customer's row, in that order, so a till enrolment and a WeChat join or bind of the
same phone at once make one member.
"""
from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.accounts import permissions
from storelink.accounts import service as accounts
from storelink.accounts.models import Customer, Staff, StaffRole
from storelink.appointments.models import Appointment
from storelink.clock import utcnow
from storelink.errors import Code, DomainError, Forbidden, NotFound
from storelink.loyalty.models import Coupon
from storelink.members import phones
from storelink.members.joining import Consent, Credit, check_consent, create_membership, membership_of
from storelink.members.models import ConsentRecord, JoinChannel, JoinScan, MemberCode, Membership
from storelink.orders.models import CartLine, Order
from storelink.recommend.models import RecoShown
from storelink.settings import Settings
from storelink.stores import service as store_service
from storelink.wechat.client import WeChatClient

# Everything that belongs to a customer and moves with them when a WeChat customer takes over.
_OWNED = (Membership, Order, Coupon, ConsentRecord, Appointment, MemberCode, JoinScan, CartLine, RecoShown)


class AlreadyMember(DomainError):
    """The phone already has a membership; it is returned with the error."""

    code = Code.ALREADY_MEMBER

    def __init__(self, message: str, membership: Membership, field: list[str] | None = None):
        super().__init__(message, field=field)
        self.membership = membership


async def _enrolling_guide(session: AsyncSession, staff: Staff, store_id: int, guide_id: int | None) -> Staff | None:
    if guide_id is None:
        return staff if staff.role == StaffRole.GUIDE else None
    guide = await session.get(Staff, guide_id)
    if guide is None or guide.role != StaffRole.GUIDE or guide.store_id != store_id or not guide.active:
        raise NotFound("No such guide at this store", field=["input", "guideId"])
    return guide


async def enroll_at_till(session: AsyncSession, *, staff: Staff, store_id: int, phone: str, consent: Consent,
                         guide_id: int | None, settings: Settings) -> Membership:
    await store_service.require_store(session, store_id, ["input", "storeId"])
    if not permissions.can_see_store(staff, store_id):
        raise Forbidden("You can only enrol members at your own store")
    guide = await _enrolling_guide(session, staff, store_id, guide_id)
    number = phones.mainland_mobile(phone, ["input", "phone"])
    await phones.lock_phone(session, number)
    holders = await phones.holders(session, number)
    if holders and holders[0][1] is not None:
        raise AlreadyMember("This phone number is already a member", holders[0][1], field=["input", "phone"])
    if holders:  # a WeChat customer who bound this phone but never joined
        customer = await accounts.live_customer(session, holders[0][0].id, lock=True)
        if (existing := await membership_of(session, customer.id)) is not None:  # joined while we waited
            raise AlreadyMember("This phone number is already a member", existing, field=["input", "phone"])
    else:
        customer = Customer(**accounts.phone_columns(number), phone_country_code="86", phone_bound_at=utcnow())
        session.add(customer)
        await session.flush()
    till_consent = Consent(consent.privacy_policy_version, consent.marketing, store_id=store_id,
                           recorded_by_id=staff.id)
    check_consent(till_consent, customer, settings)
    return await create_membership(session, customer=customer, consent=till_consent, channel=JoinChannel.TILL,
                                   credit=Credit(store_id=store_id, guide_id=guide.id if guide else None))


async def bind_phone(session: AsyncSession, *, wechat: WeChatClient, customer_id: int, code: str) -> Customer:
    phone = await accounts.phone_from_wechat(wechat, code)
    await phones.lock_phone(session, phone.phone)
    customer = await accounts.store_phone(session, customer_id=customer_id, phone=phone)
    till_only = [(c, m) for c, m in await phones.holders(session, phone.phone)
                 if c.id != customer.id and c.openid is None]
    for other, other_membership in till_only:
        if other_membership is not None and await membership_of(session, customer.id) is not None:
            raise AlreadyMember("This phone number belongs to another membership", other_membership, field=["code"])
        await _take_over(session, from_customer=other, to_customer=customer)
    return customer


async def _take_over(session: AsyncSession, *, from_customer: Customer, to_customer: Customer) -> None:
    for table in _OWNED:
        await session.execute(
            update(table).where(table.customer_id == from_customer.id).values(customer_id=to_customer.id)
            .execution_options(synchronize_session=False)
        )
    # Copied before the update below, which also clears them on the session's copy of the row.
    to_customer.nickname = to_customer.nickname or from_customer.nickname
    to_customer.avatar_url = to_customer.avatar_url or from_customer.avatar_url
    await session.execute(
        update(Customer).where(Customer.id == from_customer.id)
        .values(**accounts.NO_PHONE, nickname=None, avatar_url=None, deleted_at=utcnow())
    )
    await session.flush()
