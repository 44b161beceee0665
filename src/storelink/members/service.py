"""Scan-to-join: join codes, joining, exclusive-guide binding, transfers, member codes."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from storelink import scanner, throttle
from storelink.accounts import permissions
from storelink.accounts.models import Customer, Staff, StaffRole
from storelink.clock import utcnow
from storelink.errors import (
    DomainError, Forbidden, InvalidInput, NotFound, Unauthenticated,
)
from storelink.members import binding, codes
from storelink.members.models import (
    CHANNEL_OF_KIND, BindingChange, BindingReason, ConsentRecord, JoinChannel, JoinCode,
    JoinCodeKind, JoinScan, MemberCode, Membership,
)
from storelink.settings import Settings
from storelink.stores import service as store_service
from storelink.stores.models import Store

JOIN_FAILURE_LIMIT = 10
JOIN_FAILURE_WINDOW = dt.timedelta(minutes=10)
TRANSFER_LIMIT = 2
TRANSFER_WINDOW = dt.timedelta(days=90)
MAX_CAMPAIGN_LENGTH = 64


@dataclass(frozen=True)
class Consent:
    privacy_policy_version: str
    marketing: bool


# ------------------------------------------------------------------ join codes

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


async def issue_personal_code(session: AsyncSession, guide: Staff) -> JoinCode:
    """The guide's permanent scan-to-join code."""
    return await _insert_code(
        session, kind=JoinCodeKind.GUIDE.value, store_id=guide.store_id, guide_id=guide.id,
        personal=True, created_by_id=None,
    )


async def personal_codes(session: AsyncSession, guide_ids: list[int]) -> dict[int, JoinCode]:
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
            raise DomainError("This guide has left", code="INVALID_STATE", field=["input", "guideId"])
    if campaign is not None:
        campaign = campaign.strip()
        if not campaign or len(campaign) > MAX_CAMPAIGN_LENGTH:
            raise InvalidInput(f"Campaign: 1-{MAX_CAMPAIGN_LENGTH} characters", field=["input", "campaign"])
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
            await issue_personal_code(session, guide)
    return row


async def retire_guide(session: AsyncSession, *, actor: Staff, guide_id: int) -> Staff:
    """A guide leaves: their account and codes stop working; their members stay bound until a
    manager transfers them."""
    guide = await session.get(Staff, guide_id, with_for_update=True)
    if guide is None or guide.role != StaffRole.GUIDE:
        raise NotFound("No such guide", field=["id"])
    permissions.ensure_manages_store(actor, guide.store_id)
    from storelink.accounts import service as accounts

    guide.active = False
    await session.execute(
        update(JoinCode).where(JoinCode.guide_id == guide.id, JoinCode.active)
        .values(active=False, revoked_at=utcnow())
    )
    await accounts.revoke_all_sessions(session, staff_id=guide.id, reason="staff_retired")
    await session.flush()
    return guide


def _code_problem(row: JoinCode | None, now: dt.datetime) -> DomainError | None:
    if row is None:
        return DomainError("Unknown join code", code="CODE_INVALID", field=["code"])
    if not row.active or (row.expires_at is not None and row.expires_at <= now):
        # A revoked code reads the same to the customer as an expired one: no longer valid.
        return DomainError("This join code is no longer valid", code="CODE_EXPIRED", field=["code"])
    if row.max_uses is not None and row.uses >= row.max_uses:
        return DomainError("This join code has been used up", code="CODE_USED_UP", field=["code"])
    return None


# ------------------------------------------------------------------ joining

# The statements of a join, built once with bind parameters: SQLAlchemy keeps the compiled form
# and cache key on the statement object (building them per call was a tenth of a join's CPU).
_MEMBERSHIP_OF = select(Membership).where(Membership.customer_id == bindparam("customer_id"))
_JOIN_CODE = select(JoinCode).where(JoinCode.code == bindparam("code"))
_NEW_MEMBERSHIP = (
    insert(Membership)
    .values({column: bindparam(column) for column in (
        "customer_id", "member_no", "join_channel", "joined_at", "join_store_id", "join_code_id",
        "recruited_by_id", "guide_id", "bound_at")})
    .on_conflict_do_nothing()
    .returning(Membership)
)
_NEW_CONSENT = insert(ConsentRecord.__table__)
_NEW_BINDING_CHANGE = insert(BindingChange.__table__)
_NEW_SCAN = insert(JoinScan.__table__)
# Counts a use only while the code is still good: the last word on revocation, expiry and
# max uses, whatever was read earlier in the transaction.
_COUNT_USE = (
    update(JoinCode)
    .where(JoinCode.id == bindparam("code_id"), JoinCode.active,
           or_(JoinCode.max_uses.is_(None), JoinCode.uses < JoinCode.max_uses),
           or_(JoinCode.expires_at.is_(None), JoinCode.expires_at > func.now()))
    .values(uses=JoinCode.uses + 1)
    .returning(JoinCode.id)
)


