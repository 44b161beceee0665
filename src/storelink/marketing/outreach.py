"""sendToMember: a guide's one-to-one message to a member of their own book (their bound members),
with an optional coupon and products (API-NOTES "Marketing"). It is a marketing message like any
other: it needs consent and a credit, and counts against the weekly cap. Quiet hours do not hold
it back: the guide is sending it now, by hand. Its orders are credited to the guide as every
order of their bound member is."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.accounts.models import Staff, StaffRole
from storelink.accounts.service import live_customer
from storelink.catalog.models import Product
from storelink.errors import Code, DomainError, Forbidden, InvalidInput, NotFound, RateLimited
from storelink.ids import global_id
from storelink.limits import clean_text
from storelink.loyalty import service as loyalty
from storelink.loyalty.models import Coupon
from storelink.marketing import audience, sending
from storelink.marketing.audience import check_template_id
from storelink.marketing.models import MarketingMessage
from storelink.members.models import Membership
from storelink.settings import Settings
from storelink.wechat.client import WeChatClient, WeChatError, WeChatUnavailable

MAX_PRODUCTS = 10
MAX_NOTE = 20  # a subscribe message's "thing" field holds 20 characters


async def send(session: AsyncSession, wechat: WeChatClient, *, guide: Staff, membership_id: int, template_id: str,
               coupon_campaign_id: int | None, product_ids: Sequence[int], note: str | None, now: dt.datetime,
               settings: Settings) -> Coupon | None:
    """Sends at once; the coupon given with it, if any. A refusal raises and leaves nothing behind
    but a credit WeChat spent (43101)."""
    if guide.role not in (StaffRole.GUIDE, StaffRole.STORE_MANAGER):
        raise Forbidden("One-to-one messages are a guide's, to their own members")
    check_template_id(template_id, ["templateId"])
    if note is not None:
        note = " ".join(note.split())
        if not 0 < len(note) <= MAX_NOTE or not clean_text(note):
            raise InvalidInput("A note is 1 to {n} characters", n=MAX_NOTE, field=["note"])
    products = list(dict.fromkeys(product_ids))
    if len(products) > MAX_PRODUCTS:
        raise InvalidInput("At most {n} products", n=MAX_PRODUCTS, field=["productIds"])
    if products and len((await session.execute(select(Product.id).where(
            Product.id.in_(products), Product.active))).all()) != len(products):
        raise NotFound("No such product", field=["productIds"])
    membership = await session.get(Membership, membership_id)
    if membership is None or membership.guide_id != guide.id:
        raise NotFound("No such member in your book", field=["memberId"])
    customer = await live_customer(session, membership.customer_id, lock=True, field=["memberId"])
    consent, credits, this_week = (await session.execute(select(
        audience.consent_sql(customer.id), audience.credits_sql(customer.id, template_id),
        sending.sent_this_week_sql(customer.id, now)))).one()
    why = sending.blocked(consent=consent, credits=credits, sent_this_week=this_week, settings=settings)
    if why == "UNREACHABLE" or customer.openid is None:  # one known only by phone has no WeChat to reach
        raise DomainError("This member has not agreed to marketing messages of this template",
                          code=Code.NOT_ELIGIBLE, field=["templateId"])
    if why == "SUPPRESSED":
        raise RateLimited("This member has had {n} marketing messages this week",
                          n=settings.marketing_max_per_week)
    coupon = None
    if coupon_campaign_id is not None:  # claim's rules: running, quantity, limit, its audience
        coupon = await loyalty.claim(session, customer_id=customer.id, campaign_id=coupon_campaign_id,
                                     settings=settings, field=["couponCampaignId"])
    page = "pages/outreach/index?from=" + global_id("Staff", guide.id)
    if products:
        page += "&products=" + ",".join(global_id("Product", p) for p in products)
    try:
        await wechat.send_subscribe_message(touser=customer.openid, template_id=template_id, page=page, data={
            "thing1": {"value": (note or "导购为你挑选了新品")[:20]},
            "thing2": {"value": "专属优惠券已放入卡包" if coupon else "点击查看"},
            "time3": {"value": now.astimezone(ZoneInfo(settings.brand_timezone)).strftime("%Y-%m-%d %H:%M")}})
    except WeChatError as exc:
        spend = [(customer.id, template_id)] if exc.errcode == sending.USER_REFUSED else []
        raise DomainError("WeChat did not deliver the message", code=Code.NOT_ELIGIBLE if spend else
                          Code.UPSTREAM_UNAVAILABLE, field=["templateId"] if spend else None,
                          bookkeeping=lambda s: sending.spend_credits(s, spend)) from None
    except WeChatUnavailable:
        raise DomainError("WeChat could not be reached; try again", code=Code.UPSTREAM_UNAVAILABLE) from None
    await sending.spend_credits(session, [(customer.id, template_id)])
    session.add(MarketingMessage(guide_id=guide.id, customer_id=customer.id, status="SENT", template_id=template_id,
                                 eligible_at=now, due_at=now, sent_at=now, coupon_id=coupon.id if coupon else None))
    await session.flush()
    return coupon
