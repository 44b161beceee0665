"""Referrals (裂变, API-NOTES "Marketing"): every member has an invite code (scanning/codes.py,
derived from the membership); joining with it makes a REFERRAL member (members/joining.py). When
the invitee's first order is paid, both get the program's points: at most `monthlyLimit`
rewards per inviter per calendar month (the brand's timezone; past it the invitee is still
rewarded), one reward per invitee and per phone, whatever account the phone is on later."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.accounts import permissions
from storelink.accounts.models import Customer, Staff
from storelink.errors import InvalidInput
from storelink.loyalty import service as loyalty
from storelink.loyalty.models import PointsReason
from storelink.marketing.models import ReferralProgram, ReferralReward
from storelink.members.models import Membership
from storelink.orders.models import PAID_STATUSES, Order
from storelink.settings import Settings

MAX_POINTS = 100_000
MAX_MONTHLY_LIMIT = 1_000


async def program(session: AsyncSession) -> ReferralProgram | None:
    return await session.get(ReferralProgram, 1)


async def set_program(session: AsyncSession, *, actor: Staff, inviter_points: int, invitee_points: int,
                      monthly_limit: int, active: bool, now: dt.datetime) -> ReferralProgram:
    permissions.ensure_hq(actor)
    for field, value in (("inviterPoints", inviter_points), ("inviteePoints", invitee_points)):
        if not 0 <= value <= MAX_POINTS:
            raise InvalidInput("Points are 0 to {n}", n=MAX_POINTS, field=["input", field])
    if not 0 <= monthly_limit <= MAX_MONTHLY_LIMIT:
        raise InvalidInput("The monthly limit is 0 to {n}", n=MAX_MONTHLY_LIMIT, field=["input", "monthlyLimit"])
    values = {"inviter_points": inviter_points, "invitee_points": invitee_points, "monthly_limit": monthly_limit,
              "active": active, "updated_by_id": actor.id, "updated_at": now}
    await session.execute(insert(ReferralProgram).values(id=1, **values)
                          .on_conflict_do_update(index_elements=[ReferralProgram.id], set_=values))
    program = await session.get(ReferralProgram, 1, populate_existing=True)
    assert program is not None  # just written
    return program


async def on_paid(session: AsyncSession, *, order: Order, membership: Membership, now: dt.datetime,
                  settings: Settings) -> None:
    """Reward an invitee's first paid order, and their inviter within the month's limit."""
    if membership.referred_by_id is None:
        return  # most members: nothing to read
    found = await program(session)
    if found is None or not found.active:
        return
    earlier = await session.execute(select(Order.id).where(
        Order.customer_id == membership.customer_id, Order.status.in_(PAID_STATUSES), Order.id != order.id).limit(1))
    if earlier.first() is not None:
        return
    # The inviter's row lock serialises their rewards, so the month's count is exact.
    inviter = (await session.execute(select(Membership).where(Membership.id == membership.referred_by_id)
                                     .with_for_update())).scalar_one()
    month = now.astimezone(ZoneInfo(settings.brand_timezone)).strftime("%Y-%m")
    this_month = (await session.execute(select(func.count()).select_from(ReferralReward).where(
        ReferralReward.inviter_membership_id == inviter.id, ReferralReward.month == month,
        ReferralReward.inviter_points > 0))).scalar_one()
    inviter_points = found.inviter_points if this_month < found.monthly_limit else 0
    phone_index = (await session.execute(select(Customer.phone_index).where(
        Customer.id == membership.customer_id))).scalar_one()
    rewarded = (await session.execute(insert(ReferralReward).values(
        inviter_membership_id=inviter.id, invitee_membership_id=membership.id, invitee_phone_index=phone_index,
        order_id=order.id, month=month, inviter_points=inviter_points, invitee_points=found.invitee_points,
        rewarded_at=now).on_conflict_do_nothing().returning(ReferralReward.id))).first()
    if rewarded is None:
        return  # this invitee, or this phone, was rewarded before
    await loyalty.add_points(session, membership_id=membership.id, delta=found.invitee_points,
                             reason=PointsReason.REFERRAL, order_id=order.id)
    await loyalty.add_points(session, membership_id=inviter.id, delta=inviter_points,
                             reason=PointsReason.REFERRAL, order_id=order.id)


async def counts(session: AsyncSession, membership_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """membership id -> (friends who joined with its code, friends whose first order rewarded both)."""
    found = {m: (0, 0) for m in membership_ids}
    joined = dict((await session.execute(
        select(Membership.referred_by_id, func.count()).where(Membership.referred_by_id.in_(membership_ids))
        .group_by(Membership.referred_by_id))).all())
    rewarded = dict((await session.execute(
        select(ReferralReward.inviter_membership_id, func.count())
        .where(ReferralReward.inviter_membership_id.in_(membership_ids), ReferralReward.inviter_points > 0)
        .group_by(ReferralReward.inviter_membership_id))).all())
    for m in membership_ids:
        found[m] = (joined.get(m, 0), rewarded.get(m, 0))
    return found
