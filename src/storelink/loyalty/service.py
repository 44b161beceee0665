"""Points and coupons, the same in both channels.

Points: 1 point per whole yuan paid, credited when an order is paid; 100 points are worth 1 yuan,
so a point redeems for 1 fen. The ledger is append-only and the balance is its sum.
Coupons: claimed online within the campaign's stock and the per-customer limit; redeemed once,
at an online checkout or a store purchase.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Row, bindparam, event, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from storelink import db
from storelink.scanning import scanner
from storelink.accounts import permissions
from storelink.accounts.models import Staff
from storelink.accounts.service import live_customer
from storelink.clock import utcnow
from storelink.live import bus as live
from storelink.errors import Code, Conflict, DomainError, InvalidInput, NotFound
from storelink.loyalty.models import (
    TIER_WINDOW, Coupon, CouponCampaign, PointsEntry, PointsReason, coupon_status,
)
from storelink.scanning import codes
from storelink.marketing import audience
from storelink.members.models import Membership
from storelink.stores.models import Store
from storelink.orders.models import PAID_STATUSES, Order
from storelink.settings import Settings
from storelink.members.joining import membership_of

MAX_DISCOUNT_FEN = 10_000_000
MAX_CAMPAIGN_QUANTITY = 10_000_000


def points_for(total_fen: int) -> int:
    """1 point per whole yuan paid."""
    return max(total_fen, 0) // 100


# ------------------------------------------------------------------ points

async def balances(session: AsyncSession, membership_ids: Sequence[int]) -> dict[int, int]:
    rows = await session.execute(
        select(PointsEntry.membership_id, func.sum(PointsEntry.delta))
        .where(PointsEntry.membership_id.in_(membership_ids)).group_by(PointsEntry.membership_id)
    )
    found = {m: int(total) for m, total in rows}
    return {m: found.get(m, 0) for m in membership_ids}


async def add_points(session: AsyncSession, *, membership_id: int, delta: int, reason: PointsReason,
                     order_id: int | None) -> None:
    if delta != 0:
        session.add(PointsEntry(membership_id=membership_id, delta=delta, reason=reason.value,
                                order_id=order_id, created_at=utcnow()))
        await session.flush()


async def redeem_points(session: AsyncSession, *, membership: Membership, points: int, order_id: int,
                        field: list[str]) -> None:
    """Spend points; the membership row lock makes concurrent redemptions see each other."""
    await session.execute(select(Membership.id).where(Membership.id == membership.id).with_for_update())
    balance = (await balances(session, [membership.id]))[membership.id]
    if points > balance:
        raise DomainError("Only {n} points available; redeem fewer", n=max(balance, 0), code=Code.INSUFFICIENT_POINTS, field=field)
    await add_points(session, membership_id=membership.id, delta=-points, reason=PointsReason.REDEEM,
                     order_id=order_id)


async def paid_spend(session: AsyncSession, customer_ids: Sequence[int], *, now: dt.datetime | None = None
                     ) -> dict[int, int]:
    """Paid, non-refunded spend of the last 12 months, both channels."""
    since = (now or utcnow()) - TIER_WINDOW
    rows = await session.execute(
        select(Order.customer_id, func.sum(Order.total_fen))
        .where(Order.customer_id.in_(customer_ids), Order.status.in_(PAID_STATUSES), Order.paid_at >= since)
        .group_by(Order.customer_id)
    )
    found = {c: int(total) for c, total in rows}
    return {c: found.get(c, 0) for c in customer_ids}


def tier_for(spend_fen: int, settings: Settings) -> str:
    if spend_fen >= settings.tier_platinum_fen:
        return "PLATINUM"
    if spend_fen >= settings.tier_gold_fen:
        return "GOLD"
    if spend_fen >= settings.tier_silver_fen:
        return "SILVER"
    return "REGULAR"


@dataclass(frozen=True)
class Standing:
    points: int
    tier: str


async def standings(session: AsyncSession, memberships: Sequence[Membership], settings: Settings
                    ) -> dict[int, Standing]:
    """membership id -> points balance and tier, for many members in two statements."""
    if not memberships:
        return {}
    points = await balances(session, [m.id for m in memberships])
    spend = await paid_spend(session, [m.customer_id for m in memberships])
    return {m.id: Standing(points[m.id], tier_for(spend[m.customer_id], settings)) for m in memberships}


# ------------------------------------------------------------------ coupon campaigns

async def create_campaign(
    session: AsyncSession, *, actor: Staff, title: str, discount_fen: int, min_spend_fen: int,
    valid_from: dt.datetime, valid_until: dt.datetime, total_quantity: int | None, per_customer_limit: int,
    channel: str = "ANY", store_ids: Sequence[int] = (), audience_rule: audience.Rule | None = None,
) -> CouponCampaign:
    permissions.ensure_hq(actor)
    f = ["input"]
    title = (title or "").strip()
    if not title or len(title) > 100:
        raise InvalidInput("Title: 1-100 characters", field=f + ["title"])
    if not 0 < discount_fen <= MAX_DISCOUNT_FEN:
        raise InvalidInput("Discount must be 1 to {n} fen", n=MAX_DISCOUNT_FEN, field=f + ["discountFen"])
    if not 0 <= min_spend_fen <= MAX_DISCOUNT_FEN * 10:
        raise InvalidInput("Minimum spend must not be negative", field=f + ["minSpendFen"])
    for name, value in (("validFrom", valid_from), ("validUntil", valid_until)):
        if value.tzinfo is None:
            raise InvalidInput("Give the time with its UTC offset", field=f + [name])
    if valid_until <= valid_from:
        raise InvalidInput("The campaign must end after it starts", field=f + ["validUntil"])
    if valid_until <= utcnow():
        raise InvalidInput("The campaign would already be over", field=f + ["validUntil"])
    if total_quantity is not None and not 0 < total_quantity <= MAX_CAMPAIGN_QUANTITY:
        raise InvalidInput("totalQuantity must be 1 to {n}", n=MAX_CAMPAIGN_QUANTITY, field=f + ["totalQuantity"])
    if not 0 < per_customer_limit <= 100:
        raise InvalidInput("perCustomerLimit must be 1..100", field=f + ["perCustomerLimit"])
    store_ids = list(dict.fromkeys(store_ids))
    if len(store_ids) > audience.MAX_STORES:
        raise InvalidInput("At most {n} stores", n=audience.MAX_STORES, field=f + ["storeIds"])
    if store_ids and len((await session.execute(select(Store.id).where(Store.id.in_(store_ids)))).all()) != len(store_ids):
        raise NotFound("No such store", field=f + ["storeIds"])
    if audience_rule is not None:
        audience_rule = await audience.checked(session, audience_rule, f + ["audience"])
    campaign = CouponCampaign(
        title=title, discount_fen=discount_fen, min_spend_fen=min_spend_fen, valid_from=valid_from,
        valid_until=valid_until, total_quantity=total_quantity, per_customer_limit=per_customer_limit,
        channel=channel, store_ids=store_ids, audience=audience_rule.to_json() if audience_rule else None,
        created_by_id=actor.id, created_at=utcnow(),
    )
    session.add(campaign)
    await session.flush()
    return campaign


async def running_campaigns(session: AsyncSession, *, viewer: str, customer_id: int | None = None,
                            settings: Settings | None = None) -> list[CouponCampaign]:
    """Campaigns a customer can claim from now (or soon: they are shown before they start).
    viewer "staff" sees every one; a customer only those whose audience they are in; anyone
    else only those without an audience."""
    stmt = select(CouponCampaign).where(CouponCampaign.valid_until > func.now())
    if viewer != "staff":
        if customer_id is None:
            stmt = stmt.where(CouponCampaign.audience.is_(None))
    rows = list((await session.execute(
        stmt.order_by(CouponCampaign.valid_until, CouponCampaign.id).limit(100))).scalars())
    if viewer == "customer" and customer_id is not None and settings is not None:
        now = utcnow()
        rows = [r for r in rows if r.audience is None or await audience.contains(
            session, audience.Rule.from_json(r.audience), customer_id, now=now, settings=settings)]
    return rows


async def claim(session: AsyncSession, *, customer_id: int, campaign_id: int, settings: Settings,
                field: list[str] | None = None) -> Coupon:
    """Exactly the campaign's quantity is handed out however many claim at once; with an audience,
    only to its members (NOT_ELIGIBLE)."""
    field = field or ["campaignId"]
    # The customer row lock serialises one customer's claims (the per-customer limit).
    await live_customer(session, customer_id, lock=True)
    if await membership_of(session, customer_id) is None:
        raise DomainError("Join the membership to collect coupons", code=Code.INVALID_STATE)
    campaign = await session.get(CouponCampaign, campaign_id)
    if campaign is None:
        raise NotFound("No such campaign", field=field)
    now = utcnow()
    if not campaign.valid_from <= now < campaign.valid_until:
        raise DomainError("This campaign is not running", code=Code.INVALID_STATE, field=field)
    if campaign.audience is not None and not await audience.contains(
            session, audience.Rule.from_json(campaign.audience), customer_id, now=now, settings=settings):
        raise DomainError("This coupon is for other members", code=Code.NOT_ELIGIBLE, field=field)
    held = (
        await session.execute(
            select(func.count()).select_from(Coupon)
            .where(Coupon.customer_id == customer_id, Coupon.campaign_id == campaign_id)
        )
    ).scalar_one()
    if held >= campaign.per_customer_limit:
        raise Conflict("You have already collected this coupon", field=field)
    if not await _count_out(session, campaign, 1):
        raise DomainError("All coupons of this campaign have been collected", code=Code.OUT_OF_STOCK,
                          field=field)
    coupon = Coupon(campaign_id=campaign_id, customer_id=customer_id, token=codes.new_scan_token(),
                    claimed_at=now)
    session.add(coupon)
    await session.flush()
    await live.publish(session, kind="COUPON_ISSUED", customer_id=customer_id, coupon=coupon.id)
    return coupon


@dataclass(frozen=True)
class Issued:
    offer: CouponCampaign | None  # None: no such offer, or not running
    coupons: dict[int, Row]  # customer id -> the coupon's row (id, token, status, claimed_at, ...: as a Coupon reads)


async def issue(session: AsyncSession, *, campaign_id: int, customer_ids: Sequence[int], now: dt.datetime,
                settings: Settings) -> Issued:
    """A marketing campaign's offer, one coupon each to these members, under the same rules as a
    claim: running, within its quantity (the first come get the last ones), the per-customer limit
    and its own audience. Whoever cannot have one is left out: the message went anyway. The
    callers hold these customers' rows locked (the per-customer limit)."""
    wanted = list(dict.fromkeys(customer_ids))
    if not wanted:
        return Issued(None, {})
    found = (await session.execute(_OFFER, {"campaign_id": campaign_id, "customer_ids": wanted})).first()
    if found is None or not found[0].valid_from <= now < found[0].valid_until:
        return Issued(None, {})
    campaign, held = found[0], {int(c): n for c, n in (found[1] or {}).items()}
    wanted = [c for c in wanted if held.get(c, 0) < campaign.per_customer_limit]
    if campaign.audience is not None and wanted:
        matched = (audience.members(audience.Rule.from_json(campaign.audience), now, settings)
                   .where(Membership.customer_id.in_(wanted)).subquery())
        inside = set((await session.execute(select(matched.c.customer_id))).scalars())
        wanted = [c for c in wanted if c in inside]
    wanted = wanted[:await _count_out(session, campaign, len(wanted))] if wanted else []
    if not wanted:
        return Issued(campaign, {})
    rows = await session.execute(_ISSUE, [
        {"campaign_id": campaign_id, "customer_id": c, "token": codes.new_scan_token(), "claimed_at": now,
         "status": "AVAILABLE"} for c in wanted])
    issued = {row.customer_id: row for row in rows}
    for customer_id, coupon in issued.items():
        await live.publish(session, kind="COUPON_ISSUED", customer_id=customer_id, coupon=coupon.id)
    return Issued(campaign, issued)


