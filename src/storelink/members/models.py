"""Membership: join codes, members, consent, exclusive-guide bindings, scans and member codes."""
from datetime import datetime
from enum import Enum

from sqlalchemy import CheckConstraint, Index, LargeBinary
from sqlmodel import Field, SQLModel

from storelink.modelbase import created_at_field, timestamp_field


class JoinCodeKind(str, Enum):
    STORE = "STORE"
    GUIDE = "GUIDE"
    CAMPAIGN = "CAMPAIGN"


class JoinChannel(str, Enum):
    STORE_QR = "STORE_QR"
    GUIDE_QR = "GUIDE_QR"
    CAMPAIGN_QR = "CAMPAIGN_QR"
    ONLINE = "ONLINE"
    TILL = "TILL"  # enrolled by staff at a till with the phone the customer gave (OneID)
    IMPORTED = "IMPORTED"  # moved over from the brand's old CRM or POS (storelink import members)
    REFERRAL = "REFERRAL"  # a friend's invite code (marketing/referrals.py)


class MemberSegment(str, Enum):
    """What a member does in both channels (kpi/segments.py has the rule)."""

    NEW = "NEW"
    STORE_EXPERIENCE = "STORE_EXPERIENCE"
    ONLINE_REPURCHASE = "ONLINE_REPURCHASE"
    OMNICHANNEL_ACTIVE = "OMNICHANNEL_ACTIVE"
    DORMANT = "DORMANT"
    ONLINE_ACTIVE = "ONLINE_ACTIVE"  # beyond the contract: online only, joined online


CHANNEL_OF_KIND = {
    JoinCodeKind.STORE: JoinChannel.STORE_QR,
    JoinCodeKind.GUIDE: JoinChannel.GUIDE_QR,
    JoinCodeKind.CAMPAIGN: JoinChannel.CAMPAIGN_QR,
}


class BindingReason(str, Enum):
    JOIN = "JOIN"
    RESCAN = "RESCAN"
    TRANSFER = "TRANSFER"


class JoinCode(SQLModel, table=True):
    __tablename__ = "join_code"
    __table_args__ = (
        CheckConstraint("kind IN ('STORE', 'GUIDE', 'CAMPAIGN')", name="kind_known"),
        CheckConstraint("(kind = 'GUIDE') = (guide_id IS NOT NULL)", name="guide_matches_kind"),
        CheckConstraint("max_uses IS NULL OR uses <= max_uses", name="uses_within_max"),
        # At most one live personal code per guide.
        Index("uq_join_code_personal_guide", "guide_id", unique=True,
              postgresql_where="personal AND active"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    kind: str = Field(max_length=10)
    store_id: int = Field(foreign_key="store.id", index=True)
    guide_id: int | None = Field(default=None, foreign_key="staff.id")
    campaign: str | None = Field(default=None, max_length=64)
    # The guide's permanent personal code (created with the guide, reissued when revoked).
    personal: bool = False
    expires_at: datetime | None = timestamp_field()
    max_uses: int | None = None
    uses: int = 0
    active: bool = True
    created_by_id: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime = created_at_field()
    revoked_at: datetime | None = timestamp_field()


class MiniProgramCode(SQLModel, table=True):
    """A join code's WeChat mini-program code image, kept once WeChat drew it (WeChat limits how
    often it may be asked; the image never changes for the same code and page)."""

    __tablename__ = "mini_program_code"

    join_code_id: int = Field(foreign_key="join_code.id", primary_key=True, ondelete="CASCADE")
    page: str = Field(max_length=100)
    image: bytes = Field(sa_type=LargeBinary)
    created_at: datetime = created_at_field()


class Membership(SQLModel, table=True):
    __tablename__ = "membership"
    __table_args__ = (
        # A guide's members, newest first (the client book's page and count).
        Index("ix_membership_guide_id", "guide_id", "id"),
        # KPIs count joins credited to a store or a recruiting guide over a period.
        Index("ix_membership_join_store_joined", "join_store_id", "joined_at"),
        Index("ix_membership_recruited_joined", "recruited_by_id", "joined_at"),
        Index("uq_membership_former_no", "former_no", unique=True, postgresql_where="former_no IS NOT NULL"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", unique=True)
    member_no: str = Field(max_length=16, unique=True)
    # The brand's number from its old CRM (bulk import), kept so staff can still look members up by it.
    former_no: str | None = Field(default=None, max_length=32)
    join_channel: str = Field(max_length=12)
    join_store_id: int | None = Field(default=None, foreign_key="store.id")
    join_code_id: int | None = Field(default=None, foreign_key="join_code.id")
    # 开卡导购: never changes.
    recruited_by_id: int | None = Field(default=None, foreign_key="staff.id")
    # 专属导购: the current exclusive guide, and since when (the protection period runs from it).
    guide_id: int | None = Field(default=None, foreign_key="staff.id")
    bound_at: datetime | None = timestamp_field()
    joined_at: datetime = created_at_field()
    # REFERRAL joins: the inviting member.
    referred_by_id: int | None = Field(default=None, foreign_key="membership.id", index=True)


class ConsentRecord(SQLModel, table=True):
    """Append-only: each acceptance of the privacy policy and each marketing opt-in or -out."""

    __tablename__ = "consent_record"
    __table_args__ = (CheckConstraint("kind IN ('PRIVACY', 'MARKETING')", name="kind_known"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    kind: str = Field(max_length=10)
    policy_version: str | None = Field(default=None, max_length=32)
    granted: bool
    recorded_at: datetime = created_at_field()
    # Given at a store's till, to this staff member (enrollAtTill); null when given in the app.
    store_id: int | None = Field(default=None, foreign_key="store.id")
    recorded_by_id: int | None = Field(default=None, foreign_key="staff.id")


class BindingChange(SQLModel, table=True):
    __tablename__ = "binding_change"

    id: int | None = Field(default=None, primary_key=True)
    membership_id: int = Field(foreign_key="membership.id", index=True)
    from_guide_id: int | None = Field(default=None, foreign_key="staff.id")
    to_guide_id: int | None = Field(default=None, foreign_key="staff.id")
    reason: str = Field(max_length=10)
    changed_by_id: int | None = Field(default=None, foreign_key="staff.id")
    changed_at: datetime = created_at_field()


class JoinScan(SQLModel, table=True):
    """Every scan of a join code by a customer, whatever came of it (the scanned -> joined funnel)."""

    __tablename__ = "join_scan"
    __table_args__ = (Index("ix_join_scan_store_scanned", "store_id", "scanned_at"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64)
    join_code_id: int | None = Field(default=None, foreign_key="join_code.id", index=True)
    store_id: int | None = Field(default=None, foreign_key="store.id")
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    outcome: str = Field(max_length=20)
    scanned_at: datetime = created_at_field()


class MemberCode(SQLModel, table=True):
    """A single-use member-card code; kept after use as the record of where the member was seen."""

    __tablename__ = "member_code"

    token: str = Field(primary_key=True, max_length=32)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    issued_at: datetime = created_at_field()
    expires_at: datetime = created_at_field()
    used_at: datetime | None = timestamp_field()
    used_at_store_id: int | None = Field(default=None, foreign_key="store.id")
    used_by_staff_id: int | None = Field(default=None, foreign_key="staff.id")
