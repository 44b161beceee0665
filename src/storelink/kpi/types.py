"""GraphQL types of KPI reports and rankings."""
from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import TYPE_CHECKING

import strawberry

from storelink.accounts.types import Staff
from storelink.graphql.scalars import Long
from storelink.members.types import JoinChannel

if TYPE_CHECKING:
    from storelink.kpi.service import Figures


@strawberry.type
class ChannelCount:
    channel: JoinChannel
    count: int


@strawberry.enum
class KpiMetric(Enum):
    NEW_MEMBERS = "NEW_MEMBERS"
    REPURCHASE_RATE = "REPURCHASE_RATE"
    GMV = "GMV"


@strawberry.type
class KpiReport:
    from_: dt.date = strawberry.field(name="from")
    to: dt.date
    new_members: int = strawberry.field(description="Members whose join is credited here, in every channel.")
    new_members_by_channel: list[ChannelCount]
    purchasing_members: int = strawberry.field(
        description="Distinct members with at least one paid order credited here in the period.")
    repurchasing_members: int = strawberry.field(
        description="Distinct members with at least two paid orders credited here in the period, any channel.")
    repurchase_rate: float = strawberry.field(description="repurchasingMembers / purchasingMembers (0 when none).")
    store_to_online_members: int = strawberry.field(
        description="Members who joined in store (store or guide QR) and paid an online order credited here in the period.")
    online_to_store_members: int = strawberry.field(
        description="Members who joined online and paid a store order credited here in the period.")
    online_gmv_fen: Long
    store_gmv_fen: Long
    refunded_fen: Long = strawberry.field(
        description="Refunds decided in the period for orders credited here (returns, unshippable lines, refunds).")
    appointments_booked: int
    appointments_attended: int
    join_scans: int = strawberry.field(
        description="Scans of the join codes credited here in the period (beyond the contract: the scan funnel).")
    scan_joins: int = strawberry.field(description="Of those scans, the ones that made a new member (beyond the contract).")
    scan_to_join_rate: float = strawberry.field(description="scanJoins / joinScans (0 when none; beyond the contract).")
    attendance_rate: float = strawberry.field(
        description="appointmentsAttended / appointmentsBooked (0 when none; beyond the contract).")

    @classmethod
    def from_figures(cls, f: Figures, first: dt.date, last: dt.date) -> "KpiReport":
        return cls(
            from_=first, to=last, new_members=f.new_members,
            new_members_by_channel=[ChannelCount(channel=c, count=f.new_members_by_channel.get(c.value, 0))
                                    for c in JoinChannel],
            purchasing_members=f.purchasing_members, repurchasing_members=f.repurchasing_members,
            repurchase_rate=f.repurchase_rate, store_to_online_members=f.store_to_online_members,
            online_to_store_members=f.online_to_store_members, online_gmv_fen=Long(f.online_gmv_fen),
            store_gmv_fen=Long(f.store_gmv_fen), refunded_fen=Long(f.refunded_fen), appointments_booked=f.appointments_booked,
            appointments_attended=f.appointments_attended, join_scans=f.join_scans, scan_joins=f.scan_joins,
            scan_to_join_rate=f.scan_joins / f.join_scans if f.join_scans else 0.0,
            attendance_rate=f.appointments_attended / f.appointments_booked if f.appointments_booked else 0.0,
        )


@strawberry.type
class GuideRanking:
    rank: int
    guide: Staff
    report: KpiReport
