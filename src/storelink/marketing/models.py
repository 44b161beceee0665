"""Marketing's tables: WeChat subscribe-message credits (one accepted wx.requestSubscribeMessage for
a template gives one credit; a send spends one) and what customers look at (API-NOTES
"Marketing")."""
from datetime import datetime
from enum import Enum

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, LargeBinary
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from storelink.modelbase import created_at_field, timestamp_field


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


class CampaignTrigger(str, Enum):
    BROADCAST = "BROADCAST"
    STORE_NEARBY = "STORE_NEARBY"
    BROWSE_ABANDONED = "BROWSE_ABANDONED"
    CART_ABANDONED = "CART_ABANDONED"
    AFTER_STORE_PURCHASE = "AFTER_STORE_PURCHASE"
    AFTER_APPOINTMENT = "AFTER_APPOINTMENT"


class CampaignStatus(str, Enum):
    SCHEDULED = "SCHEDULED"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    ENDED = "ENDED"


class MarketingCampaign(SQLModel, table=True):
    """A message (and optionally a coupon) sent to the members of an audience when a trigger fires.

    `state` is what people set: LIVE, PAUSED or ENDED; the status shown adds the calendar
    (a LIVE campaign is SCHEDULED before startsAt, RUNNING until endsAt, ENDED after)."""

    __tablename__ = "marketing_campaign"
    __table_args__ = (
        CheckConstraint("state IN ('LIVE', 'PAUSED', 'ENDED')", name="state_known"),
        CheckConstraint("control_share >= 0 AND control_share <= 0.5", name="control_share_range"),
        Index("ix_marketing_campaign_live", "trigger", "starts_at", postgresql_where="state = 'LIVE'"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    trigger: str = Field(max_length=24)
    audience: dict = Field(default_factory=dict, sa_type=JSONB)
    offer_campaign_id: int | None = Field(default=None, foreign_key="coupon_campaign.id")
    template_id: str = Field(max_length=64)
    state: str = Field(default="LIVE", max_length=8)
    starts_at: datetime = created_at_field()
    ends_at: datetime = created_at_field()
    control_share: float = 0.1
    radius_m: int | None = None
    delay_minutes: int | None = None
    # The store whose manager made it (null: HQ's, brand-wide).
    store_id: int | None = Field(default=None, foreign_key="store.id")
    created_by_id: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime = created_at_field()
    # When a BROADCAST's audience was queued (once).
    broadcast_at: datetime | None = timestamp_field()


class MessageStatus(str, Enum):
    PENDING = "PENDING"          # queued, waiting for its time (or for quiet hours to end)
    SENT = "SENT"                # WeChat accepted it
    CONTROL = "CONTROL"          # held out: the campaign's baseline, never sent anything
    UNREACHABLE = "UNREACHABLE"  # no marketing consent or no subscription credit
    SUPPRESSED = "SUPPRESSED"    # the frequency cap was reached
    FAILED = "FAILED"            # WeChat refused it (43101) or kept failing
    CANCELLED = "CANCELLED"      # the campaign ended (or the member left) before it could go


class MarketingMessage(SQLModel, table=True):
    """One member's place in one campaign (treated or control, and what became of the message),
    or one guide's one-to-one message. The unique (campaign, member) row is what makes a campaign
    reach a member at most once, whatever the number of workers or reports."""

    __tablename__ = "marketing_message"
    __table_args__ = (
        CheckConstraint("status IN ('PENDING', 'SENT', 'CONTROL', 'UNREACHABLE', 'SUPPRESSED', 'FAILED', "
                        "'CANCELLED')", name="status_known"),
        Index("uq_marketing_message_campaign_customer", "campaign_id", "customer_id", unique=True,
              postgresql_where="campaign_id IS NOT NULL"),
        Index("ix_marketing_message_due", "due_at", postgresql_where="status = 'PENDING'"),
        # The frequency cap: a member's marketing messages of the last 7 days.
        Index("ix_marketing_message_sent", "customer_id", "sent_at", postgresql_where="status = 'SENT'"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    campaign_id: int | None = Field(default=None, foreign_key="marketing_campaign.id")
    # A guide's one-to-one message (sendToMember): campaign_id is null.
    guide_id: int | None = Field(default=None, foreign_key="staff.id")
    customer_id: int = Field(foreign_key="customer.id", index=True)
    treated: bool = True
    status: str = Field(default="PENDING", max_length=12)
    template_id: str = Field(max_length=64)
    # When the member met the trigger (treated or held out): the start of the attribution window.
    eligible_at: datetime = created_at_field()
    due_at: datetime = created_at_field()
    sent_at: datetime | None = timestamp_field()
    coupon_id: int | None = Field(default=None, foreign_key="coupon.id")
    # STORE_NEARBY: the store in reach and a distance band (never the location itself).
    store_id: int | None = Field(default=None, foreign_key="store.id")
    distance_band: str | None = Field(default=None, max_length=12)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=300)


class ReferralProgram(SQLModel, table=True):
    """The brand's one referral program (裂变): the points each side earns when an invitee's first
    order is paid, and how many rewards one inviter may earn per calendar month."""

    __tablename__ = "referral_program"
    __table_args__ = (CheckConstraint("id = 1", name="one_program"),)

    id: int = Field(default=1, primary_key=True)
    inviter_points: int = 0
    invitee_points: int = 0
    monthly_limit: int = 10
    active: bool = True
    updated_by_id: int | None = Field(default=None, foreign_key="staff.id")
    updated_at: datetime = created_at_field()


class ReferralReward(SQLModel, table=True):
    """An invitee's first paid order and what it earned: at most one per invitee and per phone.
    `inviter_points` is 0 when the inviter had reached the month's limit."""

    __tablename__ = "referral_reward"
    __table_args__ = (
        Index("ix_referral_reward_inviter_month", "inviter_membership_id", "month"),
    )

    id: int | None = Field(default=None, primary_key=True)
    inviter_membership_id: int = Field(foreign_key="membership.id")
    invitee_membership_id: int = Field(foreign_key="membership.id", unique=True)
    # The invitee's phone (its blind index): a phone is rewarded as an invitee once, whatever account.
    invitee_phone_index: bytes | None = Field(default=None, sa_type=LargeBinary, unique=True)
    order_id: int = Field(foreign_key="sales_order.id")
    month: str = Field(max_length=7)  # YYYY-MM in the brand's timezone
    inviter_points: int = 0
    invitee_points: int = 0
    rewarded_at: datetime = created_at_field()
