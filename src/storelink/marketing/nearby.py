"""reportLocation: a member's location checked at once against the running STORE_NEARBY campaigns
(API-NOTES "Marketing"). The location is used and forgotten: only the campaign, the store in
reach and a distance band are recorded. A treated member's coupon is issued at once; the message
is queued for the sender (cap, quiet hours, credits); when the store in reach is the member's own
(where they joined, or their guide's), its tablets hear MEMBER_NEARBY.

Cost: the running nearby campaigns and whether the member met each (their terms are read once per
process), the stores in the widest radius with their special days (the (lat, lng) index), and
every candidate campaign's audience in one statement; then one insert per campaign met.
"""
from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Collection
from dataclasses import dataclass
from types import SimpleNamespace

from sqlalchemy import (
    DateTime, Float, Integer, Row, Select, String, bindparam, literal, literal_column, select, union_all, update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from storelink import throttle
from storelink.accounts.models import Staff
from storelink.live import bus as live
from storelink.loyalty import service as loyalty
from storelink.loyalty.models import CouponCampaign
from storelink.marketing import audience as audiences
from storelink.marketing.campaigns import running
from storelink.marketing.models import CampaignTrigger, MarketingCampaign, MarketingMessage
from storelink.marketing.triggers import enrol
from storelink.members.joining import live_member
from storelink.members.models import Membership
from storelink.settings import Settings
from storelink.stores import geo
from storelink.stores.service import in_box, open_now

REPORTS_PER_MINUTE = 10
BANDS = ((500, "0-500m"), (1000, "500m-1km"), (3000, "1-3km"), (10_000, "3-10km"))


def band(metres: float) -> str:
    return next((name for limit, name in BANDS if metres < limit), "10km+")


@dataclass(frozen=True)
class Terms:
    """What a STORE_NEARBY campaign offers to whom: fixed when it is created (only its state moves
    afterwards), so each process reads them once per row version (_TERMS) instead of on every
    report. The version (PostgreSQL's xmin) also tells a new row under a reused id (tests restart
    the ids) from the one this process saw."""
    id: int
    radius_m: int
    rule: audiences.Rule
    offer_campaign_id: int | None
    control_share: float
    template_id: str


@dataclass(frozen=True)
class Index:
    """A set of running campaigns by the stores of their audiences, for the stores query."""
    terms: tuple[Terms, ...]  # by id
    anywhere: tuple[Terms, ...]  # audiences without stores
    by_store: dict[int, tuple[Terms, ...]]
    widest_m: int


_TERMS: dict[tuple[int, str], Terms] = {}  # (id, row version) -> terms
_k = MarketingCampaign
# The running STORE_NEARBY campaigns and whether the member met each: built once (bind parameters).
_met = select(MarketingMessage.id).where(MarketingMessage.campaign_id == _k.id,
                                         MarketingMessage.customer_id == bindparam("customer_id")).exists()
_RUNNING: Select[int, str, bool] = select(_k.id, literal_column("marketing_campaign.xmin::text").label("version"), _met.label("met")).where(
    *running(bindparam("now", type_=DateTime(timezone=True))), _k.trigger == CampaignTrigger.STORE_NEARBY.value
).order_by(_k.id)
_messages = MarketingMessage.__table__
# One member into one campaign, at the store in reach: built once (bind parameters).
_ENROL = enrol(
    SimpleNamespace(id=bindparam("campaign_id", type_=Integer), template_id=bindparam("template_id", type_=String),
                    control_share=bindparam("control_share", type_=Float)),
    select(bindparam("customer_id", type_=Integer).label("customer_id")), bindparam("now", type_=DateTime(timezone=True)),
    store_id=bindparam("store_id", type_=Integer), distance_band=bindparam("distance_band", type_=String),
).returning(_messages.c.id, _messages.c.treated)
_LINK = update(_messages).where(_messages.c.id == bindparam("message_id")).values(coupon_id=bindparam("coupon_id"))


async def report(session: AsyncSession, *, customer_id: int, near: tuple[float, float], now: dt.datetime,
                 settings: Settings) -> list[tuple[Row, CouponCampaign]]:
    """The coupons this report earned (as loyalty.issue returns them), each with its offer."""
    await throttle.count_attempt(session, f"location:{customer_id}", limit=REPORTS_PER_MINUTE,
                                 window=dt.timedelta(minutes=1), own_transaction=False,
                                 message="Too many location reports; try again in a minute")
    _, membership = await live_member(session, customer_id, lock=True)  # one member's reports at a time
    if membership is None:
        return []
    found = (await session.execute(_RUNNING, {"now": now, "customer_id": customer_id})).all()
    met = {row.id for row in found if row.met}
    if len(met) == len(found):
        return []
    index = await _index_of(session, tuple((row.id, row.version) for row in found))
    nearest = await _nearest_in_reach(session, index, met, near, now)
    if not nearest:
        return []
    own_stores = await _stores_of(session, membership)
    candidates = [terms for terms in index.terms if terms.id in nearest]
    inside = await _in_audiences(session, candidates, customer_id, own_stores, now, settings)
    coupons: list[tuple[Row, CouponCampaign]] = []
    greeted: set[int] = set()  # stores in reach whose campaign treated the member
    for campaign in (terms for terms in candidates if terms.id in inside):
        distance, store_id = nearest[campaign.id]
        row = (await session.execute(_ENROL, {
            "campaign_id": campaign.id, "template_id": campaign.template_id, "control_share": campaign.control_share,
            "customer_id": customer_id, "now": now, "store_id": store_id, "distance_band": band(distance)})).first()
        if row is None or not row.treated:
            continue
        greeted.add(store_id)
        if campaign.offer_campaign_id is None:
            continue
        issued = await loyalty.issue(session, campaign_id=campaign.offer_campaign_id, customer_ids=[customer_id],
                                     now=now, settings=settings)
        if issued.coupons and issued.offer is not None:  # coupons come of a running offer
            coupon = issued.coupons[customer_id]
            await session.execute(_LINK, {"message_id": row.id, "coupon_id": coupon.id})
            coupons.append((coupon, issued.offer))
    for store_id in greeted & own_stores:  # their own store's guides may greet them (no coordinates)
        await live.publish(session, kind="MEMBER_NEARBY", store_id=store_id, member=membership.id)
    return coupons


async def _index_of(session: AsyncSession, keys: tuple[tuple[int, str], ...]) -> Index:
    """The index of these running campaigns ((id, version) each), reading the terms this process
    has not seen yet."""
    if len(_TERMS) > 10_000:  # old versions of paused and resumed campaigns
        _TERMS.clear()
    unseen = dict(key for key in keys if key not in _TERMS)  # id -> version
    if unseen:  # the terms never change, whatever the version is by now
        rows = await session.execute(select(_k.id, _k.radius_m, _k.audience, _k.offer_campaign_id, _k.control_share,
                                            _k.template_id).where(_k.id.in_(unseen)))
        for row in rows:
            _TERMS[row.id, unseen[row.id]] = Terms(row.id, row.radius_m, audiences.Rule.from_json(row.audience),
                                                row.offer_campaign_id, row.control_share, row.template_id)
    return _indexed(keys)


@functools.lru_cache(maxsize=16)  # the running set changes when a campaign starts, pauses or ends
def _indexed(keys: tuple[tuple[int, str], ...]) -> Index:
    terms = tuple(map(_TERMS.__getitem__, keys))
    by_store: dict[int, list[Terms]] = {}
    for campaign in terms:
        for store_id in campaign.rule.store_ids:
            by_store.setdefault(store_id, []).append(campaign)
    return Index(terms, tuple(c for c in terms if not c.rule.store_ids),
                 {s: tuple(c) for s, c in by_store.items()}, max(c.radius_m for c in terms))


async def _stores_of(session: AsyncSession, membership: Membership) -> set[int]:
    """The stores a member belongs to: where they joined, and their guide's."""
    found = {membership.join_store_id}
    if membership.guide_id is not None:
        found.add((await session.execute(select(Staff.store_id).where(Staff.id == membership.guide_id))).scalar())
    return {store_id for store_id in found if store_id is not None}


async def _nearest_in_reach(session: AsyncSession, index: Index, met: set[int], near: tuple[float, float],
                            now: dt.datetime) -> dict[int, tuple[float, int]]:
    """campaign id -> (metres, store id) of the nearest open store within its radius, among the
    audience's stores (or any, for an audience without stores), for the campaigns not met yet."""
    wanted = None if index.anywhere else index.by_store.keys()
    nearest: dict[int, tuple[float, int]] = {}
    for distance, store_id in await _open_stores_in_reach(session, near, index.widest_m, now, wanted):  # nearest first
        for campaign in (*index.anywhere, *index.by_store.get(store_id, ())):
            if campaign.id not in nearest and campaign.id not in met and distance <= campaign.radius_m:
                nearest[campaign.id] = (distance, store_id)
    return nearest


async def _open_stores_in_reach(session: AsyncSession, near: tuple[float, float], radius_m: int,
                                now: dt.datetime, wanted: Collection[int] | None) -> list[tuple[float, int]]:
    """(metres, store id) of the stores open now within radius_m (of `wanted`, or any), nearest first."""
    rows = await in_box(session, geo.bounding_box(near[0], near[1], radius_m), now)
    close = sorted((d, r.id) for r in rows if (wanted is None or r.id in wanted)
                   and (d := geo.distance_m(near[0], near[1], r.lat, r.lng)) <= radius_m and open_now(r, now))
    return close


async def _in_audiences(session: AsyncSession, campaigns: list[Terms], customer_id: int, own_stores: set[int],
                        now: dt.datetime, settings: Settings) -> set[int]:
    """The campaigns whose audience holds the member: audiences of stores alone are answered from
    the member's own stores (audience.holds_by_stores); the others in one statement for all."""
    inside, rest = set(), []
    for campaign in campaigns:
        if audiences.stores_only(campaign.rule):
            if audiences.holds_by_stores(campaign.rule, own_stores):
                inside.add(campaign.id)
        else:
            rest.append((campaign.id, campaign.rule))
    if rest:
        checks = [select(literal(campaign_id).label("campaign_id")).where(
            audiences.members(rule, now, settings).where(Membership.customer_id == customer_id).exists())
            for campaign_id, rule in rest]
        inside |= set((await session.execute(union_all(*checks) if len(checks) > 1 else checks[0])).scalars())
    return inside
