"""The transactional outbox: messages written in the same transaction as the change they announce,
sent later by the worker."""
from datetime import datetime

from sqlalchemy import CheckConstraint, Index
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from storelink.modelbase import created_at_field, timestamp_field


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox_message"
    __table_args__ = (
        CheckConstraint("status IN ('PENDING', 'SENT', 'FAILED', 'CANCELLED')", name="status_known"),
        Index("ix_outbox_message_due", "next_attempt_at", postgresql_where="status = 'PENDING'"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    # What the message is about, so a later change (a cancellation) can withdraw it.
    subject: str = Field(max_length=64, index=True)
    payload: dict = Field(default_factory=dict, sa_type=JSONB)
    status: str = Field(default="PENDING", max_length=10)
    attempts: int = 0
    next_attempt_at: datetime = created_at_field()
    last_error: str | None = Field(default=None, max_length=300)
    created_at: datetime = created_at_field()
    sent_at: datetime | None = timestamp_field()
