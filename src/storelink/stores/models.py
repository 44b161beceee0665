"""Stores, their weekly hours and special days. Coordinates are GCJ-02."""
import datetime as dt

from sqlalchemy import Index, text, true
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from storelink.modelbase import created_at_field


class Store(SQLModel, table=True):
    __tablename__ = "store"
    # Bounding boxes (open stores near a member, same-city delivery) read (lat, lng) from the
    # B-tree; the nearby search walks the GiST index of point(lng, lat) nearest first (KNN,
    # PostgreSQL's built-in point type: no extension); see stores.service.
    __table_args__ = (
        Index("ix_store_location", "lat", "lng", postgresql_include=["id"]),
        Index("ix_store_spot", text("point(lng, lat)"), postgresql_using="gist",
              postgresql_include=["id", "lat", "lng"]),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=100)
    city: str = Field(max_length=50)
    address: str = Field(max_length=200)
    phone: str | None = Field(default=None, max_length=32)
    lat: float
    lng: float
    timezone: str = Field(max_length=64)
    # [{"weekday": 1..7, "opens": "HH:MM", "closes": "HH:MM"}]; small and always read whole.
    opening_hours: list[dict] = Field(default_factory=list, sa_type=JSONB)
    # Whether the store packs online orders from its own stock (ship-from-store), and how far its
    # same-city delivery reaches (0: none). The import's default is true, the API's false.
    ships_online_orders: bool = Field(default=True, sa_column_kwargs={"server_default": true()})
    same_city_radius_m: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    created_at: dt.datetime = created_at_field()
    updated_at: dt.datetime = created_at_field()


class SpecialDay(SQLModel, table=True):
    """A date whose hours replace the weekly ones (closed, or other hours)."""

    __tablename__ = "store_special_day"

    store_id: int = Field(foreign_key="store.id", primary_key=True)
    day: dt.date = Field(primary_key=True)
    closed: bool
    opens: str | None = Field(default=None, max_length=5)
    closes: str | None = Field(default=None, max_length=5)
