"""Sending marketing messages: the worker's batches of campaign messages, and the rules every
marketing message obeys, a guide's one-to-one ones too (API-NOTES "Marketing"):

- no marketing consent or no subscription credit for the template: unreachable, nothing sent;
- at most MARKETING_MAX_PER_WEEK sent to a member in any 7 days: the rest are suppressed;
- none during MARKETING_QUIET_HOURS in the campaign's store's timezone, else the member's join
  store's, else the brand's: the message waits until they end;
- WeChat's 43101 (the user refused) spends the credit and is final; other WeChat errors are
  retried with the outbox's backoff.

A batch locks its message rows and their customers' rows (SKIP LOCKED), so two workers never
take the same message nor two messages of the same member at once, and the cap is exact. The
messages of one batch are sent concurrently, then their outcomes written in a few statements.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from storelink.accounts.models import Customer
from storelink.clock import utcnow
from storelink.db import transaction
from storelink.ids import global_id
from storelink.loyalty import service as loyalty
from storelink.loyalty.models import CouponCampaign
from storelink.marketing import audience
from storelink.marketing.models import MarketingCampaign, MarketingMessage, MessageCredit
from storelink.members.models import Membership
from storelink.outbox.service import MAX_ATTEMPTS, backoff
from storelink.settings import Settings
from storelink.stores.models import Store
from storelink.wechat.client import WeChatClient, WeChatError, WeChatUnavailable

log = logging.getLogger(__name__)

WEEK = dt.timedelta(days=7)
USER_REFUSED = 43101  # WeChat: the user has no subscription for this template (or turned it off)
BATCH = 500
_MESSAGES = MarketingMessage.__table__  # core updates of many rows at once (executemany)
CONCURRENT_SENDS = 64


def quiet_until(now: dt.datetime, tz: str, window: str) -> dt.datetime | None:
    """When the quiet hours `window` ("21:00-09:00") that `now` falls in end, or None outside them."""
    start, end = (dt.time.fromisoformat(t) for t in window.split("-"))
    if start == end:
        return None
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    t = local.time()
    if start < end:
        quiet, end_day = start <= t < end, local.date()
    else:  # over midnight
        quiet = t >= start or t < end
        end_day = local.date() + dt.timedelta(days=1) if t >= start else local.date()
    if not quiet:
        return None
    return dt.datetime.combine(end_day, end, tzinfo=zone).astimezone(dt.timezone.utc)


def sent_this_week_sql(customer_id, now: dt.datetime):
    earlier = aliased(MarketingMessage)
    return (select(func.count()).where(earlier.customer_id == customer_id, earlier.status == "SENT",
                                       earlier.sent_at > now - WEEK).scalar_subquery())


def blocked(*, consent: bool, credits: int, sent_this_week: int, settings: Settings) -> str | None:
    """Why a marketing message may not go to this member now (UNREACHABLE, SUPPRESSED), or None."""
    if not consent or credits <= 0:
        return "UNREACHABLE"
    if sent_this_week >= settings.marketing_max_per_week:
        return "SUPPRESSED"
    return None


async def spend_credits(session: AsyncSession, spent: list[tuple[int, str]]) -> None:
    if spent:
        credits = MessageCredit.__table__
        await session.execute(
            update(credits).where(credits.c.customer_id == bindparam("c"), credits.c.template_id == bindparam("t"),
                                  credits.c.credits > 0)
            .values(credits=credits.c.credits - 1), [{"c": c, "t": t} for c, t in spent])


@dataclass
class Due:
    id: int
    customer_id: int
    openid: str | None
    template_id: str
    campaign_id: int
    campaign_name: str
    ends_at: dt.datetime
    offer_campaign_id: int | None
    trigger: str
    coupon_id: int | None
    consent: bool
    credits: int
    sent_this_week: int
    timezone: str
    attempts: int


def _due(now: dt.datetime, settings: Settings, batch: int):
    m, k, c = MarketingMessage, MarketingCampaign, Customer
    campaign_store, join_store = aliased(Store), aliased(Store)
    timezone = func.coalesce(campaign_store.timezone, join_store.timezone, settings.brand_timezone)
    return (
        select(m.id, m.customer_id, c.openid, m.template_id, k.id, k.name, k.ends_at, k.offer_campaign_id,
               k.trigger, m.coupon_id, audience.consent_sql(m.customer_id), audience.credits_sql(m.customer_id, m.template_id),
               sent_this_week_sql(m.customer_id, now), timezone, m.attempts)
        .select_from(m).join(c, c.id == m.customer_id).join(k, k.id == m.campaign_id)
        .outerjoin(campaign_store, campaign_store.id == k.store_id)
        .outerjoin(Membership, Membership.customer_id == m.customer_id)
        .outerjoin(join_store, join_store.id == Membership.join_store_id)
        .where(m.status == "PENDING", m.due_at <= now, k.state == "LIVE")
        .order_by(m.due_at, m.id).limit(batch)
        .with_for_update(of=[m, c], skip_locked=True))


def message_data(name: str, offer: str | None, ends_at: dt.datetime, tz: str) -> dict:
    """The subscribe message's fields (the brand's templates: thing1 what, thing2 offer, time3 until)."""
    until = ends_at.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")
    return {"thing1": {"value": name[:20]}, "thing2": {"value": (offer or "会员专属活动")[:20]},
            "time3": {"value": until}}


async def deliver_due(sessionmaker: async_sessionmaker, wechat: WeChatClient, settings: Settings, *,
                      now: dt.datetime | None = None, batch: int = BATCH) -> int:
    """One batch of due campaign messages; returns how many were taken (sent or otherwise settled)."""
    now = now or utcnow()

    async def work(session: AsyncSession) -> int:
        rows = [Due(*r) for r in (await session.execute(_due(now, settings, batch))).all()]
        changes: list[dict] = []
        to_send: list[Due] = []
        members_taken: set[int] = set()
        for row in rows:
            if row.customer_id in members_taken:
                continue  # one message per member per batch: the cap counts what went before
            members_taken.add(row.customer_id)
            if row.openid is None or now >= row.ends_at:
                changes.append({"i": row.id, "s": "CANCELLED", "at": None, "due": now})
            elif (wait := quiet_until(now, row.timezone, settings.marketing_quiet_hours)) is not None:
                changes.append({"i": row.id, "s": "PENDING", "at": None, "due": wait})
            elif (why := blocked(consent=row.consent, credits=row.credits, sent_this_week=row.sent_this_week,
                                 settings=settings)) is not None:
                changes.append({"i": row.id, "s": why, "at": None, "due": now})
            else:
                to_send.append(row)
        offers = await _offer_titles(session, {r.offer_campaign_id for r in to_send if r.offer_campaign_id})
        outcomes = await _send_all(wechat, to_send, offers)
        spent: list[tuple[int, str]] = []
        errors: dict[int, tuple[int, str]] = {}
        reached: dict[int, dict[int, int]] = {}
        for row, outcome in zip(to_send, outcomes):
            if outcome is None:
                changes.append({"i": row.id, "s": "SENT", "at": now, "due": now})
                spent.append((row.customer_id, row.template_id))
                if row.offer_campaign_id is not None and row.coupon_id is None:
                    reached.setdefault(row.offer_campaign_id, {})[row.customer_id] = row.id
            elif isinstance(outcome, WeChatError) and outcome.errcode == USER_REFUSED:
                changes.append({"i": row.id, "s": "FAILED", "at": None, "due": now})
                spent.append((row.customer_id, row.template_id))
                errors[row.id] = (row.attempts + 1, str(outcome)[:300])
            else:
                attempts = row.attempts + 1
                final = attempts >= MAX_ATTEMPTS
                changes.append({"i": row.id, "s": "FAILED" if final else "PENDING", "at": None,
                                "due": now if final else now + backoff(attempts)})
                errors[row.id] = (attempts, str(outcome)[:300])
        if changes:
            await session.execute(
                update(_MESSAGES).where(_MESSAGES.c.id == bindparam("i"))
                .values(status=bindparam("s"), sent_at=bindparam("at"), due_at=bindparam("due")), changes)
        if errors:
            await session.execute(
                update(_MESSAGES).where(_MESSAGES.c.id == bindparam("i"))
                .values(attempts=bindparam("a"), last_error=bindparam("e")),
                [{"i": i, "a": a, "e": e} for i, (a, e) in errors.items()])
        await spend_credits(session, spent)
        await _give_coupons(session, reached, now, settings)
        return len(changes)

    return await transaction(sessionmaker, work)


async def _offer_titles(session: AsyncSession, offer_ids: set[int]) -> dict[int | None, str]:
    if not offer_ids:
        return {}
    return dict((await session.execute(
        select(CouponCampaign.id, CouponCampaign.title).where(CouponCampaign.id.in_(offer_ids)))).all())


async def _send_all(wechat: WeChatClient, rows: list[Due], offers: dict[int | None, str]) -> list[Exception | None]:
    gate = asyncio.Semaphore(CONCURRENT_SENDS)

    async def send(row: Due) -> Exception | None:
        assert row.openid is not None  # rows without one were set aside
        async with gate:
            try:
                await wechat.send_subscribe_message(
                    touser=row.openid, template_id=row.template_id,
                    page=f"pages/campaign/index?id={global_id('MarketingCampaign', row.campaign_id)}",
                    data=message_data(row.campaign_name, offers.get(row.offer_campaign_id), row.ends_at,
                                      row.timezone))
            except (WeChatError, WeChatUnavailable) as exc:
                return exc
            return None

    return list(await asyncio.gather(*(send(r) for r in rows)))


async def _give_coupons(session: AsyncSession, reached: dict[int, dict[int, int]], now: dt.datetime,
                        settings: Settings) -> None:
    """The offer goes to the treated members a message reached (offer -> {customer: message});
    the coupon is kept on their message."""
    for offer_id, message_of in reached.items():
        issued = await loyalty.issue(session, campaign_id=offer_id, customer_ids=list(message_of), now=now,
                                     settings=settings)
        if issued.coupons:
            await session.execute(
                update(_MESSAGES).where(_MESSAGES.c.id == bindparam("i")).values(coupon_id=bindparam("k")),
                [{"i": message_of[c], "k": coupon.id} for c, coupon in issued.coupons.items()])
