"""What came of a shown recommendation: feedback, a push into the cart, and the paid order it led
to (a paid order containing the recommended SKU within 7 days of showing it)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Select, select, update
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.accounts import permissions
from storelink.accounts.models import Customer, Staff
from storelink.clock import utcnow
from storelink.recommend.models import RecoShown

ATTRIBUTION_WINDOW = dt.timedelta(days=7)
_FEEDBACK_COLUMN = {"CLICKED": "clicked_at", "ADDED_TO_CART": "added_at", "DISMISSED": "dismissed_at"}


async def record_feedback(session: AsyncSession, *, shown_id: int, feedback: str, customer: Customer | None,
                          staff: Staff | None) -> bool:
    """False when there is no such recommendation shown to this caller (nothing is recorded)."""
    shown = await session.get(RecoShown, shown_id)
    if shown is None:
        return False
    if customer is not None and shown.customer_id != customer.id:
        return False
    if staff is not None and not (shown.staff_id == staff.id
                                  or (shown.store_id is not None and permissions.can_see_store(staff, shown.store_id))):
        return False
    column = _FEEDBACK_COLUMN[feedback]
    if getattr(shown, column) is None:  # the first time counts
        setattr(shown, column, utcnow())
        await session.flush()
    return True


async def for_push(session: AsyncSession, *, shown_id: int, customer_id: int, sku_id: int) -> RecoShown | None:
    """The recommendation a push comes from, when it was one for this member and SKU."""
    shown = await session.get(RecoShown, shown_id, with_for_update=True)
    if shown is None or shown.customer_id != customer_id or shown.sku_id != sku_id:
        return None
    if shown.pushed_at is None:
        shown.pushed_at = utcnow()
    return shown


async def attribute(session: AsyncSession, *, order_id: int, customer_id: int | None,
                    sku_ids: Sequence[int] | Select, paid_at: dt.datetime) -> int:
    """Credit a paid order to the latest recommendation of each of its SKUs (ids, or a subquery
    of them) shown to the member in the 7 days before; returns how many were credited."""
    if customer_id is None or (isinstance(sku_ids, Sequence) and not sku_ids):
        return 0
    latest = (
        select(RecoShown.id)
        .where(RecoShown.customer_id == customer_id, RecoShown.sku_id.in_(sku_ids), RecoShown.order_id.is_(None),
               RecoShown.created_at >= paid_at - ATTRIBUTION_WINDOW, RecoShown.created_at <= paid_at)
        .ext(distinct_on(RecoShown.sku_id)).order_by(RecoShown.sku_id, RecoShown.created_at.desc())
    )
    done = await session.execute(
        update(RecoShown).where(RecoShown.id.in_(latest)).values(order_id=order_id, attributed_at=utcnow())
        .returning(RecoShown.id)
    )
    return len(done.all())
