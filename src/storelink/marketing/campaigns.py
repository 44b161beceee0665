"""Marketing campaigns: who (an audience), when (a trigger), what (a subscribe message and an
optional coupon), and a control group held out to measure what it caused (API-NOTES "Marketing").

HQ's campaigns are brand-wide; a store manager's are confined to their own store. A campaign's
state is what people set (LIVE, PAUSED, ENDED); the status shown adds the calendar.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import BigInteger, ColumnElement, case, cast, func, literal, select, update
from sqlalchemy.dialects.postgresql import BIT
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.accounts import permissions
from storelink.accounts.models import Staff, StaffRole
from storelink.errors import Code, DomainError, Forbidden, InvalidInput, NotFound
from storelink.limits import clean_text
from storelink.loyalty.models import CouponCampaign
from storelink.marketing import audience as audiences
from storelink.marketing.models import CampaignStatus, CampaignTrigger, MarketingCampaign, MarketingMessage

MAX_NAME = 100
MAX_CONTROL_SHARE = 0.5
DEFAULT_RADIUS_M = 3000
MIN_RADIUS_M, MAX_RADIUS_M = 100, 50_000
MAX_DELAY_MINUTES = 7 * 24 * 60
MAX_DAYS_AHEAD = 366  # a campaign starts within a year and lasts at most one
DELAYED = {CampaignTrigger.BROWSE_ABANDONED, CampaignTrigger.CART_ABANDONED, CampaignTrigger.AFTER_STORE_PURCHASE,
           CampaignTrigger.AFTER_APPOINTMENT}


def confine(staff: Staff, rule: audiences.Rule) -> int | None:
    """HQ: brand-wide (None); a store manager: exactly their own store, which the campaign or
    preview then belongs to (API-NOTES "Marketing")."""
    if permissions.is_hq(staff):
        return None
    if staff.role != StaffRole.STORE_MANAGER or rule.store_ids != (staff.store_id,):
        raise Forbidden("A store manager's audiences are their own store's: set storeIds to it alone")
    return staff.store_id


def status_of(campaign: MarketingCampaign, now: dt.datetime) -> CampaignStatus:
    if campaign.state == "ENDED" or now >= campaign.ends_at:
        return CampaignStatus.ENDED
    if campaign.state == "PAUSED":
        return CampaignStatus.PAUSED
    return CampaignStatus.SCHEDULED if now < campaign.starts_at else CampaignStatus.RUNNING


def status_sql(now: dt.datetime):
    """status_of as SQL, to filter lists."""
    return case((MarketingCampaign.state == "ENDED", "ENDED"), (MarketingCampaign.ends_at <= now, "ENDED"),
                (MarketingCampaign.state == "PAUSED", "PAUSED"), (MarketingCampaign.starts_at > now, "SCHEDULED"),
                else_="RUNNING")


def running(now: dt.datetime | ColumnElement[dt.datetime]) -> tuple[ColumnElement[bool], ...]:
    """The conditions of a campaign that reaches members now."""
    return (MarketingCampaign.state == "LIVE", MarketingCampaign.starts_at <= now, MarketingCampaign.ends_at > now)


def treated_sql(campaign_id, customer_id, control_share):
    """True when the member is on the treated side of the campaign: the first 32 bits of
    md5("campaign:member") as a fraction of 2^32, at or above the control share. The same member
    is always on the same side of the same campaign, whoever computes it and when."""
    campaign_id = literal(campaign_id) if isinstance(campaign_id, int) else campaign_id
    key = func.concat(campaign_id, literal(":"), customer_id)
    bits = cast(cast(func.concat(literal("x"), func.substr(func.md5(key), 1, 8)), BIT(32)), BigInteger)
    return bits / 4294967296.0 >= control_share


async def create(session: AsyncSession, *, actor: Staff, name: str, trigger: CampaignTrigger,
                 rule: audiences.Rule, offer_campaign_id: int | None, template_id: str, starts_at: dt.datetime,
                 ends_at: dt.datetime, control_share: float, radius_m: int | None, delay_minutes: int | None,
                 now: dt.datetime) -> MarketingCampaign:
    f = ["input"]
    store_id = confine(actor, rule)
    name = " ".join((name or "").split())
    if not 0 < len(name) <= MAX_NAME or not clean_text(name):
        raise InvalidInput("A name is 1 to {n} characters", n=MAX_NAME, field=[*f, "name"])
    audiences.check_template_id(template_id, [*f, "templateId"])
    for field, value in (("startsAt", starts_at), ("endsAt", ends_at)):
        if value.tzinfo is None:
            raise InvalidInput("Give the time with its UTC offset", field=[*f, field])
    if ends_at <= starts_at:
        raise InvalidInput("The campaign must end after it starts", field=[*f, "endsAt"])
    if ends_at <= now:
        raise InvalidInput("The campaign would already be over", field=[*f, "endsAt"])
    limit = dt.timedelta(days=MAX_DAYS_AHEAD)
    if starts_at > now + limit or ends_at - starts_at > limit:
        raise InvalidInput("A campaign starts within a year and lasts at most a year", field=[*f, "endsAt"])
    if not 0 <= control_share <= MAX_CONTROL_SHARE:  # NaN fails too
        raise InvalidInput("The control share is 0 to 0.5", field=[*f, "controlShare"])
    if trigger == CampaignTrigger.STORE_NEARBY:
        radius_m = DEFAULT_RADIUS_M if radius_m is None else radius_m
        if not MIN_RADIUS_M <= radius_m <= MAX_RADIUS_M:
            raise InvalidInput("The radius is {low} to {high} metres", low=MIN_RADIUS_M, high=MAX_RADIUS_M,
                               field=[*f, "radiusMeters"])
    elif radius_m is not None:
        raise InvalidInput("Only STORE_NEARBY campaigns have a radius", field=[*f, "radiusMeters"])
    if trigger in DELAYED:
        delay_minutes = 0 if delay_minutes is None else delay_minutes
        if not 0 <= delay_minutes <= MAX_DELAY_MINUTES:
            raise InvalidInput("The delay is 0 to {n} minutes", n=MAX_DELAY_MINUTES, field=[*f, "delayMinutes"])
    elif delay_minutes is not None:
        raise InvalidInput("Only delayed triggers have a delay", field=[*f, "delayMinutes"])
    rule = await audiences.checked(session, rule, [*f, "audience"])
    if offer_campaign_id is not None:
        offer = await session.get(CouponCampaign, offer_campaign_id)
        if offer is None:
            raise NotFound("No such coupon campaign", field=[*f, "offerCampaignId"])
        if offer.valid_until <= now:
            raise DomainError("That coupon campaign is over", code=Code.INVALID_STATE, field=[*f, "offerCampaignId"])
    campaign = MarketingCampaign(
        name=name, trigger=trigger.value, audience=rule.to_json(), offer_campaign_id=offer_campaign_id,
        template_id=template_id, starts_at=starts_at, ends_at=ends_at, control_share=control_share,
        radius_m=radius_m, delay_minutes=delay_minutes, store_id=store_id, created_by_id=actor.id, created_at=now)
    session.add(campaign)
    await session.flush()
    return campaign


async def editable(session: AsyncSession, actor: Staff, campaign_id: int, *, lock: bool = False
                   ) -> MarketingCampaign:
    """The campaign if the actor may see and run it: HQ any, a store manager their store's."""
    stmt = select(MarketingCampaign).where(MarketingCampaign.id == campaign_id)
    campaign = (await session.execute(stmt.with_for_update() if lock else stmt)).scalar_one_or_none()
    if campaign is None or not visible_to(actor, campaign):
        raise NotFound("No such campaign", field=["id"])
    return campaign


