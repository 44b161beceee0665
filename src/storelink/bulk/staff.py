"""`staff`: username, name, role, store_code?, password?. The username is the business key.

A row without a password creates an account that cannot log in until a password is set (an
import of the row with one); a row with a password always sets it. An update leaves `active`
alone: a retired guide stays retired. New guides get their personal join code, as when hired."""
from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.accounts import passwords
from storelink.accounts.models import Staff, StaffRole
from storelink.bulk import fields
from storelink.bulk.common import duplicates, staged_rows, unknown, upsert_counts
from storelink.bulk.kind import Counts, Kind, Row, Setting
from storelink.members import join_codes
from storelink.stores.models import Store

# Not an argon2 hash: verification fails, so the account cannot log in until a password is set.
NO_PASSWORD = "!"
_ROLES = tuple(role.value for role in StaffRole)


def _password(value: str) -> str:
    if not passwords.MIN_LENGTH <= len(value) <= passwords.MAX_LENGTH:
        raise fields.Bad(f"{passwords.MIN_LENGTH}-{passwords.MAX_LENGTH} characters")
    return passwords.hash_blocking(value)  # hashed here, so the staging table never holds it


def record(row: Row, s: Setting) -> tuple:
    username = row.get("username", fields.username, required=True)
    name = row.get("name", fields.text, required=True, max_len=64)
    role = row.get("role", fields.choice, required=True, allowed=_ROLES)
    store_code = row.get("store_code", fields.code)
    password_hash = row.get("password", _password)
    if role == StaffRole.HQ_ADMIN and store_code:
        row.problem("store_code", "HQ admins belong to no store")
    elif role and role != StaffRole.HQ_ADMIN and not store_code:
        row.problem("store_code", "guides and store managers need a store")
    return (username, name, role, store_code, password_hash)


async def load(session: AsyncSession, s: Setting) -> Counts:
    counts = await upsert_counts(session, (
        "INSERT INTO staff (username, password_hash, name, role, store_id, active, created_at) "
        f"SELECT r.username, coalesce(r.password_hash, '{NO_PASSWORD}'), r.name, r.role, st.id, true, now() "
        "FROM import_rows r LEFT JOIN store st ON st.code = r.store_code "
        "ON CONFLICT (username) DO UPDATE SET name = excluded.name, role = excluded.role, "
        f"store_id = excluded.store_id, password_hash = CASE WHEN excluded.password_hash = '{NO_PASSWORD}' "
        "THEN staff.password_hash ELSE excluded.password_hash END "
        "WHERE (staff.name, staff.role, staff.store_id) IS DISTINCT FROM "
        f"(excluded.name, excluded.role, excluded.store_id) OR excluded.password_hash <> '{NO_PASSWORD}'"),
        await staged_rows(session))
    without_code = await session.execute(text(
        "SELECT s.id, s.store_id FROM staff s JOIN import_rows r ON r.username = s.username "
        "WHERE s.role = 'GUIDE' AND s.active AND NOT EXISTS ("
        "  SELECT 1 FROM join_code c WHERE c.guide_id = s.id AND c.personal AND c.active)"))
    for guide_id, store_id in without_code:
        await join_codes.issue_personal_code(session, guide_id, store_id)
    return counts


async def export(session: AsyncSession, s: Setting):
    # Passwords never leave: exported accounts set one before they can log in.
    yield ["username", "name", "role", "store_code"]
    rows = await session.execute(select(Staff.username, Staff.name, Staff.role, Store.code)
                                 .outerjoin(Store, Store.id == Staff.store_id).order_by(Staff.username))
    for username, name, role, store_code in rows:
        yield [username, name, role, store_code or ""]


KIND = Kind(
    name="staff",
    required=("username", "name", "role"),
    optional=("store_code", "password"),
    staging=(("username", "text"), ("name", "text"), ("role", "text"), ("store_code", "text"),
             ("password_hash", "text")),
    record=record,
    checks=(duplicates("username", "username"), unknown("store_code", "store", "code", "unknown store code")),
    load=load,
    export=export,
)
