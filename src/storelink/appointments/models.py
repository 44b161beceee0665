"""In-store services (fitting, skin test, repair), how each store offers them, and bookings."""
import datetime as dt
from datetime import datetime
from enum import Enum

from sqlalchemy import CheckConstraint, DateTime, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storelink.modelbase import created_at_field, timestamp_field


class AppointmentStatus(str, Enum):
    BOOKED = "BOOKED"
    CANCELLED = "CANCELLED"
    CHECKED_IN = "CHECKED_IN"
    COMPLETED = "COMPLETED"
    NO_SHOW = "NO_SHOW"


# Statuses that hold a place and count as "the customer's booking for that day".
ACTIVE_STATUSES = ("BOOKED", "CHECKED_IN")


class ServiceType(SQLModel, table=True):
    __tablename__ = "service_type"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=100)
    description: str | None = Field(default=None, max_length=1000)
    duration_minutes: int
    created_at: datetime = created_at_field()


class StoreService(SQLModel, table=True):
    __tablename__ = "store_service"

    store_id: int = Field(foreign_key="store.id", primary_key=True)
    service_id: int = Field(foreign_key="service_type.id", primary_key=True, index=True)
    capacity: int
    slot_interval_minutes: int = 30
    min_notice_minutes: int = 120
    booking_window_days: int = 30
    cancel_cutoff_minutes: int = 120
    active: bool = True
    updated_at: datetime = created_at_field()


class Appointment(SQLModel, table=True):
    __tablename__ = "appointment"
    __table_args__ = (
        CheckConstraint(
            "status IN ('BOOKED', 'CANCELLED', 'CHECKED_IN', 'COMPLETED', 'NO_SHOW')", name="status_known"
        ),
        CheckConstraint("end_at > start_at", name="ends_after_start"),
        # One active booking per customer, service and (store-local) day, kept by the database.
        Index("uq_appointment_one_per_day", "customer_id", "service_id", "local_day", unique=True,
              postgresql_where="status IN ('BOOKED', 'CHECKED_IN')"),
        UniqueConstraint("customer_id", "idempotency_key", name="uq_appointment_idempotency"),
        Index("ix_appointment_store_day", "store_id", "local_day"),
        Index("ix_appointment_guide_start", "guide_id", "start_at"),
        # The AFTER_APPOINTMENT trigger looks for recent check-ins.
        Index("ix_appointment_checked_in", "checked_in_at", postgresql_where="checked_in_at IS NOT NULL"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    store_id: int = Field(foreign_key="store.id")
    service_id: int = Field(foreign_key="service_type.id")
    guide_id: int | None = Field(default=None, foreign_key="staff.id")
    start_at: datetime = created_at_field()
    end_at: datetime = created_at_field()
    local_day: dt.date
    status: str = Field(default="BOOKED", max_length=12)
    note: str | None = Field(default=None, max_length=500)
    check_in_token: str = Field(max_length=32, unique=True)
    idempotency_key: str | None = Field(default=None, max_length=64)
    booked_by_id: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime = created_at_field()
    cancelled_at: datetime | None = timestamp_field()
    checked_in_at: datetime | None = timestamp_field()


class SlotUsage(SQLModel, table=True):
    """Places taken in one cell of a store service's slot grid. A booking takes a place in every
    cell it overlaps; the conditional upsert in appointments.service never lets `used` pass the
    capacity, so concurrent bookings cannot overbook."""

    __tablename__ = "slot_usage"
    __table_args__ = (CheckConstraint("used >= 0", name="used_not_negative"),)

    store_id: int = Field(foreign_key="store.id", primary_key=True)
    service_id: int = Field(foreign_key="service_type.id", primary_key=True)
    cell_start: datetime = Field(primary_key=True, sa_type=DateTime(timezone=True))
    used: int = 0
