"""Which members a staff member may see and serve."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.accounts import permissions
from storelink.accounts.models import Staff
from storelink.errors import Forbidden, NotFound
from storelink.members.models import MemberCode, Membership
from storelink.stores.models import Store


async def member_for_staff(session: AsyncSession, staff: Staff, membership_id: int, field: list[str]) -> Membership:
    """The member a staff member names (a booking, a push, a sale, suggestions): NOT_FOUND when
    there is none, FORBIDDEN outside the staff's scope."""
    membership = await session.get(Membership, membership_id)
    if membership is None:
        raise NotFound("No such member", field=field)
    if not await member_in_scope(session, staff, membership):
        raise Forbidden("This member is outside your store's scope")
    return membership


async def member_in_scope(session: AsyncSession, staff: Staff, membership: Membership) -> bool:
    """HQ sees every member; store staff see members who joined at their store, are bound to one
    of its guides, or had their member code scanned there today (store's local day)."""
    if permissions.is_hq(staff):
        return True
    if staff.store_id is None:
        return False
    if membership.join_store_id == staff.store_id:
        return True
    store = await session.get(Store, staff.store_id)
    assert store is not None
    start_of_day = dt.datetime.combine(
        dt.datetime.now(ZoneInfo(store.timezone)).date(), dt.time(), ZoneInfo(store.timezone)
    )
    bound_here = exists().where(Staff.id == membership.guide_id, Staff.store_id == staff.store_id)
    scanned_here = exists().where(
        and_(MemberCode.customer_id == membership.customer_id,
             MemberCode.used_at_store_id == staff.store_id, MemberCode.used_at >= start_of_day)
    )
    return bool((await session.execute(select(or_(bound_here, scanned_here)))).scalar())
