"""Subscribe-message credits (API-NOTES "Marketing"): each template a customer accepted in
wx.requestSubscribeMessage gives one credit; a send spends one."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.clock import utcnow
from storelink.errors import InvalidInput
from storelink.marketing.audience import check_template_id
from storelink.marketing.models import MessageCredit

MAX_TEMPLATES = 20  # WeChat asks for at most 3 at a time; a client may batch a few prompts


async def record(session: AsyncSession, *, customer_id: int, accepted: Sequence[str]) -> list[tuple[str, int]]:
    """One credit per accepted template (named twice in one call: once); the named templates'
    credits afterwards, in the order named."""
    if len(accepted) > MAX_TEMPLATES:
        raise InvalidInput("At most {n} templates at a time", n=MAX_TEMPLATES, field=["acceptedTemplateIds"])
    named = list(dict.fromkeys(check_template_id(t, ["acceptedTemplateIds", str(i)]) for i, t in enumerate(accepted)))
    if not named:
        return []
    now = utcnow()
    rows = await session.execute(
        insert(MessageCredit).values([{"customer_id": customer_id, "template_id": t, "credits": 1, "updated_at": now}
                                      for t in named])
        .on_conflict_do_update(index_elements=[MessageCredit.customer_id, MessageCredit.template_id],
                               set_={"credits": MessageCredit.credits + 1, "updated_at": now})
        .returning(MessageCredit.template_id, MessageCredit.credits))
    credits = dict(rows.all())
    return [(t, credits[t]) for t in named]


async def credits_of(session: AsyncSession, customer_ids: Sequence[int]) -> dict[int, list[tuple[str, int]]]:
    found: dict[int, list[tuple[str, int]]] = {c: [] for c in customer_ids}
    rows = await session.execute(
        select(MessageCredit.customer_id, MessageCredit.template_id, MessageCredit.credits)
        .where(MessageCredit.customer_id.in_(customer_ids), MessageCredit.credits > 0)
        .order_by(MessageCredit.customer_id, MessageCredit.template_id))
    for customer_id, template_id, credits in rows:
        found[customer_id].append((template_id, credits))
    return found
