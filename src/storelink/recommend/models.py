"""The trained recommender (neighbours and popularity, rebuilt whole by each training) and each
recommendation shown, with what came of it."""
from datetime import datetime
from enum import Enum

from sqlalchemy import Column, Index
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from storelink.modelbase import created_at_field, timestamp_field


class RecommendationContext(str, Enum):
    HOME = "HOME"
    CART = "CART"
    PRODUCT = "PRODUCT"
    STORE_VISIT = "STORE_VISIT"


class RecommendationFeedback(str, Enum):
    CLICKED = "CLICKED"
    ADDED_TO_CART = "ADDED_TO_CART"
    DISMISSED = "DISMISSED"


class RecoNeighbour(SQLModel, table=True):
    """kind C: bought together (complement); E: collaborative (EASE weight of neighbour_id given
    product_id); S: similar (substitute)."""

    __tablename__ = "reco_neighbour"

    product_id: int = Field(primary_key=True)
    kind: str = Field(primary_key=True, max_length=1)
    neighbour_id: int = Field(primary_key=True)
    score: float


class RecoPopular(SQLModel, table=True):
    """Popular products per store (store_key = store id) and brand-wide (store_key 0)."""

    __tablename__ = "reco_popular"

    store_key: int = Field(primary_key=True)
    product_id: int = Field(primary_key=True)
    score: float


class RecoRepeat(SQLModel, table=True):
    """How each product is bought again (recommend.ranking.Repeat)."""

    __tablename__ = "reco_repeat"

    product_id: int = Field(primary_key=True)
    rate: float
    interval_days: float


class RecoModel(SQLModel, table=True):
    """One row per training: when, and from how much."""

    __tablename__ = "reco_model"

    id: int | None = Field(default=None, primary_key=True)
    trained_at: datetime = created_at_field()
    orders: int
    products: int
    pairs: int
    seconds: float
    window_days: int = Field(default=365, sa_column_kwargs={"server_default": "365"})
    # recommend.ranking.Weights, as chosen on the validation period
    weights: dict = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False, server_default="{}"))


class RecoShown(SQLModel, table=True):
    """A recommendation as shown: its id is the Recommendation's; feedback, pushes and the paid
    order it led to (within 7 days) are recorded on it."""

    __tablename__ = "reco_shown"
    __table_args__ = (Index("ix_reco_shown_customer_sku", "customer_id", "sku_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int | None = Field(default=None, foreign_key="customer.id")
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    context: str = Field(max_length=12)
    store_id: int | None = Field(default=None, foreign_key="store.id")
    product_id: int = Field(foreign_key="product.id")
    sku_id: int = Field(foreign_key="sku.id")
    score: float
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    created_at: datetime = created_at_field()
    clicked_at: datetime | None = timestamp_field()
    added_at: datetime | None = timestamp_field()
    dismissed_at: datetime | None = timestamp_field()
    pushed_at: datetime | None = timestamp_field()
    order_id: int | None = Field(default=None, foreign_key="sales_order.id")
    attributed_at: datetime | None = timestamp_field()
