import asyncio
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from storelink.appointments.models import Appointment, SlotUsage
from storelink.graphql.relay import to_global_id
from storelink.members.models import Membership
from storelink.outbox import service as outbox
from storelink.outbox.models import OutboxMessage
from tests.builders import JOIN, codes_of, member_customer, personal_code, pk_of

SHANGHAI = ZoneInfo("Asia/Shanghai")
UPSERT_STORE = "mutation($input: StoreInput!) { upsertStore(input: $input) { store { id } userErrors { code } } }"
UPSERT_SERVICE = """mutation($input: ServiceTypeInput!) { upsertServiceType(input: $input) { serviceType { id } } }"""
CONFIGURE = """mutation($input: StoreServiceInput!) { configureStoreService(input: $input) { userErrors { code field } } }"""
SLOTS = """query($s: ID!, $v: ID!, $d: Date!) { availableSlots(storeId: $s, serviceId: $v, date: $d) { startAt endAt remaining } }"""
BOOK = """
mutation($input: BookAppointmentInput!, $key: String) {
  bookAppointment(input: $input, idempotencyKey: $key) {
    appointment { id status startAt endAt checkInCode note store { code } service { name } guide { name } }
    userErrors { code field message }
  }
}
"""
CANCEL = "mutation($id: ID!) { cancelAppointment(id: $id) { appointment { status } userErrors { code } } }"
RESCHEDULE = """mutation($id: ID!, $at: DateTime!) { rescheduleAppointment(id: $id, startAt: $at) {
  appointment { startAt } userErrors { code field } } }"""
NO_SHOW = "mutation($id: ID!) { markNoShow(id: $id) { appointment { status } userErrors { code } } }"
SCAN = """mutation($code: String!, $store: ID!) { scanCode(code: $code, storeId: $store) {
  result { __typename ... on AppointmentScan { appointment { status } } } userErrors { code } } }"""
DAY = [{"weekday": d, "opens": "10:00", "closes": "22:00"} for d in range(1, 8)]
ALWAYS = [{"weekday": d, "opens": "00:00", "closes": "24:00"} for d in range(1, 8)]


def tomorrow() -> dt.date:
    return dt.datetime.now(SHANGHAI).date() + dt.timedelta(days=1)


def at(day: dt.date, hhmm: str) -> str:
    h, m = map(int, hhmm.split(":"))
    return dt.datetime.combine(day, dt.time(h, m), SHANGHAI).isoformat()


class Salon:
    """A store offering a 60-minute fitting (capacity 2, 30-minute grid) and a 30-minute repair."""

    def __init__(self, api, world, sessionmaker):
        self.api, self.world, self.sessionmaker = api, world, sessionmaker
        self.customers = 0

    async def setup(self, hours=DAY, capacity=2, cutoff=120):
        api = self.api
        _, self.hq = await self.world.staff("hq-root")
        self.store = (await api.data(UPSERT_STORE, {"input": {
            "code": "SALON", "name": "沙龙店", "city": "上海", "address": "路", "lat": 31.2, "lng": 121.4,
            "openingHours": hours}}, self.hq))["upsertStore"]["store"]["id"]
        self.other_store = (await api.data(UPSERT_STORE, {"input": {
            "code": "OTHER", "name": "别店", "city": "上海", "address": "路", "lat": 31.3, "lng": 121.5,
            "openingHours": ALWAYS}}, self.hq))["upsertStore"]["store"]["id"]
        self.fitting = (await api.data(UPSERT_SERVICE, {"input": {"code": "FIT", "name": "试衣", "durationMinutes": 60}},
                                       self.hq))["upsertServiceType"]["serviceType"]["id"]
        self.repair = (await api.data(UPSERT_SERVICE, {"input": {"code": "FIX", "name": "修改", "durationMinutes": 30}},
                                      self.hq))["upsertServiceType"]["serviceType"]["id"]
        await self.configure(self.fitting, capacity=capacity, cancelCutoffMinutes=cutoff)
        await self.configure(self.repair, capacity=3)
        store_pk = pk_of(self.store)
        self.guide_row, self.guide = await self.world.staff("guide-a", "GUIDE", store_pk)
        _, self.stranger = await self.world.staff("guide-x", "GUIDE", pk_of(self.other_store))
        return self

    async def configure(self, service, **settings):
        payload = await self.api.data(CONFIGURE, {"input": {"storeId": self.store, "serviceId": service,
                                                            "capacity": 2, **settings}}, self.hq)
        assert payload["configureStoreService"]["userErrors"] == []

    async def member(self) -> str:
        self.customers += 1
        n = self.customers
        token = await member_customer(self.api, self.world, f"c{n}", f"1380000{n:04d}")
        code = await personal_code(self.sessionmaker, self.guide_row)
        assert (await self.api.data(JOIN, {"code": code}, token))["joinByCode"]["userErrors"] == []
        return token

    async def book(self, token, start, service=None, key=None, **extra):
        data = await self.api.data(BOOK, {"input": {"storeId": self.store, "serviceId": service or self.fitting,
                                                    "startAt": start, **extra}, "key": key}, token)
        return data["bookAppointment"]


