"""Scan-to-join and joining online: consent, the membership, the exclusive-guide binding of a
guide's code, and the scan log that KPIs count."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from storelink import throttle
from storelink.accounts.models import Customer, Staff
from storelink.accounts.service import live_customer, present
from storelink.clock import utcnow
from storelink.live import bus as live
from storelink.webhooks import bodies, service as webhooks
from storelink.errors import Code, DomainError
from storelink.members import binding
from storelink.members.join_codes import code_problem
from storelink.members.models import (
    CHANNEL_OF_KIND, BindingChange, BindingReason, ConsentRecord, JoinChannel, JoinCode, JoinCodeKind, JoinScan,
    Membership,
)
from storelink.scanning import codes
from storelink.settings import Settings

JOIN_FAILURE_LIMIT = 10
JOIN_FAILURE_WINDOW = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class Consent:
    privacy_policy_version: str
    marketing: bool
    # Given at a store's till to a staff member (enrollAtTill); None when given in the app.
    store_id: int | None = None
    recorded_by_id: int | None = None


@dataclass(frozen=True)
class Credit:
    """Who a join is credited to: the store, the recruiting guide (also the first exclusive
    guide), and the join code scanned, if any."""

    store_id: int | None = None
    guide_id: int | None = None
    code_id: int | None = None

    @classmethod
    def of_code(cls, code: JoinCode | None) -> "Credit":
        return cls(code.store_id, code.guide_id, code.id) if code else cls()


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


# Built once (bind parameters): every report, scan and join reads a member this way.
_MEMBER = (select(Customer, Membership).outerjoin(Membership, Membership.customer_id == Customer.id)
           .where(Customer.id == bindparam("customer_id")))
_MEMBER_LOCKED = _MEMBER.with_for_update(of=Customer)


async def live_member(session: AsyncSession, customer_id: int, *, lock: bool = False,
                      field: list[str] | None = None) -> tuple[Customer, Membership | None]:
    """accounts.service.live_customer (its rule and its row lock) and membership_of, in one statement."""
    found = (await session.execute(_MEMBER_LOCKED if lock else _MEMBER, {"customer_id": customer_id})).one_or_none()
    return present(found[0] if found else None, field), (found[1] if found else None)


def check_consent(consent: Consent, customer: Customer, settings: Settings) -> None:
    if customer.phone_index is None:
        raise DomainError("Bind your phone number first", code=Code.PHONE_REQUIRED)
    if consent.privacy_policy_version.strip() != settings.privacy_policy_version:
        raise DomainError(
            "Please accept privacy policy {version} to join", version=settings.privacy_policy_version,
            code=Code.CONSENT_REQUIRED, field=["consent", "privacyPolicyVersion"],
        )


async def create_membership(
    session: AsyncSession, *, customer: Customer, consent: Consent, channel: JoinChannel, credit: Credit,
) -> Membership:
    now = utcnow()
    values = {
        "customer_id": customer.id, "join_channel": channel.value, "joined_at": now,
        "join_store_id": credit.store_id, "join_code_id": credit.code_id,
        "recruited_by_id": credit.guide_id, "guide_id": credit.guide_id,
        "bound_at": now if credit.guide_id else None,
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
    given = {"customer_id": customer.id, "recorded_at": now, "store_id": consent.store_id,
             "recorded_by_id": consent.recorded_by_id}
    await session.execute(_NEW_CONSENT, [
        {**given, "kind": "PRIVACY", "granted": True, "policy_version": consent.privacy_policy_version.strip()},
        {**given, "kind": "MARKETING", "granted": consent.marketing, "policy_version": None},
    ])
    if credit.guide_id:
        await session.execute(_NEW_BINDING_CHANGE, {
            "membership_id": membership.id, "to_guide_id": credit.guide_id,
            "reason": BindingReason.JOIN.value, "changed_at": now,
        })
    if credit.store_id is not None:
        await live.publish(session, kind="MEMBER_JOINED", store_id=credit.store_id, member=membership.id)
    await webhooks.emit(session, "member.joined", lambda: bodies.member(session, membership))
    return membership


async def _log_scan(session: AsyncSession, *, code: str, where: tuple[int | None, int | None],
                    customer_id: int, outcome: str) -> None:
    join_code_id, store_id = where
    await session.execute(_NEW_SCAN, {
        "code": code[:64], "join_code_id": join_code_id, "store_id": store_id,
        "customer_id": customer_id, "outcome": outcome, "scanned_at": utcnow(),
    })


def _keep_failed_scan(err: DomainError, *, text: str, where: tuple[int | None, int | None], customer_id: int,
                      throttle_key: str) -> None:
    """Of a failed join only the scan log and the failure count stay (after the rollback)."""
    outcome = err.code.value
    err.bookkeeping.append(lambda s: _log_scan(s, code=text, where=where, customer_id=customer_id, outcome=outcome))
    if err.code != Code.CODE_INVALID:  # only unknown codes count as guesses
        err.bookkeeping.append(lambda s: throttle.give_back(s, throttle_key))


async def join_by_code(
    session: AsyncSession, *, customer_id: int, code: str, consent: Consent, settings: Settings
) -> tuple[Membership, bool]:
    """(membership, is_new). Every scan is logged with its outcome, failures included."""
    text = codes.normal_join_code(code)
    key = f"join:customer:{customer_id}"
    await throttle.count_attempt(
        session, key, limit=JOIN_FAILURE_LIMIT, window=JOIN_FAILURE_WINDOW,
        message="Too many invalid codes; wait a few minutes",
    )
    customer = await live_customer(session, customer_id, lock=True)  # one join per customer at a time
    if text.startswith(codes.REFERRAL_PREFIX):
        return await _join_by_invite(session, customer=customer, text=text, consent=consent, settings=settings,
                                     throttle_key=key)
    row = None
    if codes.could_be_join_code(text):
        row = (await session.execute(_JOIN_CODE, {"code": text})).scalar_one_or_none()
    where = (row.id, row.store_id) if row else (None, None)
    try:
        if problem := code_problem(row, utcnow()):
            raise problem
        assert row is not None  # code_problem refuses a missing code
        existing = await membership_of(session, customer_id)
        if existing is not None:
            outcome = await binding.on_rescan(session, existing, row, settings)
            await _log_scan(session, code=text, where=where, customer_id=customer_id, outcome=outcome)
            await throttle.give_back(session, key)
            await live.publish(session, kind="MEMBER_SCANNED", store_id=row.store_id, member=existing.id)
            return existing, False
        check_consent(consent, customer, settings)
        membership = await create_membership(
            session, customer=customer, consent=consent,
            channel=CHANNEL_OF_KIND[JoinCodeKind(row.kind)], credit=Credit.of_code(row),
        )
        await _log_scan(session, code=text, where=where, customer_id=customer_id, outcome="JOINED")
        # Count the use last: every join with this code queues on its row lock, so it is held
        # only for this statement and the commit.
        counted = (await session.execute(_COUNT_USE, {"code_id": where[0]})).scalar_one_or_none()
        if counted is None:  # used up, revoked or expired while we were joining
            fresh = await session.get(JoinCode, where[0], populate_existing=True)
            raise code_problem(fresh, utcnow()) or DomainError("Code used up", code=Code.CODE_USED_UP)
    except DomainError as err:
        _keep_failed_scan(err, text=text, where=where, customer_id=customer_id, throttle_key=key)
        raise
    await throttle.give_back(session, key)
    return membership, True


_INVITER = (select(Membership.id, Membership.guide_id, Staff.store_id)
            .join(Customer, Customer.id == Membership.customer_id)
            .outerjoin(Staff, Staff.id == Membership.guide_id)
            .where(Membership.id == bindparam("id"), Customer.deleted_at.is_(None)))


async def _join_by_invite(session: AsyncSession, *, customer: Customer, text: str, consent: Consent,
                          settings: Settings, throttle_key: str) -> tuple[Membership, bool]:
    """A friend's invite code (API-NOTES "Marketing", referral): a REFERRAL member credited to the
    inviter's exclusive guide and that guide's store (neither when the inviter has none). A member
    scanning an invite, their own included, stays as they are: isNewMember false, nothing else."""
    customer_id = customer.id  # the bookkeeping below runs after a rollback has expired `customer`
    inviter_id = codes.referral_member(text, settings.jwt_secret)
    inviter = (await session.execute(_INVITER, {"id": inviter_id})).one_or_none() if inviter_id else None
    where = (None, inviter.store_id if inviter else None)
    try:
        if inviter is None:
            raise DomainError("Unknown join code", code=Code.CODE_INVALID, field=["code"])
        existing = await membership_of(session, customer_id)
        if existing is not None:
            await _log_scan(session, code=text, where=where, customer_id=customer_id, outcome="ALREADY_MEMBER")
            await throttle.give_back(session, throttle_key)
            return existing, False
        check_consent(consent, customer, settings)
        membership = await create_membership(
            session, customer=customer, consent=consent, channel=JoinChannel.REFERRAL,
            credit=Credit(store_id=inviter.store_id, guide_id=inviter.guide_id))
        await session.execute(update(Membership).where(Membership.id == membership.id)
                              .values(referred_by_id=inviter.id).execution_options(synchronize_session=False))
        membership.referred_by_id = inviter.id
        await _log_scan(session, code=text, where=where, customer_id=customer_id, outcome="JOINED")
    except DomainError as err:
        _keep_failed_scan(err, text=text, where=where, customer_id=customer_id, throttle_key=throttle_key)
        raise
    await throttle.give_back(session, throttle_key)
    return membership, True


async def join_online(
    session: AsyncSession, *, customer_id: int, consent: Consent, settings: Settings
) -> tuple[Membership, bool]:
    customer = await live_customer(session, customer_id, lock=True)  # one join per customer at a time
    existing = await membership_of(session, customer_id)
    if existing is not None:
        return existing, False
    check_consent(consent, customer, settings)
    membership = await create_membership(
        session, customer=customer, consent=consent, channel=JoinChannel.ONLINE, credit=Credit()
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