# The offer and how many of it each wanted member holds already, in one statement built once.
_per_member = (select(Coupon.customer_id, func.count().label("n"))
               .where(Coupon.campaign_id == bindparam("campaign_id"),
                      Coupon.customer_id.in_(bindparam("customer_ids", expanding=True)))
               .group_by(Coupon.customer_id).subquery())
_OFFER = select(CouponCampaign, select(func.jsonb_object_agg(_per_member.c.customer_id, _per_member.c.n))
                .scalar_subquery()).where(CouponCampaign.id == bindparam("campaign_id"))
# One statement for any number of coupons (SQLAlchemy's insertmanyvalues), compiled once: a
# multi-row .values([...]) would be compiled again on every call. The rows come back whole, so
# the payload needs no second read.
_ISSUE = insert(Coupon.__table__).returning(*Coupon.__table__.c)

# Up to :n more coupons counted out of a limited campaign's quantity, in the statement that locks
# its row: the hot spot of a popular campaign, held only until the commit. Returns how many, and
# the new count.
_COUNT_OUT = text("""
    WITH locked AS (SELECT id, total_quantity - claimed AS left_over FROM coupon_campaign WHERE id = :id FOR UPDATE)
    UPDATE coupon_campaign SET claimed = claimed + LEAST(:n, GREATEST(locked.left_over, 0))
    FROM locked WHERE coupon_campaign.id = locked.id
    RETURNING LEAST(:n, GREATEST(locked.left_over, 0)) AS given, coupon_campaign.claimed""")
