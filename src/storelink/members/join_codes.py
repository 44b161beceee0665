"""Join codes: a store's, a guide's permanent one, and campaign codes; revoking them; and what
makes a code no longer good for joining."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.accounts import permissions
from storelink.accounts.models import Staff, StaffRole
from storelink.clock import utcnow
from storelink.errors import Code, DomainError, InvalidInput, NotFound
from storelink.members.models import JoinCode, JoinCodeKind
from storelink.scanning import codes
from storelink.stores import service as store_service

MAX_CAMPAIGN_LENGTH = 64


async def _insert_code(session: AsyncSession, **values) -> JoinCode:
    for _ in range(5):  # 49 random bits: a clash is rare, a retry is cheap
        code_id = (
            await session.execute(
                insert(JoinCode).values(code=codes.new_join_code(), created_at=utcnow(), **values)
                .on_conflict_do_nothing(index_elements=[JoinCode.code]).returning(JoinCode.id)
            )
        ).scalar_one_or_none()
        if code_id is not None:
            row = await session.get(JoinCode, code_id)
            assert row is not None
            return row
    raise RuntimeError("could not find a free join code")


async def issue_personal_code(session: AsyncSession, guide_id: int, store_id: int | None) -> JoinCode:
    """The guide's permanent scan-to-join code."""
    return await _insert_code(
        session, kind=JoinCodeKind.GUIDE.value, store_id=store_id, guide_id=guide_id,
        personal=True, created_by_id=None,
    )


async def personal_codes(session: AsyncSession, guide_ids: list[int]) -> dict[int | None, JoinCode]:
    rows = await session.execute(
        select(JoinCode).where(JoinCode.guide_id.in_(guide_ids), JoinCode.personal, JoinCode.active)
    )
    return {c.guide_id: c for c in rows.scalars()}


async def create_join_code(
    session: AsyncSession,
    *,
    actor: Staff,
    store_id: int,
    guide_id: int | None,
    campaign: str | None,
    expires_at: dt.datetime | None,
    max_uses: int | None,
) -> JoinCode:
    await store_service.require_store(session, store_id, ["input", "storeId"])
    permissions.ensure_manages_store(actor, store_id)
    if guide_id is not None:
        guide = await session.get(Staff, guide_id)
        if guide is None or guide.role != StaffRole.GUIDE or guide.store_id != store_id:
            raise NotFound("No such guide at this store", field=["input", "guideId"])
        if not guide.active:
            raise DomainError("This guide has left", code=Code.INVALID_STATE, field=["input", "guideId"])
    if campaign is not None:
        campaign = campaign.strip()
        if not campaign or len(campaign) > MAX_CAMPAIGN_LENGTH:
            raise InvalidInput("Campaign: 1 to {n} characters", n=MAX_CAMPAIGN_LENGTH, field=["input", "campaign"])
    if expires_at is not None:
        if expires_at.tzinfo is None:
            raise InvalidInput("Give the time with its UTC offset", field=["input", "expiresAt"])
        if expires_at <= utcnow():
            raise InvalidInput("Expiry must be in the future", field=["input", "expiresAt"])
    if max_uses is not None and not 1 <= max_uses <= 1_000_000:
        raise InvalidInput("maxUses must be 1..1000000", field=["input", "maxUses"])
    kind = JoinCodeKind.GUIDE if guide_id else JoinCodeKind.CAMPAIGN if campaign else JoinCodeKind.STORE
    return await _insert_code(
        session, kind=kind.value, store_id=store_id, guide_id=guide_id, campaign=campaign,
        expires_at=expires_at, max_uses=max_uses, created_by_id=actor.id,
    )


async def revoke_join_code(session: AsyncSession, *, actor: Staff, code: str) -> JoinCode:
    """Revoke a code. A guide's personal code is replaced at once by a fresh one (a leaked poster
    is retired without leaving the guide without a code); the revoked one is returned."""
    row = (
        await session.execute(
            select(JoinCode).where(JoinCode.code == codes.normal_join_code(code)).with_for_update()
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound("No such join code", field=["code"])
    permissions.ensure_manages_store(actor, row.store_id)
    if not row.active:
        return row
    row.active = False
    row.revoked_at = utcnow()
    await session.flush()
    if row.personal:
        guide = await session.get(Staff, row.guide_id)
        if guide is not None and guide.active:
            await issue_personal_code(session, guide.id, guide.store_id)
    return row


def code_problem(row: JoinCode | None, now: dt.datetime) -> DomainError | None:
    if row is None:
        return DomainError("Unknown join code", code=Code.CODE_INVALID, field=["code"])
    if not row.active or (row.expires_at is not None and row.expires_at <= now):
        # A revoked code reads the same to the customer as an expired one: no longer valid.
        return DomainError("This join code is no longer valid", code=Code.CODE_EXPIRED, field=["code"])
    if row.max_uses is not None and row.uses >= row.max_uses:
        return DomainError("This join code has been used up", code=Code.CODE_USED_UP, field=["code"])
    return None