async def membership_of(session: AsyncSession, customer_id: int) -> Membership | None:
    return (await session.execute(_MEMBERSHIP_OF, {"customer_id": customer_id})).scalar_one_or_none()


async def _lock_customer(session: AsyncSession, customer_id: int) -> Customer:
    # Serialises the joins of one customer: two at once make one member.
    customer = await session.get(Customer, customer_id, with_for_update=True)
    if customer is None or customer.deleted_at is not None:
        raise Unauthenticated("Please sign in again")
    return customer


def _check_consent(consent: Consent, customer: Customer, settings: Settings) -> None:
    if customer.phone is None:
        raise DomainError("Bind your phone number first", code="PHONE_REQUIRED")
    if consent.privacy_policy_version.strip() != settings.privacy_policy_version:
        raise DomainError(
            f"Please accept privacy policy {settings.privacy_policy_version}",
            code="CONSENT_REQUIRED", field=["consent", "privacyPolicyVersion"],
        )


async def _create_membership(
    session: AsyncSession, *, customer: Customer, consent: Consent, channel: JoinChannel,
    code: JoinCode | None,
) -> Membership:
    now = utcnow()
    values = {
        "customer_id": customer.id, "join_channel": channel.value, "joined_at": now,
        "join_store_id": code.store_id if code else None,
        "join_code_id": code.id if code else None,
        "recruited_by_id": code.guide_id if code else None,
        "guide_id": code.guide_id if code else None,
        "bound_at": now if code and code.guide_id else None,
    }
    for _ in range(5):
        membership = (
            await session.scalars(_NEW_MEMBERSHIP, {"member_no": codes.new_member_no(), **values})
        ).one_or_none()
        if membership is not None:
            break
    else:
        raise RuntimeError("could not find a free member number")
    # Plain inserts, not session.add: the unit of work's flush cost a tenth of a join's CPU.
    await session.execute(_NEW_CONSENT, [
        {"customer_id": customer.id, "kind": "PRIVACY", "granted": True, "recorded_at": now,
         "policy_version": consent.privacy_policy_version.strip()},
        {"customer_id": customer.id, "kind": "MARKETING", "granted": consent.marketing, "recorded_at": now,
         "policy_version": None},
    ])
    if code and code.guide_id:
        await session.execute(_NEW_BINDING_CHANGE, {
            "membership_id": membership.id, "to_guide_id": code.guide_id,
            "reason": BindingReason.JOIN.value, "changed_at": now,
        })
    return membership


async def _log_scan(session: AsyncSession, *, code: str, where: tuple[int | None, int | None],
                    customer_id: int, outcome: str) -> None:
    join_code_id, store_id = where
    await session.execute(_NEW_SCAN, {
        "code": code[:64], "join_code_id": join_code_id, "store_id": store_id,
        "customer_id": customer_id, "outcome": outcome, "scanned_at": utcnow(),
    })


