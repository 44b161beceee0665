"""Logins and sessions for customers (WeChat) and staff (password), and staff accounts."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from typing import cast

from sqlalchemy import CursorResult, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.accounts import passwords, permissions, tokens
from storelink import phone_cipher, throttle
from storelink.accounts.models import AuthSession, Customer, RefreshToken, Staff, StaffRole
from storelink.clock import utcnow
from storelink.errors import (
    Code, Conflict, DomainError, Forbidden, InvalidInput, NotFound, Unauthenticated, UpstreamUnavailable,
)
from storelink.settings import Settings
from storelink.stores import service as store_service
from storelink.wechat.client import PhoneInfo, WeChatClient, WeChatError, WeChatUnavailable

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,31}$")


@dataclass
class Principal:
    """Who is calling: exactly one of customer or staff, and the login session."""

    session_id: str
    customer: Customer | None = None
    staff: Staff | None = None


@dataclass
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int
    customer: Customer | None = None
    staff: Staff | None = None


# The statements every request or login runs are built once, with bind parameters: SQLAlchemy
# keeps the compiled form and cache key on the statement object, where building one per call
# costs about 0.1 ms of CPU (a login burst is CPU-bound; see bench/join_burst.py).
_CALLER = (
    select(AuthSession, Customer, Staff)
    .outerjoin(Customer, Customer.id == AuthSession.customer_id)
    .outerjoin(Staff, Staff.id == AuthSession.staff_id)
    .where(AuthSession.id == bindparam("session_id"), AuthSession.revoked_at.is_(None))
)
_new_customer = insert(Customer).values(
    openid=bindparam("openid"), unionid=bindparam("unionid"), created_at=bindparam("now")
)
_SIGN_IN_CUSTOMER = _new_customer.on_conflict_do_update(
    index_elements=[Customer.openid],
    set_={"unionid": func.coalesce(Customer.unionid, _new_customer.excluded.unionid)},
).returning(Customer)
_BIND_PHONE = (
    update(Customer)
    .where(Customer.id == bindparam("customer_id"), Customer.deleted_at.is_(None))
    .values(phone_sealed=bindparam("phone_sealed"), phone_key_id=bindparam("phone_key_id"),
            phone_index=bindparam("phone_index"), phone_masked=bindparam("phone_masked"),
            phone_country_code=bindparam("country_code"), phone_bound_at=bindparam("now"))
    .returning(Customer)
)
_NEW_AUTH_SESSION = insert(AuthSession.__table__)
_NEW_REFRESH_TOKEN = insert(RefreshToken.__table__)


async def authenticate(session: AsyncSession, token: str, *, settings: Settings) -> Principal:
    """The principal behind a bearer token; raises tokens.InvalidToken when it must be refused."""
    claims = tokens.decode_access_token(token, secret=settings.jwt_secret)
    row = (await session.execute(_CALLER, {"session_id": claims.session_id})).first()
    if row is None:
        raise tokens.InvalidToken("session ended")
    auth, customer, staff = row
    if claims.subject_kind == "customer":
        if customer is None or customer.id != claims.subject_id or customer.deleted_at is not None:
            raise tokens.InvalidToken("no such customer")
        return Principal(session_id=auth.id, customer=customer)
    if staff is None or staff.id != claims.subject_id or not staff.active:
        raise tokens.InvalidToken("no such staff")
    return Principal(session_id=auth.id, staff=staff)


async def _open_session(
    session: AsyncSession,
    *,
    settings: Settings,
    customer: Customer | None = None,
    staff: Staff | None = None,
    session_id: str | None = None,
) -> IssuedTokens:
    """Issue an access token and a refresh token; a new session unless continuing one."""
    now = utcnow()
    # Plain inserts rather than session.add + flush: nothing reads these rows back as objects,
    # and the unit of work costs more CPU than the statements.
    if session_id is None:
        session_id = tokens.new_session_id()
        await session.execute(_NEW_AUTH_SESSION, {
            "id": session_id, "customer_id": customer.id if customer else None,
            "staff_id": staff.id if staff else None, "created_at": now,
        })
    refresh, refresh_hash = tokens.new_refresh_token()
    await session.execute(_NEW_REFRESH_TOKEN, {
        "token_hash": refresh_hash, "session_id": session_id, "issued_at": now,
        "expires_at": now + timedelta(days=settings.refresh_token_ttl_days),
    })
    subject = customer or staff
    assert subject is not None and subject.id is not None
    access = tokens.issue_access_token(
        secret=settings.jwt_secret,
        subject_kind="customer" if customer else "staff",
        subject_id=subject.id,
        session_id=session_id,
        ttl_seconds=settings.access_token_ttl_seconds,
        now=now,
    )
    return IssuedTokens(access, refresh, settings.access_token_ttl_seconds, customer, staff)


def wechat_failure(exc: Exception, what: str) -> DomainError:
    """The userError for a failed WeChat call: the user's code was bad, or WeChat was not there."""
    if isinstance(exc, WeChatError):
        if what == "login":
            return DomainError("WeChat did not accept the login; please try again", code=Code.CODE_INVALID,
                               field=["code"])
        return DomainError("WeChat did not accept the phone number; please authorise it again",
                           code=Code.CODE_INVALID, field=["code"])
    return UpstreamUnavailable("WeChat is not reachable right now; please try again")


