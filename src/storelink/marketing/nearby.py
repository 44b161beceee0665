"""reportLocation: a member's location checked at once against the running STORE_NEARBY campaigns
(API-NOTES "Marketing"). The location is used and forgotten: only the campaign, the store in
reach and a distance band are recorded. A treated member's coupon is issued at once; the message
is queued for the sender (cap, quiet hours, credits); when the store in reach is the member's own
(where they joined, or their guide's), its tablets hear MEMBER_NEARBY.

Cost: the running nearby campaigns the member has not met yet, the stores in the widest radius
(the (lat, lng) index), their special days, and every candidate campaign's audience in one
statement; then one insert per campaign met.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import literal, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession

from storelink import throttle
from storelink.accounts.models import Staff
from storelink.live import bus as live
from storelink.loyalty import service as loyalty
from storelink.marketing import audience as audiences
from storelink.marketing.campaigns import running
from storelink.marketing.models import CampaignTrigger, MarketingCampaign, MarketingMessage
from storelink.marketing.triggers import enrol
from storelink.members.joining import live_member
from storelink.members.models import Membership
from storelink.settings import Settings
from storelink.stores import geo
from storelink.stores.models import Store
from storelink.stores.service import open_at

REPORTS_PER_MINUTE = 10
BANDS = ((500, "0-500m"), (1000, "500m-1km"), (3000, "1-3km"), (10_000, "3-10km"))


def band(metres: float) -> str:
    return next((name for limit, name in BANDS if metres < limit), "10km+")


async def report(session: AsyncSession, *, customer_id: int, near: tuple[float, float], now: dt.datetime,
                 settings: Settings) -> list[int]:
    """The ids of the coupons this report earned."""
    await throttle.count_attempt(session, f"location:{customer_id}", limit=REPORTS_PER_MINUTE,
                                 window=dt.timedelta(minutes=1), own_transaction=False,
                                 message="Too many location reports; try again in a minute")
    _, membership = await live_member(session, customer_id, lock=True)  # one member's reports at a time
    if membership is None:
        return []
    met = select(MarketingMessage.id).where(MarketingMessage.campaign_id == MarketingCampaign.id,
                                            MarketingMessage.customer_id == customer_id).exists()
    k = MarketingCampaign  # plain rows, not ORM objects: up to dozens per report
    campaigns = (await session.execute(select(
        k.id, k.radius_m, k.audience, k.offer_campaign_id, k.control_share, k.template_id).where(
        *running(now), k.trigger == CampaignTrigger.STORE_NEARBY.value, ~met).order_by(k.id))).all()
    if not campaigns:
        return []
    nearest = await _nearest_in_reach(session, campaigns, near, now)
    if not nearest:
        return []
    own_stores = await _stores_of(session, membership)
    inside = await _in_audiences(session, [c for c in campaigns if c.id in nearest], customer_id, own_stores,
                                 now, settings)
    coupons: list[int] = []
    greeted: set[int] = set()  # stores in reach whose campaign treated the member
    for campaign in campaigns:
        if campaign.id not in inside:
            continue
        distance, store_id = nearest[campaign.id]
        me = select(literal(customer_id).label("customer_id"))
        row = (await session.execute(enrol(campaign, me, now, store_id=store_id, distance_band=band(distance))
                                     .returning(MarketingMessage.id, MarketingMessage.treated))).first()
        if row is None or not row.treated:
            continue
        greeted.add(store_id)
        if campaign.offer_campaign_id is None:
            continue
        issued = await loyalty.issue(session, campaign_id=campaign.offer_campaign_id, customer_ids=[customer_id],
                                     now=now, settings=settings)
        if issued:
            await session.execute(update(MarketingMessage).where(MarketingMessage.id == row.id)
                                  .values(coupon_id=issued[customer_id]))
            coupons.append(issued[customer_id])
    for store_id in greeted & own_stores:  # their own store's guides may greet them (no coordinates)
        await live.publish(session, kind="MEMBER_NEARBY", store_id=store_id, member=membership.id)
    return coupons


async def _stores_of(session: AsyncSession, membership: Membership) -> set[int]:
    """The stores a member belongs to: where they joined, and their guide's."""
    found = {membership.join_store_id}
    if membership.guide_id is not None:
        found.add((await session.execute(select(Staff.store_id).where(Staff.id == membership.guide_id))).scalar())
    return found - {None}


async def _nearest_in_reach(session: AsyncSession, campaigns: list, near: tuple[float, float],
                            now: dt.datetime) -> dict[int, tuple[float, int]]:
    """campaign id -> (metres, store id) of the nearest open store within its radius, among the
    audience's stores (or any, for an audience without stores)."""
    anywhere, by_store = [], {}
    for campaign in campaigns:
        stores = campaign.audience.get("store_ids") or ()
        if not stores:
            anywhere.append(campaign)
        for store_id in stores:
            by_store.setdefault(store_id, []).append(campaign)
    wanted = None if anywhere else set(by_store)
    nearest: dict[int, tuple[float, int]] = {}
    for distance, store_id in await _open_stores_in_reach(
            session, near, max(c.radius_m for c in campaigns), now, wanted):  # nearest first
        for campaign in (*anywhere, *by_store.get(store_id, ())):
            if campaign.id not in nearest and distance <= campaign.radius_m:
                nearest[campaign.id] = (distance, store_id)
    return nearest


async def _open_stores_in_reach(session: AsyncSession, near: tuple[float, float], radius_m: int,
                                now: dt.datetime, wanted: set[int] | None) -> list[tuple[float, int]]:
    """(metres, store id) of the stores open now within radius_m (of `wanted`, or any), nearest first."""
    min_lat, max_lat, min_lng, max_lng = geo.bounding_box(near[0], near[1], radius_m)
    rows = (await session.execute(select(Store.id, Store.lat, Store.lng, Store.timezone, Store.opening_hours).where(
        Store.lat.between(min_lat, max_lat), Store.lng.between(min_lng, max_lng)))).all()
    close = sorted((d, r) for r in rows if (wanted is None or r.id in wanted)
                   and (d := geo.distance_m(near[0], near[1], r.lat, r.lng)) <= radius_m)
    if not close:
        return []
    open_ids = await open_at(session, [r for _, r in close], now)
    return [(d, r.id) for d, r in close if r.id in open_ids]


async def _in_audiences(session: AsyncSession, campaigns: list, customer_id: int, own_stores: set[int],
                        now: dt.datetime, settings: Settings) -> set[int]:
    """The campaigns whose audience holds the member: audiences of stores alone are answered from
    the member's own stores (audience.holds_by_stores); the others in one statement for all."""
    inside, rest = set(), []
    for campaign in campaigns:
        rule = audiences.Rule.from_json(campaign.audience)
        if audiences.stores_only(rule):
            if audiences.holds_by_stores(rule, own_stores):
                inside.add(campaign.id)
        else:
            rest.append((campaign.id, rule))
    if rest:
        checks = [select(literal(campaign_id).label("campaign_id")).where(
            audiences.members(rule, now, settings).where(Membership.customer_id == customer_id).exists())
            for campaign_id, rule in rest]
        inside |= set((await session.execute(union_all(*checks) if len(checks) > 1 else checks[0])).scalars())
    return inside
