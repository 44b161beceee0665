"""Hiring and retiring staff: accounts, a guide's permanent join code, and their sessions."""
from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.accounts import permissions
from storelink.accounts import service as accounts
from storelink.accounts.models import Staff, StaffRole
from storelink.clock import utcnow
from storelink.errors import NotFound
from storelink.members import join_codes
from storelink.members.models import JoinCode


async def hire(session: AsyncSession, *, actor: Staff | None, username: str, password: str, name: str,
               role: str, store_id: int | None) -> Staff:
    """A new staff account; a guide gets their permanent scan-to-join code at once.
    actor None is the CLI bootstrap (create-admin), which stands outside the API."""
    staff = await accounts.create_staff(session, actor=actor, username=username, password=password, name=name,
                                        role=role, store_id=store_id)
    if staff.role == StaffRole.GUIDE:
        await join_codes.issue_personal_code(session, staff.id, staff.store_id)
    return staff


async def retire_guide(session: AsyncSession, *, actor: Staff, guide_id: int) -> Staff:
    """A guide leaves: their account and codes stop working; their members stay bound until a
    manager transfers them."""
    guide = await session.get(Staff, guide_id, with_for_update=True)
    if guide is None or guide.role != StaffRole.GUIDE:
        raise NotFound("No such guide", field=["id"])
    permissions.ensure_manages_store(actor, guide.store_id)
    guide.active = False
    await session.execute(
        update(JoinCode).where(JoinCode.guide_id == guide.id, JoinCode.active)
        .values(active=False, revoked_at=utcnow())
    )
    await accounts.revoke_all_sessions(session, staff_id=guide.id, reason="staff_retired")
    await session.flush()
    return guide
