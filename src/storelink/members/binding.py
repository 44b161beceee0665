"""The exclusive-guide (专属导购) binding rule when a member scans another guide's code.

A bound member is rebound only when the current binding is older than the protection period
(BINDING_PROTECTION_DAYS) and the member had no paid order credited to the current guide in that
period. An unbound member is bound by any guide code. Store and campaign codes never rebind.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.accounts.models import Staff
from storelink.clock import utcnow
from storelink.members.models import BindingChange, BindingReason, JoinCode, Membership
from storelink.orders.models import PAID_STATUSES, Order
from storelink.settings import Settings


async def paid_order_credited_to_guide_since(
    session: AsyncSession, *, customer_id: int, guide_id: int, since: dt.datetime
) -> bool:
    found = await session.execute(
        select(Order.id).where(Order.customer_id == customer_id, Order.guide_id == guide_id,
                               Order.status.in_(PAID_STATUSES), Order.paid_at >= since).limit(1)
    )
    return found.first() is not None


async def on_rescan(
    session: AsyncSession, membership: Membership, code: JoinCode, settings: Settings
) -> str:
    """Apply the rule; returns the scan outcome (REBOUND, KEPT_BINDING or ALREADY_MEMBER)."""
    if code.guide_id is None or code.guide_id == membership.guide_id:
        return "ALREADY_MEMBER"
    now = utcnow()
    if membership.guide_id is not None:
        current = await session.get(Staff, membership.guide_id)
        protection_start = now - dt.timedelta(days=settings.binding_protection_days)
        still_protected = membership.bound_at is not None and membership.bound_at > protection_start
        if current is not None and current.active and (
            still_protected
            or await paid_order_credited_to_guide_since(
                session, customer_id=membership.customer_id, guide_id=membership.guide_id,
                since=protection_start,
            )
        ):
            return "KEPT_BINDING"
    session.add(BindingChange(membership_id=membership.id, from_guide_id=membership.guide_id,
                              to_guide_id=code.guide_id, reason=BindingReason.RESCAN.value,
                              changed_at=now))
    await session.execute(
        update(Membership).where(Membership.id == membership.id)
        .values(guide_id=code.guide_id, bound_at=now)
    )
    await session.refresh(membership)
    return "REBOUND"