@pytest.fixture
async def salon(api, world, sessionmaker) -> Salon:
    return await Salon(api, world, sessionmaker).setup()


async def count(sessionmaker, model, *where) -> int:
    async with sessionmaker() as session:
        return (await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one()


# ------------------------------------------------------------------ slots

async def test_slots_follow_hours_duration_and_bookings(api, salon):
    # given
    day = tomorrow()
    # when
    slots = (await api.data(SLOTS, {"s": salon.store, "v": salon.fitting, "d": day.isoformat()}))["availableSlots"]
    # then
    assert slots[0] == {"startAt": at(day, "10:00"), "endAt": at(day, "11:00"), "remaining": 2}
    assert slots[-1]["startAt"] == at(day, "21:00")  # the last one ends at closing time
    assert len(slots) == 23

    # when
    token = await salon.member()
    # then
    assert (await salon.book(token, at(day, "10:30")))["userErrors"] == []

    # when
    slots = (await api.data(SLOTS, {"s": salon.store, "v": salon.fitting, "d": day.isoformat()}))["availableSlots"]
    remaining = {s["startAt"]: s["remaining"] for s in slots}
    # then
    # 10:00-11:00 and 11:00-12:00 overlap the 10:30-11:30 booking; 11:30 does not
    assert [remaining[at(day, t)] for t in ("10:00", "10:30", "11:00", "11:30")] == [1, 1, 1, 2]


async def test_no_slots_on_a_closed_day_past_days_or_beyond_the_window(api, salon):
    # given
    day = tomorrow()
    await api.data("""mutation($input: SpecialDayInput!) { setSpecialDay(input: $input) { userErrors { code } } }""",
                   {"input": {"storeId": salon.store, "date": day.isoformat(), "closed": True}}, salon.hq)
    # when / then
    for d in (day, day - dt.timedelta(days=3), day + dt.timedelta(days=40)):
        slots = await api.data(SLOTS, {"s": salon.store, "v": salon.fitting, "d": d.isoformat()})
        assert slots["availableSlots"] == [], d


# ------------------------------------------------------------------ booking

async def test_book_and_see_the_appointment(api, salon, sessionmaker):
    # given
    token = await salon.member()
    # when
    payload = await salon.book(token, at(tomorrow(), "15:00"), note="想试大衣", guideId=to_global_id("Staff", salon.guide_row.id))
    appointment = payload["appointment"]
    # then
    assert payload["userErrors"] == [] and appointment["status"] == "BOOKED"
    assert appointment["startAt"] == at(tomorrow(), "15:00") and appointment["endAt"] == at(tomorrow(), "16:00")
    assert appointment["checkInCode"].startswith("A") and len(appointment["checkInCode"]) == 25
    assert appointment["guide"] == {"name": "guide-a"} and appointment["store"] == {"code": "SALON"}
    # when
    mine = await api.data("{ me { appointments { id status } } }", token=token)
    # then
    assert mine["me"]["appointments"] == [{"id": appointment["id"], "status": "BOOKED"}]
    # when
    async with sessionmaker() as session:
        reminder = (await session.execute(select(OutboxMessage))).scalar_one()
    start = dt.datetime.fromisoformat(appointment["startAt"])
    # then
    assert reminder.status == "PENDING" and reminder.kind == "appointment_reminder"
    assert reminder.next_attempt_at <= start - dt.timedelta(hours=24) + dt.timedelta(seconds=1) or \
        reminder.next_attempt_at <= dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=5)