def visible_to(actor: Staff, campaign: MarketingCampaign) -> bool:
    if permissions.is_hq(actor):
        return True
    return actor.role == StaffRole.STORE_MANAGER and campaign.store_id == actor.store_id


async def set_status(session: AsyncSession, *, actor: Staff, campaign_id: int, status: CampaignStatus,
                     now: dt.datetime) -> MarketingCampaign:
    """SCHEDULED/RUNNING <-> PAUSED (both mean "go": the calendar says which), anything -> ENDED,
    nothing after ENDED. Ending withdraws the messages still waiting."""
    campaign = await editable(session, actor, campaign_id, lock=True)
    if status_of(campaign, now) == CampaignStatus.ENDED:
        raise DomainError("This campaign has ended", code=Code.INVALID_STATE, field=["status"])
    campaign.state = {CampaignStatus.PAUSED: "PAUSED", CampaignStatus.ENDED: "ENDED"}.get(status, "LIVE")
    if campaign.state == "ENDED":
        await session.execute(update(MarketingMessage).where(
            MarketingMessage.campaign_id == campaign.id, MarketingMessage.status == "PENDING")
            .values(status="CANCELLED"))
    await session.flush()
    return campaign


async def listed(session: AsyncSession, *, actor: Staff, status: CampaignStatus | None, now: dt.datetime,
                 limit: int = 200) -> Sequence[MarketingCampaign]:
    if not permissions.is_hq(actor) and actor.role != StaffRole.STORE_MANAGER:
        raise Forbidden("Campaigns are for HQ and store managers")
    stmt = select(MarketingCampaign)
    if not permissions.is_hq(actor):
        stmt = stmt.where(MarketingCampaign.store_id == actor.store_id)
    if status is not None:
        stmt = stmt.where(status_sql(now) == status.value)
    return (await session.execute(stmt.order_by(MarketingCampaign.id.desc()).limit(limit))).scalars().all()
