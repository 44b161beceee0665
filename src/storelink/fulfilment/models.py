"""Shipments of online orders (from a store that ships, or the central warehouse) and the brand's
routing rules."""
from datetime import datetime
from enum import Enum

from sqlalchemy import CheckConstraint, Column, Index, SmallInteger, String
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel

from storelink.modelbase import created_at_field, timestamp_field


class ShipmentStatus(str, Enum):
    ALLOCATED = "ALLOCATED"
    PACKED = "PACKED"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"


class RoutingRule(str, Enum):
    MINIMIZE_SPLIT = "MINIMIZE_SPLIT"
    CLOSEST = "CLOSEST"
    PREFER_WAREHOUSE = "PREFER_WAREHOUSE"
    PREFER_STORES = "PREFER_STORES"


DEFAULT_ROUTING = (RoutingRule.MINIMIZE_SPLIT, RoutingRule.PREFER_STORES, RoutingRule.CLOSEST)


class Shipment(SQLModel, table=True):
    """One parcel of an order from one location. Its stock is held there from checkout on; a
    CANCELLED shipment (rejected, or its order expired) gave it back."""

    __tablename__ = "shipment"
    __table_args__ = (
        CheckConstraint("status IN ('ALLOCATED', 'PACKED', 'SHIPPED', 'DELIVERED', 'CANCELLED')",
                        name="status_known"),
        # A store's (or, where null, the warehouse's) queue by status.
        Index("ix_shipment_queue", "from_store_id", "status", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="sales_order.id", index=True)
    # Null: the central warehouse.
    from_store_id: int | None = Field(default=None, foreign_key="store.id")
    status: str = Field(max_length=12)
    carrier: str | None = Field(default=None, max_length=50)
    tracking_no: str | None = Field(default=None, max_length=64)
    reject_reason: str | None = Field(default=None, max_length=200)
    created_at: datetime = created_at_field()
    packed_at: datetime | None = timestamp_field()
    shipped_at: datetime | None = timestamp_field()
    delivered_at: datetime | None = timestamp_field()
    cancelled_at: datetime | None = timestamp_field()


class ShipmentLine(SQLModel, table=True):
    __tablename__ = "shipment_line"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    shipment_id: int = Field(foreign_key="shipment.id", primary_key=True)
    order_line_id: int = Field(foreign_key="order_line.id", primary_key=True)
    sku_id: int = Field(foreign_key="sku.id")
    quantity: int


class OrderRouting(SQLModel, table=True):
    """The brand's routing rules, in the order they apply: one row (id 1)."""

    __tablename__ = "order_routing"

    id: int = Field(default=1, sa_column=Column(SmallInteger, primary_key=True))
    rules: list[str] = Field(sa_column=Column(ARRAY(String(20)), nullable=False))
    updated_at: datetime = created_at_field()