async def test_fifty_concurrent_bookings_of_five_places(api, world, sessionmaker):
    # given
    salon = await Salon(api, world, sessionmaker).setup(capacity=5)
    tokens = [await salon.member() for _ in range(50)]
    start = at(tomorrow(), "14:00")

    # when
    results = await asyncio.gather(*[salon.book(t, start) for t in tokens])

    outcomes = sorted(codes_of(r)[0] if codes_of(r) else "BOOKED" for r in results)
    # then
    assert outcomes == ["BOOKED"] * 5 + ["SLOT_FULL"] * 45
    assert await count(sessionmaker, Appointment) == 5
    async with sessionmaker() as session:
        used = (await session.execute(select(func.max(SlotUsage.used)))).scalar_one()
    assert used == 5


async def test_overlapping_bookings_count_in_every_slot_they_cover(api, world, sessionmaker):
    # given
    salon = await Salon(api, world, sessionmaker).setup(capacity=1)
    first, second = await salon.member(), await salon.member()
    # when / then
    assert (await salon.book(first, at(tomorrow(), "10:00")))["userErrors"] == []
    assert codes_of(await salon.book(second, at(tomorrow(), "10:30"))) == ["SLOT_FULL"]
    assert (await salon.book(second, at(tomorrow(), "11:00")))["userErrors"] == []


async def test_idempotency_key_gives_one_booking(api, salon, sessionmaker):
    # given
    token = await salon.member()
    # when
    results = await asyncio.gather(*[salon.book(token, at(tomorrow(), "12:00"), key="tap-1") for _ in range(5)])
    ids = {r["appointment"]["id"] for r in results}
    # then
    assert len(ids) == 1 and all(r["userErrors"] == [] for r in results)
    # when
    again = await salon.book(token, at(tomorrow(), "12:00"), key="tap-1")
    # then
    assert again["appointment"]["id"] in ids
    assert await count(sessionmaker, Appointment) == 1


async def test_one_active_booking_per_service_per_day(api, salon):
    # given
    token = await salon.member()
    # when / then
    assert (await salon.book(token, at(tomorrow(), "10:00")))["userErrors"] == []
    assert codes_of(await salon.book(token, at(tomorrow(), "16:00"))) == ["CONFLICT"]
    # another service the same day is fine
    assert (await salon.book(token, at(tomorrow(), "16:00"), service=salon.repair))["userErrors"] == []


@pytest.mark.parametrize(
    "when, code",
    [("past", "BOOKING_WINDOW_CLOSED"), ("10:15", "SLOT_UNAVAILABLE"), ("08:00", "SLOT_UNAVAILABLE"),
     ("21:30", "SLOT_UNAVAILABLE"), ("far", "BOOKING_WINDOW_CLOSED")],
)
async def test_bad_times(api, salon, sessionmaker, when, code):
    # given
    token = await salon.member()
    if when == "past":
        start = at(tomorrow() - dt.timedelta(days=2), "10:00")
    elif when == "far":
        start = at(tomorrow() + dt.timedelta(days=40), "10:00")
    else:
        start = at(tomorrow(), when)
    # when
    payload = await salon.book(token, start)
    # then
    assert payload["userErrors"][0]["code"] == code
    assert payload["userErrors"][0]["field"] == ["input", "startAt"]
    assert await count(sessionmaker, Appointment) == 0
    assert await count(sessionmaker, SlotUsage) == 0


