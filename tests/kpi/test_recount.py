"""The set-based KPI queries against a plain recount in Python over the raw rows, on a random
world (fixed seed) with two timezones, guests, refunds, unpaid orders and every join channel."""
import datetime as dt
import random
from collections import defaultdict
from zoneinfo import ZoneInfo

from sqlalchemy import select

from storelink.accounts.models import Customer, Staff
from storelink.appointments.models import Appointment, ServiceType
from storelink.kpi import service
from storelink.members.models import JoinCode, JoinScan, Membership
from storelink.orders.models import PAID_STATUSES, Order
from storelink.stores.models import Store

CHANNELS = ["STORE_QR", "GUIDE_QR", "CAMPAIGN_QR", "ONLINE"]
STATUSES = ["PAID", "COMPLETED", "READY_FOR_PICKUP", "REFUNDED", "CANCELLED", "PENDING_PAYMENT"]


async def build(sessionmaker, rng: random.Random):
    base = dt.datetime(2026, 9, 25, tzinfo=dt.timezone.utc)

    def moment():
        return base + dt.timedelta(minutes=rng.randrange(60 * 24 * 50))

    async with sessionmaker() as session:
        stores = [Store(code=f"R{i}", name=f"R{i}", city="c", address="a", lat=31.0, lng=121.0 + i,
                        timezone=tz, opening_hours=[]) for i, tz in enumerate(["Asia/Shanghai", "Asia/Urumqi"])]
        session.add_all(stores)
        await session.flush()
        guides = [Staff(username=f"g{i}", password_hash="x", name=f"g{i}", role="GUIDE", store_id=stores[i % 2].id)
                  for i in range(4)]
        service_type = ServiceType(code="S", name="s", duration_minutes=30)
        session.add_all([*guides, service_type])
        await session.flush()
        codes = [JoinCode(code=f"code{i}", kind="GUIDE", store_id=g.store_id, guide_id=g.id)
                 for i, g in enumerate(guides)]
        session.add_all(codes)
        customers = [Customer(openid=f"o{i}") for i in range(60)]
        session.add_all(customers)
        await session.flush()
        channel_of = {}
        for i, customer in enumerate(customers):
            if i % 6 == 5:
                continue  # not a member: their orders count in GMV only
            channel = channel_of[customer.id] = rng.choice(CHANNELS)
            guide = rng.choice(guides) if channel == "GUIDE_QR" else None
            store = guide.store_id if guide else (None if channel == "ONLINE" else rng.choice(stores).id)
            joined = moment()
            session.add(Membership(customer_id=customer.id, member_no=f"8{i:09d}", join_channel=channel,
                                   join_store_id=store, recruited_by_id=guide.id if guide else None,
                                   guide_id=guide.id if guide else None, joined_at=joined))
            code = codes[guides.index(guide)] if guide else rng.choice(codes)
            session.add(JoinScan(code="x", join_code_id=code.id, store_id=code.store_id, customer_id=customer.id,
                                 outcome="JOINED" if guide else "KEPT_BINDING", scanned_at=joined))
        for n in range(400):
            customer = rng.choice(customers + [None])  # a guest now and then
            guide = rng.choice(guides + [None])
            store = guide.store_id if guide else rng.choice(stores).id
            status = rng.choice(STATUSES)
            paid = moment() if status in (*PAID_STATUSES, "REFUNDED") else None
            total = rng.randrange(100, 100_000)
            session.add(Order(order_no=f"N{n}", customer_id=customer.id if customer else None,
                              member_channel=channel_of.get(customer.id) if customer else None,  # as the app does
                              channel=rng.choice(["ONLINE", "STORE"]), status=status, store_id=store,
                              guide_id=guide.id if guide else None, subtotal_fen=total, total_fen=total,
                              paid_at=paid, created_at=paid or base))
        for n, customer in enumerate(customers):  # one each: a customer books a service once a day
            guide = rng.choice(guides + [None])
            store = guide.store_id if guide else rng.choice(stores).id
            start = moment()
            zone = ZoneInfo(next(s.timezone for s in stores if s.id == store))
            session.add(Appointment(customer_id=customer.id, store_id=store, service_id=service_type.id,
                                    guide_id=guide.id if guide else None, start_at=start,
                                    end_at=start + dt.timedelta(minutes=30), local_day=start.astimezone(zone).date(),
                                    status=rng.choice(["BOOKED", "CANCELLED", "CHECKED_IN", "COMPLETED", "NO_SHOW"]),
                                    check_in_token=f"T{n}"))
        await session.commit()
    return stores, guides


