"""A customer's own data: export everything held about them; delete (anonymise) the account."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.accounts import service as accounts
from storelink.accounts.models import AuthSession, Customer
from storelink.clock import utcnow
from storelink.loyalty import service as loyalty
from storelink.loyalty.models import Coupon, PointsEntry
from storelink.marketing.models import Activity, MarketingMessage, MessageCredit
from storelink.members.models import BindingChange, ConsentRecord, JoinScan, MemberCode, Membership
from storelink.orders.models import CartLine, Order
from storelink.settings import Settings


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


async def export_customer(session: AsyncSession, customer_id: int, settings: Settings) -> dict[str, Any]:
    customer = await accounts.live_customer(session, customer_id)
    membership = (
        await session.execute(select(Membership).where(Membership.customer_id == customer_id))
    ).scalar_one_or_none()
    consents = (await session.execute(
        select(ConsentRecord).where(ConsentRecord.customer_id == customer_id).order_by(ConsentRecord.id)
    )).scalars().all()
    scans = (await session.execute(
        select(JoinScan).where(JoinScan.customer_id == customer_id).order_by(JoinScan.id)
    )).scalars().all()
    codes = (await session.execute(
        select(MemberCode).where(MemberCode.customer_id == customer_id).order_by(MemberCode.issued_at)
    )).scalars().all()
    sessions = (await session.execute(
        select(AuthSession).where(AuthSession.customer_id == customer_id).order_by(AuthSession.created_at)
    )).scalars().all()
    bindings: Sequence[BindingChange] = []
    if membership is not None:
        bindings = (await session.execute(
            select(BindingChange).where(BindingChange.membership_id == membership.id)
            .order_by(BindingChange.id)
        )).scalars().all()
    orders = (await session.execute(
        select(Order).where(Order.customer_id == customer_id).order_by(Order.id)
    )).scalars().all()
    coupons = (await session.execute(
        select(Coupon).where(Coupon.customer_id == customer_id).order_by(Coupon.id)
    )).scalars().all()
    browsing = (await session.execute(
        select(Activity).where(Activity.customer_id == customer_id).order_by(Activity.id)
    )).scalars().all()
    credits = (await session.execute(
        select(MessageCredit).where(MessageCredit.customer_id == customer_id).order_by(MessageCredit.template_id)
    )).scalars().all()
    reached = (await session.execute(
        select(MarketingMessage).where(MarketingMessage.customer_id == customer_id).order_by(MarketingMessage.id)
    )).scalars().all()
    points: Sequence[PointsEntry] = []
    member: dict | None = None
    if membership is not None:
        points = (await session.execute(
            select(PointsEntry).where(PointsEntry.membership_id == membership.id).order_by(PointsEntry.id)
        )).scalars().all()
        standing = (await loyalty.standings(session, [membership], settings))[membership.id]
        member = {
            "memberNo": membership.member_no, "tier": standing.tier, "points": standing.points,
            "joinChannel": membership.join_channel, "joinedAt": _iso(membership.joined_at),
            "joinStoreId": membership.join_store_id, "recruitedByStaffId": membership.recruited_by_id,
            "guideStaffId": membership.guide_id, "boundAt": _iso(membership.bound_at),
        }
    return {
        "exportedAt": _iso(utcnow()),
        "customer": {
            "wechatOpenid": customer.openid, "wechatUnionid": customer.unionid,
            "nickname": customer.nickname, "avatarUrl": customer.avatar_url, "phone": accounts.phone_of(customer),
            "phoneCountryCode": customer.phone_country_code,
            "phoneBoundAt": _iso(customer.phone_bound_at), "createdAt": _iso(customer.created_at),
        },
        "membership": member,
        "consents": [
            {"kind": c.kind, "policyVersion": c.policy_version, "granted": c.granted,
             "recordedAt": _iso(c.recorded_at)} for c in consents
        ],
        "guideBindings": [
            {"fromStaffId": b.from_guide_id, "toStaffId": b.to_guide_id, "reason": b.reason,
             "changedAt": _iso(b.changed_at)} for b in bindings
        ],
        "joinCodeScans": [
            {"code": s.code, "storeId": s.store_id, "outcome": s.outcome,
             "scannedAt": _iso(s.scanned_at)} for s in scans
        ],
        # Codes themselves are secrets while valid; the record of where the card was shown is data.
        "memberCodeUses": [
            {"issuedAt": _iso(c.issued_at), "usedAt": _iso(c.used_at), "storeId": c.used_at_store_id}
            for c in codes
        ],
        "sessions": [
            {"createdAt": _iso(s.created_at), "endedAt": _iso(s.revoked_at)} for s in sessions
        ],
        "orders": [
            {"orderNo": o.order_no, "channel": o.channel, "status": o.status, "totalFen": o.total_fen,
             "storeId": o.store_id, "address": o.address, "createdAt": _iso(o.created_at),
             "paidAt": _iso(o.paid_at)} for o in orders
        ],
        "pointsLedger": [
            {"delta": p.delta, "reason": p.reason, "at": _iso(p.created_at)} for p in points
        ],
        "coupons": [
            {"campaignId": c.campaign_id, "status": c.status, "claimedAt": _iso(c.claimed_at),
             "redeemedAt": _iso(c.redeemed_at)} for c in coupons
        ],
        "activity": [
            {"kind": a.kind, "productId": a.product_id, "storeId": a.store_id, "query": a.query, "at": _iso(a.at)}
            for a in browsing
        ],
        "messageSubscriptions": [{"templateId": c.template_id, "credits": c.credits} for c in credits],
        # Campaigns that reached or held them out, and guides' one-to-one messages (no location:
        # only the store in reach and a distance band were ever kept).
        "marketingMessages": [
            {"campaignId": m.campaign_id, "guideStaffId": m.guide_id, "controlGroup": not m.treated,
             "status": m.status, "eligibleAt": _iso(m.eligible_at), "sentAt": _iso(m.sent_at),
             "storeId": m.store_id, "distanceBand": m.distance_band} for m in reached
        ],
    }


async def delete_customer(session: AsyncSession, customer_id: int) -> None:
    """Anonymise: identity and contact data go; membership, orders and KPI facts stay, tied to a
    customer row that no longer says who it was. Every session ends at once."""
    await accounts.live_customer(session, customer_id, lock=True)
    await session.execute(
        update(Customer).where(Customer.id == customer_id).values(
            openid=None, unionid=None, nickname=None, avatar_url=None, **accounts.NO_PHONE, deleted_at=utcnow(),
        )
    )
    await session.execute(
        delete(MemberCode).where(MemberCode.customer_id == customer_id, MemberCode.used_at.is_(None))
    )
    # Orders stay for the books and the KPIs; where they were delivered to is personal data.
    await session.execute(update(Order).where(Order.customer_id == customer_id).values(
        address=None, address_lat=None, address_lng=None))
    await session.execute(delete(CartLine).where(CartLine.customer_id == customer_id))
    # What they browsed and which messages they accepted go entirely.
    await session.execute(delete(Activity).where(Activity.customer_id == customer_id))
    await session.execute(delete(MessageCredit).where(MessageCredit.customer_id == customer_id))
    await accounts.revoke_all_sessions(session, customer_id=customer_id, reason="account_deleted")