async def test_service_not_offered_inactive_and_non_members(api, world, salon, sessionmaker):
    # given
    token = await salon.member()
    start = at(tomorrow(), "10:00")
    other = (await api.data(UPSERT_SERVICE, {"input": {"code": "SKIN", "name": "肌肤", "durationMinutes": 30}},
                            salon.hq))["upsertServiceType"]["serviceType"]["id"]
    # when / then
    assert codes_of(await salon.book(token, start, service=other)) == ["NOT_FOUND"]
    # when
    await salon.configure(salon.repair, active=False)
    # then
    assert codes_of(await salon.book(token, start, service=salon.repair)) == ["SLOT_UNAVAILABLE"]
    # when
    outsider, _ = await world.customer("wx-outsider")
    # then
    assert codes_of(await salon.book(outsider, start)) == ["INVALID_STATE"]
    # when
    naive = await salon.book(token, tomorrow().isoformat() + "T10:00:00")
    # then
    assert codes_of(naive) == ["INVALID_INPUT"]
    assert await count(sessionmaker, Appointment) == 0


async def test_a_guide_cannot_be_double_booked_across_services(api, salon):
    # given
    guide = to_global_id("Staff", salon.guide_row.id)
    a, b = await salon.member(), await salon.member()
    # when / then
    assert (await salon.book(a, at(tomorrow(), "10:00"), guideId=guide))["userErrors"] == []
    # when
    clash = await salon.book(b, at(tomorrow(), "10:30"), service=salon.repair, guideId=guide)
    # then
    assert clash["userErrors"] == [{"code": "SLOT_UNAVAILABLE", "field": ["input", "guideId"],
                                    "message": "该导购此时段已有预约，请选择其他时间或导购"}]
    assert (await salon.book(b, at(tomorrow(), "11:00"), service=salon.repair, guideId=guide))["userErrors"] == []


# ------------------------------------------------------------------ cancel, reschedule, no-show

async def test_cancel_frees_the_place_and_the_reminder(api, world, sessionmaker):
    # given
    salon = await Salon(api, world, sessionmaker).setup(capacity=1)
    a, b = await salon.member(), await salon.member()
    booked = (await salon.book(a, at(tomorrow(), "10:00")))["appointment"]

    # when / then
    # another customer is told what a missing appointment would tell them
    assert codes_of((await api.data(CANCEL, {"id": booked["id"]}, b))["cancelAppointment"]) == ["NOT_FOUND"]
    assert codes_of((await api.data(CANCEL, {"id": booked["id"]}, salon.stranger))["cancelAppointment"]) == ["FORBIDDEN"]
    # when
    cancelled = (await api.data(CANCEL, {"id": booked["id"]}, a))["cancelAppointment"]
    # then
    assert cancelled == {"appointment": {"status": "CANCELLED"}, "userErrors": []}
    assert codes_of((await api.data(CANCEL, {"id": booked["id"]}, a))["cancelAppointment"]) == ["INVALID_STATE"]
    assert (await salon.book(b, at(tomorrow(), "10:00")))["userErrors"] == []
    async with sessionmaker() as session:
        statuses = sorted((await session.execute(select(OutboxMessage.status))).scalars())
    assert statuses == ["CANCELLED", "PENDING"]


async def test_cancel_and_reschedule_respect_the_cut_off(api, world, sessionmaker):
    # given
    salon = await Salon(api, world, sessionmaker).setup(cutoff=3 * 24 * 60)  # three days
    token = await salon.member()
    booked = (await salon.book(token, at(tomorrow(), "10:00")))["appointment"]
    late_cancel = (await api.data(CANCEL, {"id": booked["id"]}, token))["cancelAppointment"]
    # when
    late_move = (await api.data(RESCHEDULE, {"id": booked["id"], "at": at(tomorrow(), "12:00")}, token))
    # then
    assert codes_of(late_cancel) == ["BOOKING_WINDOW_CLOSED"]
    assert codes_of(late_move["rescheduleAppointment"]) == ["BOOKING_WINDOW_CLOSED"]
    # when
    # the store itself may still cancel
    by_store = (await api.data(CANCEL, {"id": booked["id"]}, salon.guide))["cancelAppointment"]
    # then
    assert by_store["appointment"] == {"status": "CANCELLED"}