async def recount(sessionmaker, scope: str, key: int, first: dt.date, last: dt.date, zone: str) -> dict:
    """Row by row, the definitions as written in the README."""
    tz = ZoneInfo(zone)

    def in_period(moment):
        return moment is not None and first <= moment.astimezone(tz).date() <= last

    async with sessionmaker() as session:
        members = {m.customer_id: m for m in (await session.execute(select(Membership))).scalars()}
        orders = (await session.execute(select(Order))).scalars().all()
        appointments = (await session.execute(select(Appointment))).scalars().all()
        scans = (await session.execute(select(JoinScan, JoinCode).join(JoinCode))).all()
    credited = [o for o in orders if (o.store_id if scope == "store" else o.guide_id) == key
                and o.status in PAID_STATUSES and in_period(o.paid_at)]
    per_member = defaultdict(list)
    for o in credited:
        if o.customer_id in members:
            per_member[o.customer_id].append(o)
    joins = [m for m in members.values() if (m.join_store_id if scope == "store" else m.recruited_by_id) == key
             and in_period(m.joined_at)]
    booked = [a for a in appointments if (a.store_id if scope == "store" else a.guide_id) == key
              and first <= a.local_day <= last and a.status != "CANCELLED"]
    mine = [s for s, c in scans if (s.store_id if scope == "store" else c.guide_id) == key and in_period(s.scanned_at)]
    by_channel = defaultdict(int)
    for m in joins:
        by_channel[m.join_channel] += 1
    return {
        "new": len(joins), "by_channel": dict(by_channel), "purchasing": len(per_member),
        "repurchasing": sum(1 for os in per_member.values() if len(os) >= 2),
        "to_online": sum(1 for c, os in per_member.items()
                         if members[c].join_channel in ("STORE_QR", "GUIDE_QR") and any(o.channel == "ONLINE" for o in os)),
        "to_store": sum(1 for c, os in per_member.items()
                        if members[c].join_channel == "ONLINE" and any(o.channel == "STORE" for o in os)),
        "online_gmv": sum(o.total_fen for o in credited if o.channel == "ONLINE"),
        "store_gmv": sum(o.total_fen for o in credited if o.channel == "STORE"),
        "booked": len(booked), "attended": sum(1 for a in booked if a.status in ("CHECKED_IN", "COMPLETED")),
        "scans": len(mine), "joins": sum(1 for s in mine if s.outcome == "JOINED"),
    }


def as_dict(f: service.Figures) -> dict:
    return {"new": f.new_members, "by_channel": {k: v for k, v in f.new_members_by_channel.items() if v},
            "purchasing": f.purchasing_members, "repurchasing": f.repurchasing_members,
            "to_online": f.store_to_online_members, "to_store": f.online_to_store_members,
            "online_gmv": f.online_gmv_fen, "store_gmv": f.store_gmv_fen, "booked": f.appointments_booked,
            "attended": f.appointments_attended, "scans": f.join_scans, "joins": f.scan_joins}


async def test_fast_path_equals_a_plain_recount(app, sessionmaker):
    # given
    stores, guides = await build(sessionmaker, random.Random(20261124))
    periods = [(dt.date(2026, 10, 1), dt.date(2026, 10, 31)), (dt.date(2026, 9, 25), dt.date(2026, 11, 15)),
               (dt.date(2026, 10, 17), dt.date(2026, 10, 17))]
    zone_of = {s.id: s.timezone for s in stores}
    compared, seen = 0, defaultdict(int)
    for first, last in periods:
        for scope, keys in (("store", [s.id for s in stores]), ("guide", [g.id for g in guides])):
            for key in keys:
                zone = zone_of[key] if scope == "store" else zone_of[next(g.store_id for g in guides if g.id == key)]
                # when
                async with sessionmaker() as session:
                    fast = (await service.figures(session, scope=scope, keys=[key],
                                                  period=service.period(first, last, zone)))[key]
                # then
                assert as_dict(fast) == await recount(sessionmaker, scope, key, first, last, zone), (scope, key, first)
                compared += 1
                for name, value in as_dict(fast).items():
                    seen[name] += bool(value)
    assert compared == 18
    assert all(seen[name] > 0 for name in seen), seen  # every figure was non-zero somewhere: a real comparison
    # and the all-keys form used by the leaderboard gives the same per-guide figures
    async with sessionmaker() as session:
        everyone = await service.figures(session, scope="guide", keys=None,
                                         period=service.period(*periods[0], "Asia/Shanghai"))
        one_by_one = {g.id: (await service.figures(session, scope="guide", keys=[g.id],
                                                   period=service.period(*periods[0], "Asia/Shanghai")))[g.id]
                      for g in guides}
    assert {k: as_dict(v) for k, v in everyone.items()} == {k: as_dict(v) for k, v in one_by_one.items()}
