"""In-store services (fitting, skin test, repair) and how each store offers them."""
from datetime import datetime

from sqlmodel import Field, SQLModel

from storelink.modelbase import created_at_field


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
