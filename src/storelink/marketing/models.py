"""Marketing's tables: WeChat subscribe-message credits (one accepted wx.requestSubscribeMessage for
a template gives one credit; a send spends one) and what customers look at (API-NOTES
"Marketing")."""
from datetime import datetime
from enum import Enum

from sqlalchemy import BigInteger, CheckConstraint, Column, Index
from sqlmodel import Field, SQLModel

from storelink.modelbase import created_at_field


class MessageCredit(SQLModel, table=True):
    __tablename__ = "message_credit"
    __table_args__ = (CheckConstraint("credits >= 0", name="credits_not_negative"),)

    customer_id: int = Field(foreign_key="customer.id", primary_key=True)
    template_id: str = Field(max_length=64, primary_key=True)
    credits: int = 0
    updated_at: datetime = created_at_field()


class ActivityKind(str, Enum):
    PRODUCT_VIEW = "PRODUCT_VIEW"
    STORE_VIEW = "STORE_VIEW"
    SEARCH = "SEARCH"


class Activity(SQLModel, table=True):
    """What a customer looked at or searched for (trackActivity), kept ACTIVITY_DAYS: the
    browse-abandoned trigger and the member's profile read it."""

    __tablename__ = "activity"
    __table_args__ = (
        CheckConstraint("kind IN ('PRODUCT_VIEW', 'STORE_VIEW', 'SEARCH')", name="kind_known"),
        Index("ix_activity_customer_at", "customer_id", "at"),
        Index("ix_activity_at", "at"),  # the worker's pruning
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    customer_id: int = Field(foreign_key="customer.id")
    kind: str = Field(max_length=12)
    product_id: int | None = Field(default=None, foreign_key="product.id")
    store_id: int | None = Field(default=None, foreign_key="store.id")
    query: str | None = Field(default=None, max_length=100)
    at: datetime = created_at_field()
