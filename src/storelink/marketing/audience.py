"""Audiences: a rule over members (segments, tiers, stores, tags, days since the last paid order),
evaluated in SQL when it is needed, never stored as a list (API-NOTES "Marketing").

Every non-empty condition must hold. The segment, tier and tags are the same rules the member's
profile shows (kpi/segments.py, loyalty tiers), written as SQL over each member's own orders so
one statement counts or lists an audience of any size.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Integer, Select, String, and_, any_, bindparam, case, func, or_, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.accounts.models import Customer, Staff
from storelink.errors import InvalidInput, NotFound
from storelink.kpi import segments
from storelink.loyalty.models import TIER_WINDOW
from storelink.marketing.models import MessageCredit
from storelink.members.models import ConsentRecord, Membership
from storelink.orders.models import PAID_STATUSES, Order
from storelink.settings import Settings
from storelink.stores.models import Store

MAX_TAGS = 10
MAX_STORES = 100
MAX_DAYS = 3650
TEMPLATE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class Rule:
    segments: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()
    store_ids: tuple[int, ...] = ()
    tags: tuple[str, ...] = ()
    last_purchase_min_days: int | None = None
    last_purchase_max_days: int | None = None

    def to_json(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, data: dict) -> "Rule":
        fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**fields)


def check_template_id(template_id: str, field: list[str]) -> str:
    """WeChat's template ids: 1-64 characters of A-Z a-z 0-9 _ -."""
    if not TEMPLATE_ID.fullmatch(template_id or ""):
        raise InvalidInput("A template id is 1-64 letters, digits, _ or -", field=field)
    return template_id


async def checked(session: AsyncSession, rule: Rule, field: list[str]) -> Rule:
    """The rule with its tags trimmed, or INVALID_INPUT / NOT_FOUND for what cannot be."""
    tags = tuple(dict.fromkeys(t.strip() for t in rule.tags))
    if len(tags) > MAX_TAGS or any(not 0 < len(t) <= 30 for t in tags):
        raise InvalidInput("At most {n} tags of 1-30 characters", n=MAX_TAGS, field=[*field, "tags"])
    for name, days in (("lastPurchaseMinDays", rule.last_purchase_min_days),
                       ("lastPurchaseMaxDays", rule.last_purchase_max_days)):
        if days is not None and not 0 <= days <= MAX_DAYS:
            raise InvalidInput("Days must be 0 to {n}", n=MAX_DAYS, field=[*field, name])
    low, high = rule.last_purchase_min_days, rule.last_purchase_max_days
    if low is not None and high is not None and low > high:
        raise InvalidInput("The minimum days must not exceed the maximum", field=[*field, "lastPurchaseMaxDays"])
    store_ids = tuple(dict.fromkeys(rule.store_ids))
    if len(store_ids) > MAX_STORES:
        raise InvalidInput("At most {n} stores", n=MAX_STORES, field=[*field, "storeIds"])
    if store_ids:
        found = set((await session.execute(select(Store.id).where(Store.id.in_(store_ids)))).scalars())
        if len(found) != len(store_ids):
            raise NotFound("No such store", field=[*field, "storeIds"])
    return Rule(tuple(dict.fromkeys(rule.segments)), tuple(dict.fromkeys(rule.tiers)), store_ids, tags,
                rule.last_purchase_min_days, rule.last_purchase_max_days)


# A member's tags as the profile shows them: the categories and product tags of the last 365
# days' paid orders, most units first, the first MEMBER_TAGS_MAX (kpi/segments.tags).
_TAGS_HELD = text("""
    (SELECT coalesce(array_agg(t.word), '{}') FROM (
        SELECT w.word FROM sales_order o
        JOIN order_line ol ON ol.order_id = o.id
        JOIN sku ON sku.id = ol.sku_id
        JOIN product p ON p.id = sku.product_id
        CROSS JOIN LATERAL unnest(array_prepend(p.category::text, p.tags::text[])) AS w(word)
        WHERE o.customer_id = membership.customer_id AND o.status = ANY(:tag_statuses)
          AND o.paid_at >= :tag_since
        GROUP BY w.word ORDER BY sum(ol.quantity) DESC, w.word LIMIT :tag_limit) t) @> CAST(:tags_wanted AS text[])
""")