async def test_reschedule_is_atomic(api, world, sessionmaker):
    # given
    salon = await Salon(api, world, sessionmaker).setup(capacity=1)
    a, b = await salon.member(), await salon.member()
    mine = (await salon.book(a, at(tomorrow(), "10:00")))["appointment"]
    # when / then
    assert (await salon.book(b, at(tomorrow(), "14:00")))["userErrors"] == []

    # when
    full = (await api.data(RESCHEDULE, {"id": mine["id"], "at": at(tomorrow(), "14:00")}, a))["rescheduleAppointment"]
    # then
    assert full["userErrors"] == [{"code": "SLOT_FULL", "field": ["startAt"]}]
    # when
    # nothing moved: the old place is still mine, so b cannot take 10:00
    c = await salon.member()
    # then
    assert codes_of(await salon.book(c, at(tomorrow(), "10:00"))) == ["SLOT_FULL"]

    # when
    moved = (await api.data(RESCHEDULE, {"id": mine["id"], "at": at(tomorrow(), "10:30")}, a))["rescheduleAppointment"]
    # then
    assert moved == {"appointment": {"startAt": at(tomorrow(), "10:30")}, "userErrors": []}
    assert codes_of(await salon.book(c, at(tomorrow(), "11:00"))) == ["SLOT_FULL"]  # 10:30-11:30 holds it
    assert (await salon.book(c, at(tomorrow(), "11:30")))["userErrors"] == []


async def test_no_show_only_after_the_start_and_by_the_store(api, salon, sessionmaker):
    # given
    token = await salon.member()
    booked = (await salon.book(token, at(tomorrow(), "10:00")))["appointment"]
    # when / then
    assert codes_of((await api.data(NO_SHOW, {"id": booked["id"]}, salon.guide))["markNoShow"]) == ["INVALID_STATE"]
    async with sessionmaker() as session:
        await session.execute(update(Appointment).values(
            start_at=func.now() - dt.timedelta(hours=2), end_at=func.now() - dt.timedelta(hours=1)))
        await session.commit()
    assert codes_of((await api.data(NO_SHOW, {"id": booked["id"]}, salon.stranger))["markNoShow"]) == ["FORBIDDEN"]
    assert codes_of((await api.data(NO_SHOW, {"id": booked["id"]}, token))["markNoShow"]) == ["FORBIDDEN"]
    # when
    done = (await api.data(NO_SHOW, {"id": booked["id"]}, salon.guide))["markNoShow"]
    # then
    assert done == {"appointment": {"status": "NO_SHOW"}, "userErrors": []}


# ------------------------------------------------------------------ walk-ins and check-in

def current_slot() -> str:
    now = dt.datetime.now(SHANGHAI)
    return now.replace(minute=0 if now.minute < 30 else 30, second=0, microsecond=0).isoformat()


async def test_staff_book_walk_ins_inside_the_notice_and_check_in_by_scan(api, world, sessionmaker):
    # given
    salon = await Salon(api, world, sessionmaker).setup(hours=ALWAYS)
    token = await salon.member()
    async with sessionmaker() as session:
        member_id = to_global_id("MemberProfile", (await session.execute(select(Membership.id))).scalar_one())
    start = current_slot()

    # when / then
    assert codes_of(await salon.book(token, start, service=salon.repair)) == ["BOOKING_WINDOW_CLOSED"]
    # when
    walk_in = await salon.book(salon.guide, start, service=salon.repair, memberId=member_id)
    # then
    assert walk_in["userErrors"] == []
    # when
    code = walk_in["appointment"]["checkInCode"]

    wrong_store = (await api.data(SCAN, {"code": code, "store": salon.other_store}, salon.stranger))["scanCode"]
    checked_in = (await api.data(SCAN, {"code": code, "store": salon.store}, salon.guide))["scanCode"]
    again = (await api.data(SCAN, {"code": code, "store": salon.store}, salon.guide))["scanCode"]

    # then
    assert codes_of(wrong_store) == ["INVALID_STATE"]
    assert checked_in == {"result": {"__typename": "AppointmentScan", "appointment": {"status": "CHECKED_IN"}},
                          "userErrors": []}
    assert codes_of(again) == ["CODE_USED_UP"]


async def test_check_in_only_on_the_day(api, salon):
    # given
    token = await salon.member()
    code = (await salon.book(token, at(tomorrow(), "10:00")))["appointment"]["checkInCode"]
    # when
    early = (await api.data(SCAN, {"code": code, "store": salon.store}, salon.guide))["scanCode"]
    # then
    assert codes_of(early) == ["INVALID_STATE"]


