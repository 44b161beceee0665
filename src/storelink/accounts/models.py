"""Customers (WeChat users), staff accounts and their login sessions."""
from datetime import datetime
from enum import Enum

from sqlalchemy import CheckConstraint, Index, LargeBinary
from sqlmodel import Field, SQLModel

from storelink.modelbase import created_at_field, timestamp_field


class StaffRole(str, Enum):
    GUIDE = "GUIDE"
    STORE_MANAGER = "STORE_MANAGER"
    HQ_ADMIN = "HQ_ADMIN"


class Customer(SQLModel, table=True):
    __tablename__ = "customer"
    __table_args__ = (
        # OneID: the phone's blind index finds the customer (till enrolment, till sales, take-over).
        Index("ix_customer_phone_index", "phone_index",
              postgresql_where="deleted_at IS NULL AND phone_index IS NOT NULL"),
        # The few deleted customers, so "not deleted" is a probe of a tiny index (client books).
        Index("ix_customer_deleted", "id", postgresql_where="deleted_at IS NOT NULL"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # Null once the account is deleted, so the same WeChat user can start afresh.
    openid: str | None = Field(default=None, max_length=64, unique=True)
    unionid: str | None = Field(default=None, max_length=64, index=True)
    nickname: str | None = Field(default=None, max_length=64)
    avatar_url: str | None = Field(default=None, max_length=1024)
    # The phone at rest (phone_cipher): sealed, the id of its key, its blind index, and the masked
    # form staff see. All four are set together or all null.
    phone_sealed: bytes | None = Field(default=None, sa_type=LargeBinary)
    phone_key_id: str | None = Field(default=None, max_length=16)
    phone_index: bytes | None = Field(default=None, sa_type=LargeBinary)
    phone_masked: str | None = Field(default=None, max_length=20)
    phone_country_code: str | None = Field(default=None, max_length=6)
    phone_bound_at: datetime | None = timestamp_field()
    created_at: datetime = created_at_field()
    deleted_at: datetime | None = timestamp_field()


class Staff(SQLModel, table=True):
    __tablename__ = "staff"
    __table_args__ = (
        # HQ admins belong to no store; guides and managers to exactly one.
        CheckConstraint(
            "(role = 'HQ_ADMIN') = (store_id IS NULL)", name="store_matches_role"
        ),
        CheckConstraint(
            "role IN ('GUIDE', 'STORE_MANAGER', 'HQ_ADMIN')", name="role_known"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=32, unique=True)
    password_hash: str = Field(max_length=255)
    name: str = Field(max_length=64)
    role: str = Field(max_length=16)
    store_id: int | None = Field(default=None, foreign_key="store.id", index=True)
    active: bool = True
    created_at: datetime = created_at_field()


class AuthSession(SQLModel, table=True):
    """One login: the family of refresh tokens it rotates through. Revoking it ends them all."""

    __tablename__ = "auth_session"
    __table_args__ = (
        CheckConstraint(
            "(customer_id IS NULL) <> (staff_id IS NULL)", name="one_subject"
        ),
    )

    id: str = Field(primary_key=True, max_length=32)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    staff_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    created_at: datetime = created_at_field()
    revoked_at: datetime | None = timestamp_field()
    revoke_reason: str | None = Field(default=None, max_length=32)


class RefreshToken(SQLModel, table=True):
    __tablename__ = "refresh_token"

    # SHA-256 of the opaque token: a database leak does not leak usable tokens.
    token_hash: str = Field(primary_key=True, max_length=64)
    session_id: str = Field(foreign_key="auth_session.id", index=True, max_length=32)
    issued_at: datetime = created_at_field()
    expires_at: datetime = created_at_field()
    used_at: datetime | None = timestamp_field()