def members(rule: Rule, now: dt.datetime, settings: Settings) -> Select:
    """SELECT membership.id, membership.customer_id of the members the rule matches now."""
    paid = Order.status.in_(PAID_STATUSES)
    stmt = (select(Membership.id, Membership.customer_id).join(Customer, Customer.id == Membership.customer_id)
            .where(Customer.deleted_at.is_(None)))
    if rule.store_ids:
        # One array parameter, not an IN list of up to 100 (which SQLAlchemy renders on every execution).
        stores = any_(bindparam(None, list(rule.store_ids), type_=ARRAY(Integer)))
        guides_there = select(Staff.id).where(Staff.store_id == stores).scalar_subquery()
        stmt = stmt.where(or_(Membership.join_store_id == stores, Membership.guide_id.in_(guides_there)))
    if rule.segments or rule.last_purchase_min_days is not None or rule.last_purchase_max_days is not None:
        stmt, facts = segments.with_facts(stmt)
    if rule.segments:
        stmt = stmt.where(segments.segment_of(facts).in_(rule.segments)).params(segments.windows(now, settings))
    if rule.tiers:
        spend = (select(func.coalesce(func.sum(Order.total_fen), 0))
                 .where(Order.customer_id == Membership.customer_id, paid, Order.paid_at >= now - TIER_WINDOW)
                 .scalar_subquery())
        tier = case((spend >= settings.tier_platinum_fen, "PLATINUM"), (spend >= settings.tier_gold_fen, "GOLD"),
                    (spend >= settings.tier_silver_fen, "SILVER"), else_="REGULAR")
        stmt = stmt.where(tier.in_(rule.tiers))
    if rule.last_purchase_min_days is not None or rule.last_purchase_max_days is not None:
        last = facts.c.last_paid_at
        if rule.last_purchase_min_days is not None:
            stmt = stmt.where(or_(last.is_(None), last <= now - dt.timedelta(days=rule.last_purchase_min_days)))
        if rule.last_purchase_max_days is not None:
            stmt = stmt.where(last >= now - dt.timedelta(days=rule.last_purchase_max_days))
    if rule.tags:
        stmt = stmt.where(_TAGS_HELD.bindparams(
            bindparam("tag_statuses", list(PAID_STATUSES), type_=ARRAY(String)),
            bindparam("tag_since", now - segments.TAG_WINDOW),
            bindparam("tag_limit", settings.member_tags_max),
            bindparam("tags_wanted", list(rule.tags), type_=ARRAY(String))))
    return stmt


def stores_only(rule: Rule) -> bool:
    """A rule of stores alone (or of nothing): holds_by_stores answers it without SQL."""
    return not (rule.segments or rule.tiers or rule.tags or rule.last_purchase_min_days is not None
                or rule.last_purchase_max_days is not None)


def holds_by_stores(rule: Rule, member_stores: set[int]) -> bool:
    """members()'s store condition for one member whose stores (where they joined, their guide's)
    are known: the same rule, for a rule of stores alone."""
    return not rule.store_ids or bool(member_stores & set(rule.store_ids))


def consent_sql(customer_id):
    """The member's latest marketing choice (false when never asked)."""
    return func.coalesce(
        select(ConsentRecord.granted)
        .where(ConsentRecord.customer_id == customer_id, ConsentRecord.kind == "MARKETING")
        .order_by(ConsentRecord.id.desc()).limit(1).scalar_subquery(), False)


def credits_sql(customer_id, template_id):
    """The member's subscription credits for a template (0 when none)."""
    return func.coalesce(select(MessageCredit.credits).where(
        MessageCredit.customer_id == customer_id, MessageCredit.template_id == template_id).scalar_subquery(), 0)


async def size(session: AsyncSession, rule: Rule, *, template_id: str | None, now: dt.datetime,
               settings: Settings) -> tuple[int, int]:
    """(members the rule matches, of those reachable by a marketing message now): one statement."""
    reachable = consent_sql(Membership.customer_id)
    if template_id is not None:
        reachable = and_(reachable, credits_sql(Membership.customer_id, template_id) > 0)
    matched = members(rule, now, settings).add_columns(reachable.label("reachable")).subquery()
    total, reached = (await session.execute(
        select(func.count(), func.count().filter(matched.c.reachable)).select_from(matched))).one()
    return total, reached


async def contains(session: AsyncSession, rule: Rule, customer_id: int, *, now: dt.datetime,
                   settings: Settings) -> bool:
    return (await session.execute(
        select(members(rule, now, settings).where(Membership.customer_id == customer_id).exists()))).scalar_one()

