"""The phone as the one key across channels (OneID): its form, and finding who holds it.

Only mainland mobile numbers are accepted (what WeChat's getPhoneNumber and a Chinese till give):
eleven digits starting 1[3-9], written with or without +86 / 86, spaces and dashes.
"""
from __future__ import annotations

import re

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storelink import phone_cipher
from storelink.accounts.models import Customer
from storelink.errors import InvalidInput
from storelink.members.models import Membership

_MAINLAND_MOBILE = re.compile(r"1[3-9]\d{9}")
_SPACES_AND_DASHES = re.compile(r"[\s-]")


def mainland_mobile(text: str, field: list[str]) -> str:
    digits = _SPACES_AND_DASHES.sub("", text or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not (digits.isascii() and _MAINLAND_MOBILE.fullmatch(digits)):
        raise InvalidInput("A mainland mobile number: 11 digits starting with 13-19", field=field)
    return digits


_WAIT_FOR_IMPORTS = text("LOCK TABLE customer IN ROW EXCLUSIVE MODE")


async def lock_phone(session: AsyncSession, phone: str) -> None:
    """Serialises everything that may give a phone a membership or move one (till enrolment,
    binding a phone): two at once make one member. Held until the transaction ends.

    The ROW EXCLUSIVE table lock (the one any insert takes anyway) makes this wait for a bulk
    members import, which locks the table against it instead of locking every phone it loads."""
    await session.execute(_WAIT_FOR_IMPORTS)
    # Locked on the phone's blind index, so the number itself is never sent in a statement.
    lock_id = int.from_bytes(phone_cipher.keyring().current.index(phone)[:8], "big", signed=True)
    await session.execute(select(func.pg_advisory_xact_lock(lock_id)))


async def holders(session: AsyncSession, phone: str) -> list[tuple[Customer, Membership | None]]:
    """Live customers with this phone and their memberships, members first, then WeChat
    customers before till-only ones, oldest first."""
    rows = await session.execute(
        select(Customer, Membership).outerjoin(Membership, Membership.customer_id == Customer.id)
        .where(Customer.phone_index.in_(phone_cipher.keyring().indexes(phone)), Customer.deleted_at.is_(None))
        .order_by(Membership.id.is_(None), Customer.openid.is_(None), Customer.id)
    )
    return [(c, m) for c, m in rows]
