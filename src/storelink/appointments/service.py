"""Service types (HQ catalogue of in-store services) and each store's booking settings."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.accounts import permissions
from storelink.accounts.models import Staff
from storelink.appointments.models import ServiceType, StoreService
from storelink.clock import utcnow
from storelink.errors import InvalidInput, NotFound
from storelink.stores import service as store_service
from storelink.stores.models import Store

MAX_DURATION_MINUTES = 12 * 60


async def upsert_service_type(
    session: AsyncSession,
    *,
    actor: Staff,
    code: str,
    name: str,
    description: str | None,
    duration_minutes: int,
) -> ServiceType:
    permissions.ensure_hq(actor)
    f = ["input"]
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("Name must be 1-100 characters", field=f + ["name"])
    if description is not None and len(description) > 1000:
        raise InvalidInput("At most 1000 characters", field=f + ["description"])
    if not 0 < duration_minutes <= MAX_DURATION_MINUTES:
        raise InvalidInput("Duration must be 1 to {n} minutes", n=MAX_DURATION_MINUTES, field=f + ["durationMinutes"])
    values = {"name": name, "description": description, "duration_minutes": duration_minutes}
    stmt = (
        insert(ServiceType)
        .values(code=store_service.check_code(code, f + ["code"]), created_at=utcnow(), **values)
        .on_conflict_do_update(index_elements=[ServiceType.code], set_=values)
        .returning(ServiceType.id)
    )
    service_id = (await session.execute(stmt)).scalar_one()
    service = await session.get(ServiceType, service_id, populate_existing=True)
    assert service is not None
    return service


def _in_range(value: int, low: int, high: int, field: str) -> None:
    if not low <= value <= high:
        raise InvalidInput("Must be {low} to {high}", low=low, high=high, field=["input", field])


async def configure_store_service(
    session: AsyncSession,
    *,
    actor: Staff,
    store_id: int,
    service_id: int,
    capacity: int,
    slot_interval_minutes: int,
    min_notice_minutes: int,
    booking_window_days: int,
    cancel_cutoff_minutes: int,
    active: bool,
) -> Store:
    store = await store_service.require_store(session, store_id, ["input", "storeId"])
    permissions.ensure_manages_store(actor, store_id)
    if await session.get(ServiceType, service_id) is None:
        raise NotFound("No such service", field=["input", "serviceId"])
    _in_range(capacity, 1, 500, "capacity")
    _in_range(slot_interval_minutes, 5, 240, "slotIntervalMinutes")
    _in_range(min_notice_minutes, 0, 7 * 24 * 60, "minNoticeMinutes")
    _in_range(booking_window_days, 1, 365, "bookingWindowDays")
    _in_range(cancel_cutoff_minutes, 0, 7 * 24 * 60, "cancelCutoffMinutes")
    values = {
        "capacity": capacity,
        "slot_interval_minutes": slot_interval_minutes,
        "min_notice_minutes": min_notice_minutes,
        "booking_window_days": booking_window_days,
        "cancel_cutoff_minutes": cancel_cutoff_minutes,
        "active": active,
        "updated_at": utcnow(),
    }
    await session.execute(
        insert(StoreService)
        .values(store_id=store_id, service_id=service_id, **values)
        .on_conflict_do_update(
            index_elements=[StoreService.store_id, StoreService.service_id], set_=values
        )
    )
    return store


async def active_services_by_store(
    session: AsyncSession, store_ids: Sequence[int]
) -> dict[int, list[ServiceType]]:
    rows = await session.execute(
        select(StoreService.store_id, ServiceType)
        .join(ServiceType, ServiceType.id == StoreService.service_id)
        .where(StoreService.store_id.in_(store_ids), StoreService.active.is_(True))
        .order_by(StoreService.store_id, ServiceType.id)
    )
    found: dict[int, list[ServiceType]] = defaultdict(list)
    for store_id, service in rows:
        found[store_id].append(service)
    return found

