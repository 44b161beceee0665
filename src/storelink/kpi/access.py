"""Who may see which KPIs: a guide their own figures, a store manager their store and its guides,
HQ everything; a leaderboard of every store's guides is HQ's only."""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storelink.accounts import permissions
from storelink.accounts.models import Staff, StaffRole
from storelink.errors import Forbidden, NotFound
from storelink.stores import service as store_service
from storelink.stores.models import Store


async def store_for(session: AsyncSession, viewer: Staff, store_id: int) -> Store:
    store = await store_service.require_store(session, store_id, ["storeId"])
    if not permissions.can_manage_store(viewer, store_id):
        raise Forbidden("Only HQ or this store's manager may see its figures")
    return store


async def guide_for(session: AsyncSession, viewer: Staff, guide_id: int) -> tuple[Staff, Store]:
    guide = await session.get(Staff, guide_id)
    if guide is None or guide.role != StaffRole.GUIDE:
        raise NotFound("No such guide", field=["guideId"])
    if not (viewer.id == guide.id or permissions.can_manage_store(viewer, guide.store_id)):
        raise Forbidden("You may see your own figures only")
    store = await session.get(Store, guide.store_id) if guide.store_id is not None else None
    if store is None:
        raise NotFound("No such guide", field=["guideId"])  # a guide always has a store
    return guide, store


async def leaderboard_scope(session: AsyncSession, viewer: Staff, store_id: int | None) -> Store | None:
    if store_id is None:
        permissions.ensure_hq(viewer)
        return None
    return await store_for(session, viewer, store_id)