_TALLY = "loyalty.tally"  # session.info: unlimited campaign id -> coupons this transaction issued
_campaigns = CouponCampaign.__table__
_ADD_CLAIMED = update(_campaigns).where(_campaigns.c.id == bindparam("campaign_id")).values(
    claimed=_campaigns.c.claimed + bindparam("n"))


async def _count_out(session: AsyncSession, campaign: CouponCampaign, n: int) -> int:
    """How many of n coupons the campaign can give, counted out. A limited campaign counts now
    (see _COUNT_OUT); an unlimited one has nothing scarce, so its tally is added just before the
    commit (_add_tallies), and its row is locked for the COMMIT alone: many members nearby the
    same offer at once do not queue behind each other's whole transaction."""
    if campaign.total_quantity is None:
        tallies = session.info.setdefault(_TALLY, {})
        tallies[campaign.id] = tallies.get(campaign.id, 0) + n
        return n
    given, claimed = (await session.execute(_COUNT_OUT, {"id": campaign.id, "n": n})).one()
    set_committed_value(campaign, "claimed", claimed)  # the loaded row, as the database has it now
    return given


@event.listens_for(Session, "before_commit")
def _add_tallies(session: Session) -> None:
    tallies = session.info.pop(_TALLY, None)
    if tallies:  # in id order: two transactions never wait for each other's rows crosswise
        session.execute(_ADD_CLAIMED, [{"campaign_id": k, "n": n} for k, n in sorted(tallies.items())])