async def wechat_login(
    session: AsyncSession, *, wechat: WeChatClient, code: str, settings: Settings
) -> IssuedTokens:
    code = code.strip()
    if not code or len(code) > 128:
        raise InvalidInput("A WeChat login code is required", field=["code"])
    # No database work before this call: the transaction takes a connection only when first used.
    try:
        wx = await wechat.code2session(code)
    except (WeChatError, WeChatUnavailable) as exc:
        raise wechat_failure(exc, "login") from None
    customer = (
        await session.scalars(
            _SIGN_IN_CUSTOMER, {"openid": wx.openid, "unionid": wx.unionid, "now": utcnow()},
            execution_options={"populate_existing": True},
        )
    ).one()
    return await _open_session(session, settings=settings, customer=customer)


async def phone_from_wechat(wechat: WeChatClient, code: str) -> PhoneInfo:
    """The phone behind a getPhoneNumber code (WeChat has verified the customer holds it)."""
    code = code.strip()
    if not code or len(code) > 128:
        raise InvalidInput("A getPhoneNumber code is required", field=["code"])
    try:
        return await wechat.get_phone_number(code)
    except (WeChatError, WeChatUnavailable) as exc:
        raise wechat_failure(exc, "phone number") from None


def phone_columns(phone: str) -> dict:
    """The customer columns that hold a phone at rest, by attribute name."""
    sealed = phone_cipher.keyring().seal(phone)
    return {"phone_sealed": sealed.cipher, "phone_key_id": sealed.key_id, "phone_index": sealed.index,
            "phone_masked": sealed.masked}


NO_PHONE = dict.fromkeys(("phone_sealed", "phone_key_id", "phone_index", "phone_masked", "phone_country_code",
                          "phone_bound_at"))


def phone_of(customer: Customer) -> str | None:
    """The full number: only for the customer themselves and for `storelink export`."""
    if customer.phone_sealed is None:
        return None
    assert customer.phone_key_id is not None  # a sealed phone names its key
    return phone_cipher.keyring().open(customer.phone_sealed, customer.phone_key_id)


async def store_phone(session: AsyncSession, *, customer_id: int, phone: PhoneInfo) -> Customer:
    customer = (
        await session.scalars(
            _BIND_PHONE,
            {"customer_id": customer_id, **phone_columns(phone.phone), "country_code": phone.country_code,
             "now": utcnow()},
            execution_options={"populate_existing": True, "synchronize_session": False},
        )
    ).one_or_none()
    if customer is None:  # deleted meanwhile
        raise Unauthenticated("Please sign in again")
    return customer


def _normal_username(username: str) -> str:
    return username.strip().lower()[:64]


async def staff_login(
    session: AsyncSession, *, username: str, password: str, settings: Settings
) -> IssuedTokens:
    key = _normal_username(username)
    throttle_key = f"login:{key}"
    window = timedelta(seconds=settings.login_lockout_seconds)
    # Counted before the password is checked: parallel guesses cannot all slip under the limit.
    await throttle.count_attempt(
        session, throttle_key, limit=settings.login_max_failures, window=window,
        message="Too many failed logins; try again later",
    )
    staff = (await session.execute(select(Staff).where(Staff.username == key))).scalar_one_or_none()
    known = staff if staff is not None and staff.active else None
    if not await passwords.verify_password(known.password_hash if known else None, password[:256]) or known is None:
        raise Unauthenticated("Wrong username or password")
    await throttle.clear(session, throttle_key)
    return await _open_session(session, settings=settings, staff=known)


async def refresh_session(session: AsyncSession, *, refresh_token: str, settings: Settings) -> IssuedTokens:
    now = utcnow()
    token_hash = tokens.hash_refresh_token(refresh_token)
    row = await session.get(RefreshToken, token_hash, with_for_update=True)
    if row is None:
        raise Unauthenticated("Invalid refresh token", field=["refreshToken"])
    auth = await session.get(AuthSession, row.session_id, with_for_update=True)
    assert auth is not None
    if auth.revoked_at is not None:
        raise Unauthenticated("This session has ended; please sign in again")
    if row.used_at is not None:
        # A rotated token came back: someone holds a copy. End the whole family.
        family = auth.id  # read now: the rollback before the bookkeeping expires the row
        raise Unauthenticated("This session has ended; please sign in again",
                              bookkeeping=lambda s: _revoke(s, family, "refresh_reuse"))
    if row.expires_at <= now:
        raise Unauthenticated("Refresh token expired; please sign in again")
    row.used_at = now
    customer = await session.get(Customer, auth.customer_id) if auth.customer_id else None
    staff = await session.get(Staff, auth.staff_id) if auth.staff_id else None
    if (customer is not None and customer.deleted_at is not None) or (
        staff is not None and not staff.active
    ):
        raise Unauthenticated("This account can no longer sign in")
    return await _open_session(
        session, settings=settings, customer=customer, staff=staff, session_id=auth.id
    )


