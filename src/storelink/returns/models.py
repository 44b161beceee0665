"""Returns of order lines (any channel, at any store) and the refunds that pay them back."""
from datetime import datetime
from enum import Enum

from sqlalchemy import CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storelink.modelbase import created_at_field, timestamp_field


class ReturnStatus(str, Enum):
    REQUESTED = "REQUESTED"
    RECEIVED = "RECEIVED"
    REFUNDED = "REFUNDED"
    REJECTED = "REJECTED"


class RefundStatus(str, Enum):
    PENDING = "PENDING"  # asked of the provider (or to be asked again); money not yet back
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"  # the provider refused; failure_reason says why; may be retried


class ReturnRequest(SQLModel, table=True):
    __tablename__ = "return_request"
    __table_args__ = (
        CheckConstraint("status IN ('REQUESTED', 'RECEIVED', 'REFUNDED', 'REJECTED')", name="status_known"),
        CheckConstraint("refund_fen >= 0", name="refund_not_negative"),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="sales_order.id", index=True)
    status: str = Field(max_length=12)
    reason: str = Field(max_length=200)
    # Set when received (the amount is fixed then).
    refund_fen: int = 0
    # Null until received, and when the central warehouse received it.
    received_store_id: int | None = Field(default=None, foreign_key="store.id")
    received_by_id: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime = created_at_field()
    received_at: datetime | None = timestamp_field()
    refunded_at: datetime | None = timestamp_field()


class ReturnLine(SQLModel, table=True):
    __tablename__ = "return_line"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    return_id: int = Field(foreign_key="return_request.id", primary_key=True)
    order_line_id: int = Field(foreign_key="order_line.id", primary_key=True, index=True)
    quantity: int


class Refund(SQLModel, table=True):
    """Money going back to the payer through the order's provider, once per refund_no."""

    __tablename__ = "refund"
    __table_args__ = (
        CheckConstraint("status IN ('PENDING', 'SUCCEEDED', 'FAILED')", name="status_known"),
        CheckConstraint("amount_fen >= 0", name="amount_not_negative"),
        UniqueConstraint("return_id", name="uq_refund_return"),
        # The worker's queue of refunds to ask (again).
        Index("ix_refund_pending", "id", postgresql_where="status = 'PENDING'"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # Our number for the provider (WeChat Pay's out_refund_no): asking twice refunds once.
    refund_no: str = Field(max_length=32, unique=True)
    order_id: int = Field(foreign_key="sales_order.id", index=True)
    return_id: int | None = Field(default=None, foreign_key="return_request.id")
    amount_fen: int
    reason: str = Field(max_length=200)
    status: str = Field(max_length=10)
    provider: str | None = Field(default=None, max_length=16)
    provider_refund_id: str | None = Field(default=None, max_length=64)
    failure_reason: str | None = Field(default=None, max_length=200)
    created_at: datetime = created_at_field()
    succeeded_at: datetime | None = timestamp_field()