async def join_by_code(
    session: AsyncSession, *, customer_id: int, code: str, consent: Consent, settings: Settings
) -> tuple[Membership, bool]:
    """(membership, is_new). Every scan is logged with its outcome, failures included."""
    text = codes.normal_join_code(code)
    key = f"join:customer:{customer_id}"
    await throttle.ensure_allowed(
        session, key, limit=JOIN_FAILURE_LIMIT, window=JOIN_FAILURE_WINDOW,
        message="Too many invalid codes; wait a few minutes",
    )
    customer = await _lock_customer(session, customer_id)
    row = None
    if 0 < len(text) <= 32:
        row = (await session.execute(_JOIN_CODE, {"code": text})).scalar_one_or_none()
    where = (row.id, row.store_id) if row else (None, None)
    try:
        if problem := _code_problem(row, utcnow()):
            raise problem
        existing = await membership_of(session, customer_id)
        if existing is not None:
            outcome = await binding.on_rescan(session, existing, row, settings)
            await _log_scan(session, code=text, where=where, customer_id=customer_id, outcome=outcome)
            return existing, False
        _check_consent(consent, customer, settings)
        membership = await _create_membership(
            session, customer=customer, consent=consent,
            channel=CHANNEL_OF_KIND[JoinCodeKind(row.kind)], code=row,
        )
        await _log_scan(session, code=text, where=where, customer_id=customer_id, outcome="JOINED")
        # Count the use last: every join with this code queues on its row lock, so it is held
        # only for this statement and the commit.
        counted = (await session.execute(_COUNT_USE, {"code_id": where[0]})).scalar_one_or_none()
        if counted is None:  # used up, revoked or expired while we were joining
            await session.rollback()
            fresh = await session.get(JoinCode, where[0])
            raise _code_problem(fresh, utcnow()) or DomainError("Code used up", code="CODE_USED_UP")
    except DomainError as err:
        await session.rollback()
        await _log_scan(session, code=text, where=where, customer_id=customer_id, outcome=err.code)
        if err.code == "CODE_INVALID":
            await throttle.record_failure(session, key, window=JOIN_FAILURE_WINDOW)
        err.keep_changes = True  # the scan log and the failure count, nothing else
        raise
    return membership, True


async def join_online(
    session: AsyncSession, *, customer_id: int, consent: Consent, settings: Settings
) -> tuple[Membership, bool]:
    customer = await _lock_customer(session, customer_id)
    existing = await membership_of(session, customer_id)
    if existing is not None:
        return existing, False
    _check_consent(consent, customer, settings)
    membership = await _create_membership(
        session, customer=customer, consent=consent, channel=JoinChannel.ONLINE, code=None
    )
    return membership, True


async def set_marketing_consent(session: AsyncSession, *, customer_id: int, granted: bool) -> None:
    session.add(ConsentRecord(customer_id=customer_id, kind="MARKETING", granted=granted,
                              recorded_at=utcnow()))
    await session.flush()


async def marketing_consent(session: AsyncSession, customer_id: int) -> bool:
    latest = (
        await session.execute(
            select(ConsentRecord.granted)
            .where(ConsentRecord.customer_id == customer_id, ConsentRecord.kind == "MARKETING")
            .order_by(ConsentRecord.recorded_at.desc(), ConsentRecord.id.desc()).limit(1)
        )
    ).scalar_one_or_none()
    return bool(latest)


# ------------------------------------------------------------------ transfers

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
        raise DomainError("The receiving guide has left", code="INVALID_STATE", field=["toGuideId"])

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


# ------------------------------------------------------------------ member codes

async def issue_member_code(
    session: AsyncSession, *, customer_id: int, settings: Settings
) -> tuple[str, dt.datetime]:
    if await membership_of(session, customer_id) is None:
        raise DomainError("Join the membership to get a member code", code="INVALID_STATE")
    now = utcnow()
    # Unused codes past their time are of no use to anyone; used ones stay as visit records.
    await session.execute(
        MemberCode.__table__.delete().where(
            MemberCode.customer_id == customer_id, MemberCode.used_at.is_(None),
            MemberCode.expires_at < now,
        )
    )
    code, token = codes.new_scan_code("M", settings.jwt_secret)
    expires_at = now + dt.timedelta(seconds=settings.member_code_ttl_seconds)
    session.add(MemberCode(token=token, customer_id=customer_id, issued_at=now, expires_at=expires_at))
    await session.flush()
    return code, expires_at


@dataclass(frozen=True)
class MemberScanned:
    membership: Membership


@scanner.handles("M")
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
            raise DomainError("Unknown member code", code="CODE_INVALID", field=["code"])
        if row.used_at is not None:
            raise DomainError("This member code was already used", code="CODE_USED_UP", field=["code"])
        raise DomainError("This member code has expired; refresh it", code="CODE_EXPIRED", field=["code"])
    membership = await membership_of(session, customer_id)
    customer = await session.get(Customer, customer_id)
    if membership is None or customer is None or customer.deleted_at is not None:
        raise DomainError("Unknown member code", code="CODE_INVALID", field=["code"])
    return MemberScanned(membership)


# ------------------------------------------------------------------ who may see a member

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
