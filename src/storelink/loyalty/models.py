"""Points (an append-only ledger; the balance is its sum) and coupons."""
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import CheckConstraint, Column, Index, Integer, Row
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel

from storelink.clock import utcnow
from storelink.modelbase import created_at_field, timestamp_field


# Tiers are earned by the paid spend of this window (loyalty.service, marketing.audience).
TIER_WINDOW = timedelta(days=365)


class CouponChannel(str, Enum):
    ANY = "ANY"
    ONLINE_ONLY = "ONLINE_ONLY"
    STORE_ONLY = "STORE_ONLY"


class PointsReason(str, Enum):
    EARN = "EARN"  # an order was paid
    REDEEM = "REDEEM"  # spent at checkout
    REVERSE_EARN = "REVERSE_EARN"  # the order that earned them was refunded
    RETURN_REDEEM = "RETURN_REDEEM"  # the order they were spent on was refunded or expired
    OPENING_BALANCE = "OPENING_BALANCE"  # the balance a member brought from the brand's old CRM (import)
    REFERRAL = "REFERRAL"  # an invitee's first paid order rewarded both sides (marketing/referrals.py)


class MemberTier(str, Enum):
    """Worked out from paid spend in the last 12 months (loyalty.service.tier_for)."""

    REGULAR = "REGULAR"
    SILVER = "SILVER"
    GOLD = "GOLD"
    PLATINUM = "PLATINUM"


class CouponStatus(str, Enum):
    AVAILABLE = "AVAILABLE"
    REDEEMED = "REDEEMED"
    EXPIRED = "EXPIRED"


class PointsEntry(SQLModel, table=True):
    __tablename__ = "points_entry"
    __table_args__ = (
        CheckConstraint("reason IN ('EARN', 'REDEEM', 'REVERSE_EARN', 'RETURN_REDEEM', 'OPENING_BALANCE', 'REFERRAL')",
                        name="reason_known"),
        CheckConstraint("delta <> 0", name="delta_not_zero"),
        Index("ix_points_entry_membership_id", "membership_id", "delta"),
    )

    id: int | None = Field(default=None, primary_key=True)
    membership_id: int = Field(foreign_key="membership.id")
    delta: int
    reason: str = Field(max_length=16)
    order_id: int | None = Field(default=None, foreign_key="sales_order.id", index=True)
    created_at: datetime = created_at_field()


class CouponCampaign(SQLModel, table=True):
    __tablename__ = "coupon_campaign"
    __table_args__ = (
        CheckConstraint("total_quantity IS NULL OR claimed <= total_quantity", name="claims_within_total"),
        CheckConstraint("valid_until > valid_from", name="valid_period"),
        CheckConstraint("channel IN ('ANY', 'ONLINE_ONLY', 'STORE_ONLY')", name="channel_known"),
    )

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=100)
    discount_fen: int
    min_spend_fen: int = 0
    valid_from: datetime = created_at_field()
    valid_until: datetime = created_at_field()
    total_quantity: int | None = None
    claimed: int = 0
    per_customer_limit: int = 1
    # Where it may be redeemed (API-NOTES "Marketing"): a channel, and stores (empty: any).
    channel: str = Field(default="ANY", max_length=12, sa_column_kwargs={"server_default": "ANY"})
    store_ids: list[int] = Field(default_factory=list, sa_column=Column(
        ARRAY(Integer), nullable=False, server_default="{}"))
    # Who may claim or receive it: a marketing.audience.Rule as JSON (null: any member).
    audience: dict | None = Field(default=None, sa_column=Column(JSONB(none_as_null=True), nullable=True))
    created_by_id: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime = created_at_field()


class Coupon(SQLModel, table=True):
    __tablename__ = "coupon"
    __table_args__ = (
        CheckConstraint("status IN ('AVAILABLE', 'REDEEMED')", name="status_known"),
        Index("ix_coupon_customer_campaign", "customer_id", "campaign_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="coupon_campaign.id")
    customer_id: int = Field(foreign_key="customer.id")
    # Behind the scanned code "C…" (see scanning.codes).
    token: str = Field(max_length=32, unique=True)
    # EXPIRED is not stored: an AVAILABLE coupon whose campaign has ended reads as EXPIRED.
    status: str = Field(default="AVAILABLE", max_length=10)
    claimed_at: datetime = created_at_field()
    redeemed_at: datetime | None = timestamp_field()
    # The order it was redeemed on (an online checkout or a store purchase).
    order_id: int | None = Field(default=None)


def coupon_status(coupon: Coupon | Row, campaign: CouponCampaign, now: datetime | None = None) -> CouponStatus:
    """A coupon is EXPIRED once its campaign has ended, unless it was redeemed before."""
    if coupon.status == CouponStatus.REDEEMED.value:
        return CouponStatus.REDEEMED
    return CouponStatus.EXPIRED if (now or utcnow()) >= campaign.valid_until else CouponStatus.AVAILABLE


def remaining(campaign: CouponCampaign) -> int | None:
    """Coupons left to claim; None for an unlimited campaign."""
    return None if campaign.total_quantity is None else max(campaign.total_quantity - campaign.claimed, 0)