@event.listens_for(Session, "after_rollback")
def _forget_tallies(session: Session) -> None:
    session.info.pop(_TALLY, None)


async def customer_coupons(session: AsyncSession, *, customer_id: int, status: str | None
                           ) -> list[tuple[Coupon, CouponCampaign]]:
    rows = await session.execute(
        select(Coupon, CouponCampaign).join(CouponCampaign, CouponCampaign.id == Coupon.campaign_id)
        .where(Coupon.customer_id == customer_id)
        .order_by(Coupon.claimed_at.desc(), Coupon.id.desc())
    )
    now = utcnow()
    found = [(c, k) for c, k in rows]
    return [(c, k) for c, k in found if status is None or coupon_status(c, k, now) == status]


def usable_at(campaign: CouponCampaign, *, channel: str, store_id: int | None) -> bool:
    """The campaign's channel and stores allow this sale: a store-limited coupon online only for
    a pickup at one of its stores (API-NOTES "Marketing")."""
    if campaign.channel == "ONLINE_ONLY" and channel != "ONLINE":
        return False
    if campaign.channel == "STORE_ONLY" and channel != "STORE":
        return False
    return not campaign.store_ids or store_id in campaign.store_ids


async def redeem(session: AsyncSession, *, coupon: Coupon, customer_id: int | None, subtotal_fen: int,
                 order_id: int, field: list[str], channel: str, store_id: int | None) -> int:
    """Use a coupon on an order (`channel` ONLINE or STORE; `store_id` the selling or pickup
    store); returns its discount. Exactly once under concurrency: the update only succeeds while
    the coupon is still AVAILABLE."""
    campaign = await session.get(CouponCampaign, coupon.campaign_id)
    assert campaign is not None
    now = utcnow()
    if customer_id is not None and coupon.customer_id != customer_id:
        raise DomainError("This coupon belongs to someone else", code=Code.COUPON_NOT_APPLICABLE, field=field)
    if coupon.status == "REDEEMED":
        raise DomainError("This coupon has been used", code=Code.CODE_USED_UP, field=field)
    if now < campaign.valid_from:
        raise DomainError("This coupon is not valid yet", code=Code.COUPON_NOT_APPLICABLE, field=field)
    if now >= campaign.valid_until:
        raise DomainError("This coupon has expired", code=Code.CODE_EXPIRED, field=field)
    if not usable_at(campaign, channel=channel, store_id=store_id):
        raise DomainError("This coupon cannot be used here: check its channel and stores",
                          code=Code.COUPON_NOT_APPLICABLE, field=field)
    if subtotal_fen < campaign.min_spend_fen:
        raise DomainError("This coupon needs a spend of at least {yuan} yuan; add more to the order",
                          yuan=f"{campaign.min_spend_fen / 100:.2f}",
                          code=Code.COUPON_NOT_APPLICABLE, field=field)
    used = (
        await session.execute(
            update(Coupon).where(Coupon.id == coupon.id, Coupon.status == "AVAILABLE")
            .values(status="REDEEMED", redeemed_at=now, order_id=order_id).returning(Coupon.id)
        )
    ).first()
    if used is None:
        raise DomainError("This coupon has been used", code=Code.CODE_USED_UP, field=field)
    return min(campaign.discount_fen, subtotal_fen)


