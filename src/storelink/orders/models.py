"""The online cart, orders of both channels with their lines, and payment notifications."""
from datetime import datetime
from enum import Enum

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storelink.modelbase import created_at_field, timestamp_field


class OrderStatus(str, Enum):
    PENDING_PAYMENT = "PENDING_PAYMENT"
    PAID = "PAID"
    READY_FOR_PICKUP = "READY_FOR_PICKUP"
    SHIPPED = "SHIPPED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
    REFUNDED = "REFUNDED"


class Fulfilment(str, Enum):
    DELIVERY = "DELIVERY"
    STORE_PICKUP = "STORE_PICKUP"
    SAME_CITY = "SAME_CITY"


class SalesChannel(str, Enum):
    ONLINE = "ONLINE"
    STORE = "STORE"


# Paid and not wholly refunded: what earns points, counts for tiers and KPIs, and may be refunded
# (a partial refund is counted on its own day, KpiReport.refundedFen).
PAID_STATUSES = ("PAID", "READY_FOR_PICKUP", "SHIPPED", "COMPLETED", "PARTIALLY_REFUNDED")
# Shipped to the customer (DELIVERY and SAME_CITY): routed to shipments.
SHIPPED_FULFILMENTS = ("DELIVERY", "SAME_CITY")


class CartLine(SQLModel, table=True):
    __tablename__ = "cart_line"
    __table_args__ = (
        UniqueConstraint("customer_id", "sku_id", name="uq_cart_line_customer_sku"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    sku_id: int = Field(foreign_key="sku.id")
    quantity: int
    # The guide who pushed the line from a store tablet, and when (credits the online sale).
    added_by_guide_id: int | None = Field(default=None, foreign_key="staff.id")
    pushed_at: datetime | None = timestamp_field()
    # The shown recommendation the line came from (pushToCart(recommendationId:)).
    recommendation_id: int | None = Field(default=None, foreign_key="reco_shown.id")
    created_at: datetime = created_at_field()


_KPI_COLUMNS = ["status", "channel", "customer_id", "total_fen", "member_channel"]


class Order(SQLModel, table=True):
    __tablename__ = "sales_order"  # "order" is an SQL keyword
    __table_args__ = (
        CheckConstraint(
            "status IN ('PENDING_PAYMENT', 'PAID', 'READY_FOR_PICKUP', 'SHIPPED', 'COMPLETED', 'CANCELLED', "
            "'PARTIALLY_REFUNDED', 'REFUNDED')",
            name="status_known",
        ),
        CheckConstraint("channel IN ('ONLINE', 'STORE')", name="channel_known"),
        CheckConstraint("total_fen >= 0 AND discount_fen >= 0 AND delivery_fee_fen >= 0 "
                        "AND total_fen = subtotal_fen - discount_fen + delivery_fee_fen", name="totals_add_up"),
        CheckConstraint("refunded_fen BETWEEN 0 AND total_fen", name="refund_within_total"),
        UniqueConstraint("customer_id", "idempotency_key", name="uq_order_idempotency"),
        UniqueConstraint("store_id", "receipt_no", name="uq_order_receipt"),
        # A customer's orders newest first, and (covering) their counts for segments and summaries.
        Index("ix_order_customer_id", "customer_id", "id",
              postgresql_include=["status", "channel", "paid_at", "total_fen"]),
        # The KPIs read one period of a store's, a guide's or (leaderboard) everyone's orders:
        # covering indexes answer from the index alone.
        Index("ix_order_store_paid_kpi", "store_id", "paid_at", postgresql_include=_KPI_COLUMNS),
        Index("ix_order_guide_paid_kpi", "guide_id", "paid_at", postgresql_include=_KPI_COLUMNS),
        Index("ix_order_paid_kpi", "paid_at", postgresql_include=["guide_id", *_KPI_COLUMNS]),
        Index("ix_order_expiry", "expires_at", postgresql_where="status = 'PENDING_PAYMENT'"),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_no: str = Field(max_length=24, unique=True)
    # Null for a guest sale in a store.
    customer_id: int | None = Field(default=None, foreign_key="customer.id")
    # How the buyer joined the membership, when they were a member at order time (null: guest or
    # not a member). A join channel never changes; kept here so KPIs need no join.
    member_channel: str | None = Field(default=None, max_length=12)
    channel: str = Field(max_length=8)
    fulfilment: str | None = Field(default=None, max_length=16)
    status: str = Field(max_length=20)
    # Credited store and sales guide (销售导购), and the exclusive guide at order time (专属导购).
    store_id: int | None = Field(default=None, foreign_key="store.id")
    guide_id: int | None = Field(default=None, foreign_key="staff.id")
    service_guide_id: int | None = Field(default=None, foreign_key="staff.id")
    # Where the goods come from: a store's stock, or the online warehouse when null.
    stock_store_id: int | None = Field(default=None, foreign_key="store.id")
    pickup_store_id: int | None = Field(default=None, foreign_key="store.id")
    address: str | None = Field(default=None, max_length=300)
    # Where the address is (GCJ-02), when the customer gave it: routing's CLOSEST and SAME_CITY.
    address_lat: float | None = None
    address_lng: float | None = None
    subtotal_fen: int
    # The coupon's and the redeemed points' value together.
    discount_fen: int = 0
    # Server defaults: bulk imports and the synthetic shops insert orders with plain SQL.
    delivery_fee_fen: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # subtotal - discount + delivery fee.
    total_fen: int
    # Money given back so far (returns, lines no place could ship, refundOrder).
    refunded_fen: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    coupon_id: int | None = Field(default=None, foreign_key="coupon.id")
    points_redeemed: int = 0
    points_earned: int = 0
    idempotency_key: str | None = Field(default=None, max_length=64)
    receipt_no: str | None = Field(default=None, max_length=64)
    pickup_token: str | None = Field(default=None, max_length=32, unique=True)
    payment_provider: str | None = Field(default=None, max_length=16)
    transaction_id: str | None = Field(default=None, max_length=64)
    recorded_by_id: int | None = Field(default=None, foreign_key="staff.id")
    refunded_by_id: int | None = Field(default=None, foreign_key="staff.id")
    refund_reason: str | None = Field(default=None, max_length=200)
    created_at: datetime = created_at_field()
    expires_at: datetime | None = timestamp_field()
    paid_at: datetime | None = timestamp_field()
    completed_at: datetime | None = timestamp_field()
    cancelled_at: datetime | None = timestamp_field()
    refunded_at: datetime | None = timestamp_field()


class OrderLine(SQLModel, table=True):
    __tablename__ = "order_line"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("returned_quantity BETWEEN 0 AND quantity", name="returned_within_quantity"),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="sales_order.id", index=True)
    sku_id: int = Field(foreign_key="sku.id", index=True)
    quantity: int
    unit_price_fen: int
    line_total_fen: int
    # Units refunded so far (returned, or never shipped); at most quantity.
    returned_quantity: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # The guide who had pushed this line into the cart (kept for attribution reports).
    pushed_by_guide_id: int | None = Field(default=None, foreign_key="staff.id")
    # The recommendation the guide pushed it from, if any.
    recommendation_id: int | None = Field(default=None, foreign_key="reco_shown.id")


class PaymentNotice(SQLModel, table=True):
    """Each accepted payment notification, once: a redelivery finds its transaction here."""

    __tablename__ = "payment_notice"
    __table_args__ = (UniqueConstraint("provider", "transaction_id", name="uq_payment_notice_transaction"),)

    id: int | None = Field(default=None, primary_key=True)
    provider: str = Field(max_length=16)
    transaction_id: str = Field(max_length=64)
    order_id: int = Field(foreign_key="sales_order.id", index=True)
    amount_fen: int
    outcome: str = Field(max_length=20)
    received_at: datetime = created_at_field()


class PurchaseFacts(SQLModel, table=True):
    """A customer's paid, not refunded orders in both channels, summed up: what the segment rule
    and the member's profile read (kpi/segments.py). Kept by the database's triggers whenever an
    order is written (migration 0025); never written here. No row: no paid order yet."""

    __tablename__ = "purchase_facts"

    customer_id: int = Field(primary_key=True, foreign_key="customer.id")
    paid_orders: int
    paid_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    last_paid_at: datetime | None = timestamp_field()
    last_online_paid_at: datetime | None = timestamp_field()
    last_store_paid_at: datetime | None = timestamp_field()
