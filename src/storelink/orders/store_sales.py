"""Purchases at a store's till, recorded from the tablet or the POS.

Idempotent on (store, receipt number); the store's stock goes down; the sale is credited to the
store and the serving guide; a member earns points as online. A member is named by a scanned
member code or a member id, or the sale is a guest's; a coupon code redeems that member's coupon.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.accounts import permissions
from storelink.accounts.models import Staff, StaffRole
from storelink.catalog import service as catalog
from storelink.catalog.models import Sku
from storelink.accounts.service import live_customer
from storelink.clock import utcnow
from storelink.webhooks import bodies, service as webhooks
from storelink.limits import MAX_INT
from storelink.errors import Code, DomainError, Forbidden, InvalidInput, NotFound
from storelink.loyalty import service as loyalty
from storelink.marketing import referrals
from storelink.loyalty.models import PointsReason
from storelink.scanning import codes
from storelink.members import phones
from storelink.members.joining import membership_of
from storelink.members.scope import member_for_staff
from storelink.members.models import MemberCode, Membership
from storelink.orders import attribution
from storelink.orders.checkout import new_order_no
from storelink.orders.models import Order, OrderLine, OrderStatus
from storelink.recommend import feedback as reco_feedback
from storelink.settings import Settings
from storelink.stores import service as store_service

MAX_LINES = 100
MAX_QUANTITY = 999
MAX_UNIT_PRICE_FEN = 100_000_000
# A member code the tablet scanned (scanCode uses it up) still names the member for the receipt
# the till records right after, at the same store.
SCANNED_CODE_GRACE = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class SaleLine:
    sku_id: int
    quantity: int
    unit_price_fen: int


async def _member_by_code(session: AsyncSession, code: str, *, store_id: int, staff: Staff,
                          settings: Settings) -> Membership:
    f = ["input", "memberCode"]
    try:
        kind, token = codes.parse_scan_code(code[:64], settings.jwt_secret)
    except DomainError as err:
        err.field = f
        raise
    if kind != codes.MEMBER:
        raise DomainError("This is not a member code", code=Code.CODE_INVALID, field=f)
    now = utcnow()
    # Use the code now, or accept it when this store's tablet used it moments ago.
    customer_id = (await session.execute(
        update(MemberCode).where(MemberCode.token == token, MemberCode.used_at.is_(None),
                                 MemberCode.expires_at > now)
        .values(used_at=now, used_at_store_id=store_id, used_by_staff_id=staff.id)
        .returning(MemberCode.customer_id)
    )).scalar_one_or_none()
    if customer_id is None:
        row = await session.get(MemberCode, token)
        if row is None:
            raise DomainError("Unknown member code", code=Code.CODE_INVALID, field=f)
        if row.used_at is None:
            raise DomainError("This member code has expired", code=Code.CODE_EXPIRED, field=f)
        if row.used_at_store_id != store_id or row.used_at < now - SCANNED_CODE_GRACE:
            raise DomainError("This member code was already used", code=Code.CODE_USED_UP, field=f)
        customer_id = row.customer_id
    membership = await membership_of(session, customer_id)
    if membership is None:
        raise DomainError("Unknown member code", code=Code.CODE_INVALID, field=f)
    return membership


async def _serving_guide(session: AsyncSession, *, guide_id: int | None, staff: Staff, store_id: int) -> int | None:
    if guide_id is None:
        return staff.id if staff.role == StaffRole.GUIDE else None
    guide = await session.get(Staff, guide_id)
    if guide is None or guide.role != StaffRole.GUIDE or guide.store_id != store_id or not guide.active:
        raise NotFound("No such guide at this store", field=["input", "guideId"])
    return guide.id


def _check_lines(lines: Sequence[SaleLine]) -> None:
    if not lines:
        raise InvalidInput("A purchase has at least one line", field=["input", "lines"])
    if len(lines) > MAX_LINES:
        raise InvalidInput("At most {n} lines", n=MAX_LINES, field=["input", "lines"])
    for i, line in enumerate(lines):
        f = ["input", "lines", str(i)]
        if not 0 < line.quantity <= MAX_QUANTITY:
            raise InvalidInput("Quantity must be 1 to {n}", n=MAX_QUANTITY, field=f + ["quantity"])
        if not 0 <= line.unit_price_fen <= MAX_UNIT_PRICE_FEN:
            raise InvalidInput("Unit price out of range", field=f + ["unitPriceFen"])
    if sum(ln.quantity * ln.unit_price_fen for ln in lines) > MAX_INT:
        raise InvalidInput("One purchase may come to at most {yuan} yuan; split it", yuan=f"{MAX_INT / 100:,.2f}", field=["input", "lines"])


async def record(
    session: AsyncSession, *, staff: Staff, store_id: int, receipt_no: str, member_code: str | None,
    member_phone: str | None = None,
    membership_id: int | None, guide_id: int | None, coupon_code: str | None, lines: Sequence[SaleLine],
    settings: Settings,
) -> tuple[Order, bool]:
    """(order, created): recording a receipt again returns the first record."""
    await store_service.require_store(session, store_id, ["input", "storeId"])
    if not permissions.can_see_store(staff, store_id):
        raise Forbidden("You can only record sales of your own store")
    receipt_no = (receipt_no or "").strip()
    if not 0 < len(receipt_no) <= 64:
        raise InvalidInput("receiptNo: 1-64 characters", field=["input", "receiptNo"])
    # Two tills sending one receipt at once: the second waits here, then finds the first.
    await session.execute(select(func.pg_advisory_xact_lock(
        func.hashtextextended(f"receipt:{store_id}:{receipt_no}", 0))))
    earlier = (await session.execute(
        select(Order).where(Order.store_id == store_id, Order.receipt_no == receipt_no)
    )).scalar_one_or_none()
    if earlier is not None:
        return earlier, False
    _check_lines(lines)
    if sum(given is not None for given in (member_code, membership_id, member_phone)) > 1:
        raise InvalidInput("Give one of a member code, a member id or a phone", field=["input", "memberId"])
    membership = None
    if membership_id is not None:
        membership = await member_for_staff(session, staff, membership_id, ["input", "memberId"])
    elif member_code is not None:
        membership = await _member_by_code(session, member_code, store_id=store_id, staff=staff, settings=settings)
    elif member_phone is not None:  # OneID: the phone the customer gives; no membership makes a guest sale
        holders = await phones.holders(session, phones.mainland_mobile(member_phone, ["input", "memberPhone"]))
        membership = holders[0][1] if holders else None
    serving = await _serving_guide(session, guide_id=guide_id, staff=staff, store_id=store_id)
    skus = {s.id: s for s in (await session.execute(
        select(Sku).where(Sku.id.in_({ln.sku_id for ln in lines})))).scalars()}
    for i, line in enumerate(lines):
        if line.sku_id not in skus:
            raise NotFound("No such product", field=["input", "lines", str(i), "skuId"])
    coupon = None
    if coupon_code is not None:
        coupon = await loyalty.coupon_by_code(session, coupon_code, settings.jwt_secret, ["input", "couponCode"])
        if membership is None:  # the coupon names its owner: the sale is theirs
            membership = await membership_of(session, coupon.customer_id)
    if membership is not None:
        await live_customer(session, membership.customer_id, field=["input", "memberId"])
    now = utcnow()
    credit = attribution.credit_store_sale(store_id=store_id, serving_guide_id=serving, membership=membership)
    subtotal = sum(ln.quantity * ln.unit_price_fen for ln in lines)
    order = Order(
        order_no=new_order_no(now), customer_id=membership.customer_id if membership else None, channel="STORE",
        member_channel=membership.join_channel if membership else None,
        status=OrderStatus.COMPLETED.value, store_id=store_id, guide_id=credit.guide_id,
        service_guide_id=credit.service_guide_id, stock_store_id=store_id, subtotal_fen=subtotal,
        total_fen=subtotal, receipt_no=receipt_no, recorded_by_id=staff.id, created_at=now, paid_at=now,
        completed_at=now, payment_provider="store",
    )
    session.add(order)
    await session.flush()
    session.add_all([OrderLine(order_id=order.id, sku_id=ln.sku_id, quantity=ln.quantity,
                               unit_price_fen=ln.unit_price_fen, line_total_fen=ln.quantity * ln.unit_price_fen)
                     for ln in lines])
    if coupon is not None:
        order.discount_fen = await loyalty.redeem(
            session, coupon=coupon, customer_id=membership.customer_id if membership else None,
            subtotal_fen=subtotal, order_id=order.id, field=["input", "couponCode"], channel="STORE",
            store_id=store_id)
        order.coupon_id = coupon.id
        order.total_fen = subtotal - order.discount_fen
    if membership is not None:
        await reco_feedback.attribute(session, order_id=order.id, customer_id=membership.customer_id,
                                      sku_ids=sorted({ln.sku_id for ln in lines}), paid_at=now)
        order.points_earned = loyalty.points_for(order.total_fen)
        await loyalty.add_points(session, membership_id=membership.id, delta=order.points_earned,
                                 reason=PointsReason.EARN, order_id=order.id)
        await referrals.on_paid(session, order=order, membership=membership, now=now, settings=settings)
    await session.flush()
    wanted: dict[int, int] = {}
    for ln in lines:
        wanted[ln.sku_id] = wanted.get(ln.sku_id, 0) + ln.quantity
    first_line = {ln.sku_id: ["input", "lines", str(i)] for i, ln in reversed(list(enumerate(lines)))}
    await catalog.take_stock(session, store_id=store_id, wanted=wanted, field_of=first_line)
    await webhooks.emit(session, "store_purchase.recorded", lambda: bodies.order(session, order))
    return order, True