async def _revoke(session: AsyncSession, session_id: str, reason: str) -> bool:
    result = await session.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoke_reason=reason)
    )
    return cast(CursorResult, result).rowcount == 1  # an UPDATE's result is a cursor's


async def logout(session: AsyncSession, *, session_id: str) -> bool:
    return await _revoke(session, session_id, "logout")


async def revoke_all_sessions(session: AsyncSession, *, customer_id: int | None = None,
                              staff_id: int | None = None, reason: str) -> None:
    cond = AuthSession.customer_id == customer_id if customer_id else AuthSession.staff_id == staff_id
    await session.execute(
        update(AuthSession)
        .where(cond, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoke_reason=reason)
    )


async def create_staff(
    session: AsyncSession,
    *,
    actor: Staff | None,
    username: str,
    password: str,
    name: str,
    role: str,
    store_id: int | None,
) -> Staff:
    """actor None is the CLI bootstrap (create-admin), which stands outside the API."""
    f = ["input"]
    if actor is not None and not permissions.is_hq(actor):
        if not (
            actor.role == StaffRole.STORE_MANAGER
            and role == StaffRole.GUIDE
            and store_id == actor.store_id
        ):
            raise Forbidden("Store managers may only create guides of their own store")
    key = username.strip().lower()
    if not _USERNAME.match(key):
        raise InvalidInput(
            "Username: 3-32 lowercase letters, digits, '.', '_' or '-'", field=f + ["username"]
        )
    if not passwords.MIN_LENGTH <= len(password) <= passwords.MAX_LENGTH:
        raise InvalidInput(
            "Password must be {low} to {high} characters", low=passwords.MIN_LENGTH, high=passwords.MAX_LENGTH,
            field=f + ["password"],
        )
    name = name.strip()
    if not name or len(name) > 64:
        raise InvalidInput("Name must be 1-64 characters", field=f + ["name"])
    if role == StaffRole.HQ_ADMIN:
        if store_id is not None:
            raise InvalidInput("HQ admins belong to no store", field=f + ["storeId"])
    else:
        if store_id is None:
            raise InvalidInput("Guides and store managers need a store", field=f + ["storeId"])
        await store_service.require_store(session, store_id, f + ["storeId"])
    password_hash = await passwords.hash_password(password)
    staff_id = (
        await session.execute(
            insert(Staff)
            .values(username=key, password_hash=password_hash, name=name, role=StaffRole(role).value,
                    store_id=store_id, active=True, created_at=utcnow())
            .on_conflict_do_nothing(index_elements=[Staff.username])
            .returning(Staff.id)
        )
    ).scalar_one_or_none()
    if staff_id is None:
        raise Conflict("That username is taken", field=f + ["username"])
    staff = await session.get(Staff, staff_id)
    assert staff is not None
    return staff


async def live_customer(session: AsyncSession, customer_id: int, *, lock: bool = False,
                        field: list[str] | None = None) -> Customer:
    """The customer, unless gone (no row, or deleted and anonymised).

    A gone customer acting for themself must sign in again (UNAUTHENTICATED); a member that staff
    named (`field` given) is NOT_FOUND. `lock` takes the row lock that serialises one customer's
    joins, checkouts, claims and bookings."""
    return present(await session.get(Customer, customer_id, with_for_update=lock or None), field)


def present(customer: Customer | None, field: list[str] | None = None) -> Customer:
    """live_customer's rule for a customer row read some other way."""
    if customer is None or customer.deleted_at is not None:
        if field is not None:
            raise NotFound("No such member", field=field)
        raise Unauthenticated("Please sign in again")
    return customer


MAX_NICKNAME = 32
MAX_AVATAR_URL = 1024


def _nickname(value: str) -> str:
    nickname = value.strip()
    if not 1 <= len(nickname) <= MAX_NICKNAME or any(unicodedata.category(ch) == "Cc" for ch in nickname):
        raise InvalidInput("A nickname is 1 to {n} characters, without control characters", n=MAX_NICKNAME,
                           field=["nickname"])
    return nickname


def _avatar_url(value: str) -> str:
    # https only: the mini-program's <image> refuses plain http, and a link is all we keep.
    if (len(value) > MAX_AVATAR_URL or not value.startswith("https://") or len(value) == len("https://")
            or any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in value)):
        raise InvalidInput("The avatar must be an https:// link of at most {n} characters", n=MAX_AVATAR_URL,
                           field=["avatarUrl"])
    return value


async def update_profile(session: AsyncSession, *, customer_id: int, nickname: str | None,
                         avatar_url: str | None) -> Customer:
    """Change what is given (null leaves a field as it is); all checked before anything is written."""
    values = {}
    if nickname is not None:
        values["nickname"] = _nickname(nickname)
    if avatar_url is not None:
        values["avatar_url"] = _avatar_url(avatar_url)
    customer = await live_customer(session, customer_id, lock=True)
    for name, value in values.items():
        setattr(customer, name, value)
    await session.flush()
    return customer
