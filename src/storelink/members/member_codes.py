"""Member codes: the single-use QR a member shows at a till, and scanning it."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.accounts.service import live_customer
from storelink.clock import utcnow
from storelink.errors import Code, DomainError, NotFound
from storelink.members.joining import membership_of
from storelink.members.models import MemberCode, Membership
from storelink.scanning import codes, scanner
from storelink.settings import Settings


async def issue_member_code(
    session: AsyncSession, *, customer_id: int, settings: Settings
) -> tuple[str, dt.datetime]:
    if await membership_of(session, customer_id) is None:
        raise DomainError("Join the membership to get a member code", code=Code.INVALID_STATE)
    now = utcnow()
    # Unused codes past their time are of no use to anyone; used ones stay as visit records.
    await session.execute(
        MemberCode.__table__.delete().where(
            MemberCode.customer_id == customer_id, MemberCode.used_at.is_(None),
            MemberCode.expires_at < now,
        )
    )
    code, token = codes.new_scan_code(codes.MEMBER, settings.jwt_secret)
    expires_at = now + dt.timedelta(seconds=settings.member_code_ttl_seconds)
    session.add(MemberCode(token=token, customer_id=customer_id, issued_at=now, expires_at=expires_at))
    await session.flush()
    return code, expires_at


@dataclass(frozen=True)
class MemberScanned:
    membership: Membership


@scanner.handles(codes.MEMBER)
async def scan_member_code(session: AsyncSession, request: scanner.ScanRequest) -> MemberScanned:
    """Use a member code: exactly one of any number of concurrent scans succeeds."""
    customer_id = (
        await session.execute(
            update(MemberCode)
            .where(MemberCode.token == request.token, MemberCode.used_at.is_(None),
                   MemberCode.expires_at > func.now())
            .values(used_at=func.now(), used_at_store_id=request.store_id,
                    used_by_staff_id=request.staff.id)
            .returning(MemberCode.customer_id)
        )
    ).scalar_one_or_none()
    if customer_id is None:
        row = await session.get(MemberCode, request.token)
        if row is None:
            raise DomainError("Unknown member code", code=Code.CODE_INVALID, field=["code"])
        if row.used_at is not None:
            raise DomainError("This member code was already used", code=Code.CODE_USED_UP, field=["code"])
        raise DomainError("This member code has expired; refresh it", code=Code.CODE_EXPIRED, field=["code"])
    membership = await membership_of(session, customer_id)
    try:
        await live_customer(session, customer_id, field=["code"])
    except NotFound:
        membership = None  # the code of a deleted account reads as unknown
    if membership is None:
        raise DomainError("Unknown member code", code=Code.CODE_INVALID, field=["code"])
    return MemberScanned(membership)