async def test_store_appointments_for_the_stores_staff(api, salon):
    # given
    token = await salon.member()
    await salon.book(token, at(tomorrow(), "10:00"))
    query = "query($s: ID!, $d: Date!) { storeAppointments(storeId: $s, date: $d) { startAt service { name } } }"
    # when
    mine = await api.data(query, {"s": salon.store, "d": tomorrow().isoformat()}, salon.guide)
    # then
    assert mine["storeAppointments"] == [{"startAt": at(tomorrow(), "10:00"), "service": {"name": "试衣"}}]
    # when
    other = await api.post(query, {"s": salon.store, "d": tomorrow().isoformat()}, salon.stranger)
    # then
    assert other["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # when
    as_customer = await api.post(query, {"s": salon.store, "d": tomorrow().isoformat()}, token)
    # then
    assert as_customer["errors"][0]["extensions"]["code"] == "FORBIDDEN"



async def test_staff_see_who_booked_and_customers_see_no_profile(api, salon):
    # given a member's booking
    token = await salon.member()
    member_no = (await api.data("query { me { membership { memberNo } } }", token=token))["me"]["membership"]["memberNo"]
    await salon.book(token, at(tomorrow(), "10:00"))
    day = {"s": salon.store, "d": tomorrow().isoformat()}
    # when the store's guide reads the day, and the customer their own appointments
    staff_view = await api.data(
        "query($s: ID!, $d: Date!) { storeAppointments(storeId: $s, date: $d) { member { memberNo phoneMasked } } }",
        day, salon.guide)
    own_view = await api.data("query { me { appointments { member { memberNo } } } }", token=token)
    # then staff see the member (masked phone); the customer's own view has no staff profile
    assert staff_view["storeAppointments"] == [{"member": {"memberNo": member_no, "phoneMasked": "138****0001"}}]
    assert own_view["me"]["appointments"] == [{"member": None}]


# ------------------------------------------------------------------ reminders

async def make_due(sessionmaker):
    async with sessionmaker() as session:
        await session.execute(update(OutboxMessage).where(OutboxMessage.status == "PENDING")
                              .values(next_attempt_at=func.now()))
        await session.commit()


async def test_reminders_are_sent_once_even_with_two_workers(api, app, salon, sessionmaker, wechat_server):
    # given
    for hour in ("10:00", "11:00", "12:00"):
        await salon.book(await salon.member(), at(tomorrow(), hour))
    await make_due(sessionmaker)

    # when
    sent = await asyncio.gather(*[outbox.deliver_due(sessionmaker, app.state.wechat) for _ in range(2)])

    # then
    assert sum(sent) == 3
    messages = wechat_server.fake.sent_messages
    assert len(messages) == 3 and len({m["touser"] for m in messages}) == 3
    assert messages[0]["data"]["thing1"] == {"value": "试衣"}
    assert await outbox.deliver_due(sessionmaker, app.state.wechat) == 0


async def test_failed_reminders_are_retried_with_backoff(api, app, salon, sessionmaker, wechat_server):
    # given
    await salon.book(await salon.member(), at(tomorrow(), "10:00"))
    await make_due(sessionmaker)
    wechat_server.fake.failing_sends = 1

    # when / then
    assert await outbox.deliver_due(sessionmaker, app.state.wechat) == 0
    async with sessionmaker() as session:
        message = (await session.execute(select(OutboxMessage))).scalar_one()
    assert (message.status, message.attempts) == ("PENDING", 1)
    assert message.next_attempt_at > dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=20)

    # when
    await make_due(sessionmaker)
    # then
    assert await outbox.deliver_due(sessionmaker, app.state.wechat) == 1
    assert len(wechat_server.fake.sent_messages) == 1


async def test_a_cancelled_booking_sends_no_reminder(api, app, salon, sessionmaker, wechat_server):
    # given
    token = await salon.member()
    booked = (await salon.book(token, at(tomorrow(), "10:00")))["appointment"]
    await api.data(CANCEL, {"id": booked["id"]}, token)
    await make_due(sessionmaker)
    # when / then
    assert await outbox.deliver_due(sessionmaker, app.state.wechat) == 0
    assert wechat_server.fake.sent_messages == []
