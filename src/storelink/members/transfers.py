"""Moving a guide's bound members to another guide of the store."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.accounts import permissions
from storelink.accounts.models import Staff, StaffRole
from storelink.clock import utcnow
from storelink.errors import Code, DomainError, Forbidden, InvalidInput, NotFound
from storelink.members.models import BindingChange, BindingReason, Membership

TRANSFER_LIMIT = 2
TRANSFER_WINDOW = dt.timedelta(days=90)


async def transfer_members(
    session: AsyncSession, *, actor: Staff, from_guide_id: int, to_guide_id: int
) -> tuple[int, int]:
    """(transferred, skipped): a member moved by transfer twice in 90 days is skipped."""
    if actor.role not in (StaffRole.STORE_MANAGER, StaffRole.HQ_ADMIN):
        raise Forbidden("Only store managers may transfer members")
    if from_guide_id == to_guide_id:
        raise InvalidInput("Choose two different guides", field=["toGuideId"])
    guides = {
        g.id: g for g in (
            await session.execute(select(Staff).where(Staff.id.in_([from_guide_id, to_guide_id])))
        ).scalars()
    }
    source, target = guides.get(from_guide_id), guides.get(to_guide_id)
    if source is None or source.role != StaffRole.GUIDE:
        raise NotFound("No such guide", field=["fromGuideId"])
    if target is None or target.role != StaffRole.GUIDE:
        raise NotFound("No such guide", field=["toGuideId"])
    permissions.ensure_manages_store(actor, source.store_id)
    if target.store_id != source.store_id:
        raise Forbidden("Members can only move between guides of one store")
    if not target.active:
        raise DomainError("The receiving guide has left", code=Code.INVALID_STATE, field=["toGuideId"])

    now = utcnow()
    recent_transfers = (
        select(func.count()).select_from(BindingChange)
        .where(BindingChange.membership_id == Membership.id,
               BindingChange.reason == BindingReason.TRANSFER.value,
               BindingChange.changed_at > now - TRANSFER_WINDOW)
        .scalar_subquery()
    )
    rows = (
        await session.execute(
            select(Membership.id, recent_transfers).where(Membership.guide_id == from_guide_id)
            .order_by(Membership.id).with_for_update(of=Membership)
        )
    ).all()
    movable = [member_id for member_id, count in rows if count < TRANSFER_LIMIT]
    if movable:
        await session.execute(
            update(Membership).where(Membership.id.in_(movable))
            .values(guide_id=to_guide_id, bound_at=now)
        )
        session.add_all([
            BindingChange(membership_id=m, from_guide_id=from_guide_id, to_guide_id=to_guide_id,
                          reason=BindingReason.TRANSFER.value, changed_by_id=actor.id, changed_at=now)
            for m in movable
        ])
        await session.flush()
    return len(movable), len(rows) - len(movable)
