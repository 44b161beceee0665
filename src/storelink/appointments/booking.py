"""Bookings of in-store services: slots, booking, cancelling, rescheduling, check-in, reminders.

Capacity is kept per cell of a store service's slot grid (SlotUsage): a booking takes one place in
every cell it overlaps, through a conditional upsert that the database refuses past capacity.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import ARRAY, DateTime, Integer, bindparam, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storelink import db
from storelink.scanning import scanner
from storelink.accounts import permissions
from storelink.accounts.models import Customer, Staff, StaffRole
from storelink.appointments.models import (
    ACTIVE_STATUSES, Appointment, ServiceType, SlotUsage, StoreService,
)
from storelink.clock import utcnow
from storelink.live import bus as live
from storelink.webhooks import bodies, service as webhooks
from storelink.errors import Code, DomainError, Forbidden, InvalidInput, NotFound
from storelink.scanning import codes
from storelink.members.joining import live_member
from storelink.outbox import service as outbox
from storelink.stores import hours
from storelink.stores import service as store_service
from storelink.stores.models import Store

REMINDER_KIND = "appointment_reminder"
REMINDER_LEAD = dt.timedelta(hours=24)
NO_REMINDER_WITHIN = dt.timedelta(hours=1)  # a walk-in needs no reminder
MAX_NOTE = 500


@dataclass(frozen=True)
class Offer:
    store: Store
    service: ServiceType
    settings: StoreService

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.store.timezone)

    @property
    def interval(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.settings.slot_interval_minutes)

    @property
    def duration(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.service.duration_minutes)


async def load_offer(session: AsyncSession, store_id: int, service_id: int, *, for_booking: bool) -> Offer:
    f = ["input"] if for_booking else []
    # One statement: the store, the service and the store's terms for it (either may be missing).
    found = (await session.execute(
        select(Store, ServiceType, StoreService).select_from(Store)
        .outerjoin(ServiceType, ServiceType.id == service_id)
        .outerjoin(StoreService, (StoreService.store_id == Store.id) & (StoreService.service_id == service_id))
        .where(Store.id == store_id)
    )).one_or_none()
    if found is None:
        raise NotFound("No such store", field=f + ["storeId"])
    store, service, offer = found
    if service is None:
        raise NotFound("No such service", field=f + ["serviceId"])
    if offer is None:
        raise NotFound("This store does not offer that service", field=f + ["serviceId"])
    if not offer.active and for_booking:
        raise DomainError("This service is not bookable at this store now", code=Code.SLOT_UNAVAILABLE, field=f + ["serviceId"])
    return Offer(store, service, offer)


async def _grid(session: AsyncSession, offer: Offer, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
    """Slot (start, end) pairs of the hours that open on `day`: on the interval grid from opening,
    each ending by closing time. Closed days give none."""
    specials = await store_service.special_days_for(session, [offer.store.id], [day])
    slots = []
    for h in hours.intervals_for(day, offer.store.opening_hours, specials.get(offer.store.id, {}).get(day)):
        opens = dt.datetime.combine(day, dt.time(), offer.tz) + dt.timedelta(minutes=hours.minutes(h["opens"]))
        closes = dt.datetime.combine(day, dt.time(), offer.tz) + dt.timedelta(minutes=hours.end_minute(h))
        # Wall-clock arithmetic in the store's zone: fine for China, which keeps no summer time.
        start = opens
        while start + offer.duration <= closes:
            slots.append((start, start + offer.duration))
            start += offer.interval
    return slots


def _cells(offer: Offer, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """The grid cells a booking overlaps; each holds one place of the capacity."""
    cells, cell = [], start
    while cell < end:
        cells.append(cell.astimezone(dt.timezone.utc))
        cell += offer.interval
    return cells


async def _usage(session: AsyncSession, offer: Offer, first: dt.datetime, last: dt.datetime) -> dict:
    rows = await session.execute(
        select(SlotUsage.cell_start, SlotUsage.used).where(
            SlotUsage.store_id == offer.store.id, SlotUsage.service_id == offer.service.id,
            SlotUsage.cell_start >= first, SlotUsage.cell_start <= last,
        )
    )
    return {cell: used for cell, used in rows}


async def available_slots(
    session: AsyncSession, *, store_id: int, service_id: int, day: dt.date, now: dt.datetime | None = None
) -> list[tuple[dt.datetime, dt.datetime, int]]:
    """Bookable slots of a day for a customer: (start, end, places left), exact."""
    now = now or utcnow()
    offer = await load_offer(session, store_id, service_id, for_booking=False)
    if not offer.settings.active:
        return []
    earliest = now + dt.timedelta(minutes=offer.settings.min_notice_minutes)
    latest = now + dt.timedelta(days=offer.settings.booking_window_days)
    slots = [(s, e) for s, e in await _grid(session, offer, day) if earliest <= s <= latest]
    if not slots:
        return []
    used = await _usage(session, offer, slots[0][0], slots[-1][1])
    result = []
    for start, end in slots:
        taken = max((used.get(c, 0) for c in _cells(offer, start, end)), default=0)
        result.append((start, end, max(offer.settings.capacity - taken, 0)))
    return result


async def _check_start(session: AsyncSession, offer: Offer, start_at: dt.datetime, *, by_staff: bool,
                       field: list[str]) -> tuple[dt.datetime, dt.datetime]:
    if start_at.tzinfo is None:
        raise InvalidInput("Give the time with its UTC offset", field=field)
    now = utcnow()
    # Staff may book the slot that is running now (a walk-in); customers need the minimum notice.
    earliest = now - offer.interval if by_staff else now + dt.timedelta(minutes=offer.settings.min_notice_minutes)
    if start_at < earliest:
        raise DomainError("That time has passed; choose a later one" if start_at < now
                          else "Too short notice for this service; choose a later time", code=Code.BOOKING_WINDOW_CLOSED, field=field)
    if start_at > now + dt.timedelta(days=offer.settings.booking_window_days):
        raise DomainError("That day cannot be booked yet; choose an earlier day", code=Code.BOOKING_WINDOW_CLOSED, field=field)
    local = start_at.astimezone(offer.tz)
    for day in (local.date(), local.date() - dt.timedelta(days=1)):
        for start, end in await _grid(session, offer, day):
            if start == start_at:
                return start, end
    raise DomainError("Not a bookable time: outside opening hours or between slots; choose one of the listed slots", code=Code.SLOT_UNAVAILABLE, field=field)


async def _refuse_if_full(session: AsyncSession, offer: Offer, cells: list[dt.datetime]) -> None:
    """A plain read: in a rush, those who come after the slot filled up are refused at once,
    before writing anything or queueing on the row lock. _take_places is the real guard."""
    if not cells:
        return
    used = await _usage(session, offer, min(cells), max(cells))
    if any(used.get(c, 0) >= offer.settings.capacity for c in cells):
        raise DomainError("This slot is fully booked; choose another time", code=Code.SLOT_FULL, field=["input", "startAt"])


# Every cell of a booking in one statement, its rows in one order for everyone (no deadlocks
# between overlapping bookings; unnest keeps the array's order); a cell already full is not
# updated, so it is missing from the result. Built once: a multi-row .values([...]) list has no
# cache key and was compiled again on every booking.
_slots = SlotUsage.__table__
_TAKE = (insert(_slots)
         .from_select(["store_id", "service_id", "cell_start", "used"], select(
             bindparam("store_id", type_=Integer), bindparam("service_id", type_=Integer),
             func.unnest(bindparam("cells", type_=ARRAY(DateTime(timezone=True)))), literal(1)))
         .on_conflict_do_update(index_elements=[_slots.c.store_id, _slots.c.service_id, _slots.c.cell_start],
                                set_={"used": _slots.c.used + 1},
                                where=_slots.c.used < bindparam("capacity", type_=Integer))
         .returning(_slots.c.used))


async def _take_places(session: AsyncSession, offer: Offer, cells: list[dt.datetime]) -> None:
    if not cells:
        return
    taken = (await session.execute(_TAKE, {"store_id": offer.store.id, "service_id": offer.service.id,
                                           "cells": sorted(cells), "capacity": offer.settings.capacity})).scalars().all()
    if len(taken) < len(cells) or any(used > offer.settings.capacity for used in taken):
        raise DomainError("This slot is fully booked; choose another time", code=Code.SLOT_FULL, field=["input", "startAt"])


async def _free_places(session: AsyncSession, appointment: Appointment, cells: list[dt.datetime]) -> None:
    """Give back the places `appointment` held in `cells`."""
    if not cells:
        return
    await session.execute(
        update(SlotUsage)
        .where(SlotUsage.store_id == appointment.store_id, SlotUsage.service_id == appointment.service_id,
               SlotUsage.cell_start.in_(cells), SlotUsage.used > 0)
        .values(used=SlotUsage.used - 1)
    )


async def _refuse_second_booking_of_day(session: AsyncSession, *, customer_id: int, service_id: int,
                                        local_day: dt.date, field: list[str]) -> None:
    """One booking of a service per customer and store-local day (the database's unique index
    is the last word; this gives the clear answer first)."""
    same_day = (await session.execute(select(Appointment.id).where(
        Appointment.customer_id == customer_id, Appointment.service_id == service_id,
        Appointment.local_day == local_day, Appointment.status.in_(ACTIVE_STATUSES),
    ))).first()
    if same_day is not None:
        raise DomainError("You already have this service booked that day", code=Code.CONFLICT, field=field)


async def _check_guide(session: AsyncSession, guide_id: int, store_id: int, start: dt.datetime,
                       end: dt.datetime, *, ignore: int | None = None) -> None:
    # The guide's row lock serialises bookings of one guide across services.
    guide = await session.get(Staff, guide_id, with_for_update=True)
    if guide is None or guide.role != StaffRole.GUIDE or guide.store_id != store_id or not guide.active:
        raise NotFound("No such guide at this store", field=["input", "guideId"])
    busy = await session.execute(
        select(Appointment.id).where(
            Appointment.guide_id == guide_id, Appointment.status.in_(ACTIVE_STATUSES),
            Appointment.start_at < end, Appointment.end_at > start,
            *([Appointment.id != ignore] if ignore else []),
        ).limit(1)
    )
    if busy.first() is not None:
        raise DomainError("This guide is booked at that time; choose another time or guide", code=Code.SLOT_UNAVAILABLE, field=["input", "guideId"])


async def _queue_reminder(session: AsyncSession, appointment: Appointment) -> None:
    now = utcnow()
    if appointment.start_at - now < NO_REMINDER_WITHIN:
        return
    await outbox.enqueue(
        session, kind=REMINDER_KIND, subject=f"appointment:{appointment.id}",
        payload={"appointmentId": appointment.id},
        due_at=max(now, appointment.start_at - REMINDER_LEAD),
    )


async def book(
    session: AsyncSession,
    *,
    customer_id: int,
    store_id: int,
    service_id: int,
    start_at: dt.datetime,
    guide_id: int | None,
    note: str | None,
    idempotency_key: str | None,
    booked_by: Staff | None,
) -> tuple[Appointment, bool]:
    """(appointment, created). The same idempotency key returns the first booking."""
    if idempotency_key is not None and not 0 < len(idempotency_key) <= 64:
        raise InvalidInput("idempotencyKey: 1-64 characters", field=["idempotencyKey"])
    if note is not None and len(note) > MAX_NOTE:
        raise InvalidInput("At most {n} characters", n=MAX_NOTE, field=["input", "note"])
    # Serialises one customer's bookings (idempotency, one per service per day).
    _, membership = await live_member(session, customer_id, lock=True, field=["input", "memberId"])
    if idempotency_key is not None:
        earlier = (await session.execute(select(Appointment).where(
            Appointment.customer_id == customer_id, Appointment.idempotency_key == idempotency_key
        ))).scalar_one_or_none()
        if earlier is not None:
            return earlier, False
    if membership is None:
        raise DomainError("Join the membership to book services", code=Code.INVALID_STATE)
    offer = await load_offer(session, store_id, service_id, for_booking=True)
    if booked_by is not None and not permissions.can_see_store(booked_by, store_id):
        raise Forbidden("You can only book at your own store")
    start, end = await _check_start(session, offer, start_at, by_staff=booked_by is not None,
                                    field=["input", "startAt"])
    local_day = start.astimezone(offer.tz).date()
    await _refuse_second_booking_of_day(session, customer_id=customer_id, service_id=service_id,
                                        local_day=local_day, field=["input", "startAt"])
    if guide_id is not None:
        await _check_guide(session, guide_id, store_id, start, end)
    await _refuse_if_full(session, offer, _cells(offer, start, end))
    token = codes.new_scan_token()
    appointment = Appointment(
        customer_id=customer_id, store_id=store_id, service_id=service_id, guide_id=guide_id,
        start_at=start, end_at=end, local_day=local_day, note=note, check_in_token=token,
        idempotency_key=idempotency_key, booked_by_id=booked_by.id if booked_by else None,
        created_at=utcnow(),
    )
    session.add(appointment)
    try:
        await session.flush()
    except IntegrityError:  # the database's own guard of the rules checked above
        raise DomainError("You already have this service booked that day", code=Code.CONFLICT, field=["input", "startAt"]) from None
    await _queue_reminder(session, appointment)
    # Take the places last: everyone booking the slot queues on these rows' locks, so they are
    # held only for these statements and the commit.
    await _take_places(session, offer, _cells(offer, start, end))
    await _announce(session, appointment, "APPOINTMENT_BOOKED")
    return appointment, True


async def _announce(session: AsyncSession, appointment: Appointment, store_kind: str | None) -> None:
    """Live events: the store's tablet (when `store_kind`), and the customer's screen on any change."""
    if store_kind is not None:
        await live.publish(session, kind=store_kind, store_id=appointment.store_id, appointment=appointment.id)
    hook = {"APPOINTMENT_BOOKED": "appointment.booked", "APPOINTMENT_CANCELLED": "appointment.cancelled"}.get(store_kind or "")
    if hook:
        await webhooks.emit(session, hook, lambda: bodies.appointment(session, appointment))
    await live.publish(session, kind="APPOINTMENT_CHANGED", customer_id=appointment.customer_id,
                       appointment=appointment.id)


async def _own_appointment(session: AsyncSession, appointment_id: int, *, customer: Customer | None,
                           staff: Staff | None) -> Appointment:
    appointment = await session.get(Appointment, appointment_id, with_for_update=True)
    if appointment is None:
        raise NotFound("No such appointment", field=["id"])
    if customer is not None and appointment.customer_id != customer.id:
        raise NotFound("No such appointment", field=["id"])  # someone else's reads as missing
    if staff is not None and not permissions.can_see_store(staff, appointment.store_id):
        raise Forbidden("This appointment is at another store")
    return appointment


async def cancel(session: AsyncSession, *, appointment_id: int, customer: Customer | None = None,
                 staff: Staff | None = None) -> Appointment:
    appointment = await _own_appointment(session, appointment_id, customer=customer, staff=staff)
    if appointment.status != "BOOKED":
        raise DomainError("This appointment is {status}", status=appointment.status, code=Code.INVALID_STATE)
    offer = await load_offer(session, appointment.store_id, appointment.service_id, for_booking=False)
    cutoff = appointment.start_at - dt.timedelta(minutes=offer.settings.cancel_cutoff_minutes)
    if customer is not None and utcnow() > cutoff:
        raise DomainError("Too late to cancel online; please call the store", code=Code.BOOKING_WINDOW_CLOSED)
    await _free_places(session, appointment, _cells(offer, appointment.start_at, appointment.end_at))
    appointment.status = "CANCELLED"
    appointment.cancelled_at = utcnow()
    await outbox.withdraw(session, subject=f"appointment:{appointment.id}", kind=REMINDER_KIND)
    await session.flush()
    await _announce(session, appointment, "APPOINTMENT_CANCELLED")
    return appointment


async def reschedule(session: AsyncSession, *, appointment_id: int, start_at: dt.datetime,
                     customer: Customer | None = None, staff: Staff | None = None) -> Appointment:
    """Atomic: the new place is taken before the old one is freed, in one transaction."""
    appointment = await _own_appointment(session, appointment_id, customer=customer, staff=staff)
    if appointment.status != "BOOKED":
        raise DomainError("This appointment is {status}", status=appointment.status, code=Code.INVALID_STATE)
    offer = await load_offer(session, appointment.store_id, appointment.service_id, for_booking=True)
    now = utcnow()
    if customer is not None and now > appointment.start_at - dt.timedelta(minutes=offer.settings.cancel_cutoff_minutes):
        raise DomainError("Too late to change this appointment online", code=Code.BOOKING_WINDOW_CLOSED)
    start, end = await _check_start(session, offer, start_at, by_staff=staff is not None, field=["startAt"])
    if start == appointment.start_at:
        return appointment
    local_day = start.astimezone(offer.tz).date()
    if local_day != appointment.local_day:
        await _refuse_second_booking_of_day(session, customer_id=appointment.customer_id,
                                            service_id=appointment.service_id, local_day=local_day,
                                            field=["startAt"])
    if appointment.guide_id is not None:
        await _check_guide(session, appointment.guide_id, appointment.store_id, start, end, ignore=appointment.id)
    old_cells = set(_cells(offer, appointment.start_at, appointment.end_at))
    new_cells = [c for c in _cells(offer, start, end) if c not in old_cells]
    try:
        await _refuse_if_full(session, offer, new_cells)
        await _take_places(session, offer, new_cells)
    except DomainError as err:
        err.field = ["startAt"]
        raise
    await _free_places(session, appointment, sorted(old_cells - set(_cells(offer, start, end))))
    appointment.start_at, appointment.end_at, appointment.local_day = start, end, local_day
    await outbox.withdraw(session, subject=f"appointment:{appointment.id}", kind=REMINDER_KIND)
    await session.flush()
    await _queue_reminder(session, appointment)
    await _announce(session, appointment, None)
    return appointment


async def mark_no_show(session: AsyncSession, *, appointment_id: int, staff: Staff) -> Appointment:
    appointment = await _own_appointment(session, appointment_id, customer=None, staff=staff)
    if appointment.status != "BOOKED":
        raise DomainError("This appointment is {status}", status=appointment.status, code=Code.INVALID_STATE)
    if appointment.start_at > utcnow():
        raise DomainError("The appointment has not started yet", code=Code.INVALID_STATE)
    appointment.status = "NO_SHOW"
    await session.flush()
    return appointment


async def store_day(session: AsyncSession, *, staff: Staff, store_id: int, day: dt.date) -> list[Appointment]:
    await store_service.require_store(session, store_id, ["storeId"])
    if not permissions.can_see_store(staff, store_id):
        raise Forbidden("You can only see your own store's appointments")
    rows = await session.execute(
        select(Appointment).where(Appointment.store_id == store_id, Appointment.local_day == day)
        .order_by(Appointment.start_at, Appointment.id)
    )
    return list(rows.scalars())


async def customer_appointments(session: AsyncSession, *, customer_id: int, upcoming_only: bool) -> list[Appointment]:
    stmt = select(Appointment).where(Appointment.customer_id == customer_id)
    if upcoming_only:
        stmt = stmt.where(Appointment.status.in_(ACTIVE_STATUSES), Appointment.end_at > func.now())
    return list((await session.execute(stmt.order_by(Appointment.start_at, Appointment.id))).scalars())


@dataclass(frozen=True)
class AppointmentCheckedIn:
    appointment: Appointment


@scanner.handles(codes.CHECK_IN)
async def check_in(session: AsyncSession, request: scanner.ScanRequest) -> AppointmentCheckedIn:
    """Only at the booked store, only on the booked (store-local) day, only once."""
    appointment = (await session.execute(
        select(Appointment).where(Appointment.check_in_token == request.token).with_for_update()
    )).scalar_one_or_none()
    if appointment is None:
        raise DomainError("Unknown check-in code", code=Code.CODE_INVALID, field=["code"])
    if appointment.store_id != request.store_id:
        raise DomainError("This appointment is at another store", code=Code.INVALID_STATE, field=["code"])
    if appointment.status == "CHECKED_IN":
        raise DomainError("Already checked in", code=Code.CODE_USED_UP, field=["code"])
    if appointment.status != "BOOKED":
        raise DomainError("This appointment is {status}", status=appointment.status, code=Code.CODE_EXPIRED, field=["code"])
    store = await db.existing(session, Store, appointment.store_id)
    today = utcnow().astimezone(ZoneInfo(store.timezone)).date()
    if today > appointment.local_day:
        raise DomainError("This appointment was on an earlier day", code=Code.CODE_EXPIRED, field=["code"])
    if today < appointment.local_day:
        raise DomainError("Check-in opens on the day of the appointment", code=Code.INVALID_STATE, field=["code"])
    appointment.status = "CHECKED_IN"
    appointment.checked_in_at = utcnow()
    await session.flush()
    await _announce(session, appointment, "APPOINTMENT_CHECKED_IN")
    return AppointmentCheckedIn(appointment)


@outbox.sender(REMINDER_KIND)
async def send_reminder(session: AsyncSession, payload: dict, wechat) -> None:
    appointment = await session.get(Appointment, payload["appointmentId"])
    if appointment is None or appointment.status != "BOOKED":
        raise outbox.Skip("appointment no longer booked")
    customer = await session.get(Customer, appointment.customer_id)
    if customer is None or customer.openid is None:
        raise outbox.Skip("customer gone")
    store = await db.existing(session, Store, appointment.store_id)
    service = await db.existing(session, ServiceType, appointment.service_id)
    local = appointment.start_at.astimezone(ZoneInfo(store.timezone))
    await wechat.send_subscribe_message(
        touser=customer.openid,
        template_id=payload.get("templateId", "appointment-reminder"),
        page=f"pages/appointments/detail?id={appointment.id}",
        data={"thing1": {"value": service.name[:20]}, "time2": {"value": local.strftime("%Y-%m-%d %H:%M")},
              "thing3": {"value": store.name[:20]}},
    )
