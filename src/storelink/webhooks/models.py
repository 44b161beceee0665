from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, Index
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from storelink.modelbase import created_at_field, timestamp_field


class WebhookEndpoint(SQLModel, table=True):
    """A brand system (POS, ERP, CRM) that hears about events, HQ's to add and remove."""

    __tablename__ = "webhook_endpoint"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=1024)
    events: list[str] = Field(sa_column=Column(JSONB, nullable=False))
    # The Standard Webhooks signing secret ("whsec_" + base64), shown once when created.
    secret: str = Field(max_length=64)
    active: bool = True
    created_by_id: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime = created_at_field()
    deleted_at: datetime | None = timestamp_field()


class WebhookDelivery(SQLModel, table=True):
    """One event for one endpoint: written in the transaction of the change (a transactional
    outbox), sent by the worker, retried until it is delivered or a day has passed."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        CheckConstraint("status IN ('PENDING', 'DELIVERED', 'FAILED')", name="status_known"),
        Index("ix_webhook_delivery_due", "next_attempt_at", postgresql_where="status = 'PENDING'"),
        Index("ix_webhook_delivery_endpoint", "endpoint_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    endpoint_id: int = Field(foreign_key="webhook_endpoint.id")
    event: str = Field(max_length=40)
    # webhook-id: the same on every attempt, so the receiver can drop a repeat.
    message_id: str = Field(max_length=40)
    payload: dict = Field(sa_column=Column(JSONB, nullable=False))
    status: str = Field(default="PENDING", max_length=10)
    attempts: int = 0
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=300)
    next_attempt_at: datetime | None = timestamp_field()
    created_at: datetime = created_at_field()
    delivered_at: datetime | None = timestamp_field()
