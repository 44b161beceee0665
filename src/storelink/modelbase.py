"""Shared pieces of the SQLModel tables: constraint naming (stable Alembic diffs) and column types."""
from datetime import datetime

from sqlalchemy import DateTime
from sqlmodel import Field, SQLModel

from storelink.clock import utcnow

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def created_at_field() -> datetime:
    return Field(default_factory=utcnow, sa_type=DateTime(timezone=True), nullable=False)


def timestamp_field(**kwargs) -> datetime | None:
    return Field(default=None, sa_type=DateTime(timezone=True), **kwargs)
