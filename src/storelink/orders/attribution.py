"""Who an order is credited to (API-NOTES, "Attribution and KPIs").

A STORE order: the store where it was sold and its serving guide. An ONLINE order: the guide who
pushed a line into the cart in the last 7 days (the most recent push), otherwise the member's
exclusive guide at order time, and that guide's store. With no guide at all, the store the member
joined at is credited (so a store-QR join still counts for its store). `service_guide` is the
exclusive guide at order time either way.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from storelink.accounts.models import Staff
from storelink.members.models import Membership
from storelink.orders.models import CartLine

PUSH_CREDIT_WINDOW = dt.timedelta(days=7)


@dataclass(frozen=True)
class Credit:
    store_id: int | None
    guide_id: int | None
    service_guide_id: int | None


async def credit_online(session: AsyncSession, *, membership: Membership | None,
                        lines: Sequence[CartLine], now: dt.datetime) -> Credit:
    exclusive = membership.guide_id if membership else None
    pushes = [ln for ln in lines
              if ln.added_by_guide_id is not None and ln.pushed_at is not None
              and ln.pushed_at >= now - PUSH_CREDIT_WINDOW]
    guide_id = max(pushes, key=lambda ln: (ln.pushed_at, ln.id)).added_by_guide_id if pushes else exclusive
    store_id = None
    if guide_id is not None:
        guide = await session.get(Staff, guide_id)
        store_id = guide.store_id if guide else None
    if store_id is None and membership is not None:
        store_id = membership.join_store_id
    return Credit(store_id=store_id, guide_id=guide_id, service_guide_id=exclusive)


def credit_store_sale(*, store_id: int, serving_guide_id: int | None, membership: Membership | None) -> Credit:
    return Credit(store_id=store_id, guide_id=serving_guide_id,
                  service_guide_id=membership.guide_id if membership else None)