async def give_back(session: AsyncSession, *, coupon_id: int) -> bool:
    """Make a redeemed coupon usable again if its campaign still runs (refunds, expired orders)."""
    returned = (
        await session.execute(
            update(Coupon)
            .where(Coupon.id == coupon_id, Coupon.status == "REDEEMED",
                   Coupon.campaign_id.in_(select(CouponCampaign.id).where(CouponCampaign.valid_until > func.now())))
            .values(status="AVAILABLE", redeemed_at=None, order_id=None).returning(Coupon.id)
        )
    ).first()
    return returned is not None


async def coupon_by_code(session: AsyncSession, code: str, secret: str, field: list[str]) -> Coupon:
    kind, token = codes.parse_scan_code(code[:64], secret)
    if kind != codes.COUPON:
        raise DomainError("This is not a coupon code", code=Code.CODE_INVALID, field=field)
    # No row lock here: `redeem`'s conditional update decides, and locking the coupon before the
    # customer row (which an online checkout locks first) could deadlock with that checkout.
    coupon = (await session.execute(select(Coupon).where(Coupon.token == token))).scalar_one_or_none()
    if coupon is None:
        raise DomainError("Unknown coupon", code=Code.CODE_INVALID, field=field)
    return coupon


@dataclass(frozen=True)
class CouponScanned:
    coupon: Coupon
    campaign: CouponCampaign
    membership: Membership


@scanner.handles(codes.COUPON)
async def scan_coupon(session: AsyncSession, request: scanner.ScanRequest) -> CouponScanned:
    """Shows the coupon and its owner at the till; `recordStorePurchase` then redeems it."""
    coupon = (await session.execute(select(Coupon).where(Coupon.token == request.token))).scalar_one_or_none()
    if coupon is None:
        raise DomainError("Unknown coupon", code=Code.CODE_INVALID, field=["code"])
    campaign = await db.existing(session, CouponCampaign, coupon.campaign_id)
    status = coupon_status(coupon, campaign)
    if status == "REDEEMED":
        raise DomainError("This coupon has been used", code=Code.CODE_USED_UP, field=["code"])
    if status == "EXPIRED":
        raise DomainError("This coupon has expired", code=Code.CODE_EXPIRED, field=["code"])
    membership = await membership_of(session, coupon.customer_id)
    if membership is None:
        raise DomainError("Unknown coupon", code=Code.CODE_INVALID, field=["code"])
    return CouponScanned(coupon, campaign, membership)


