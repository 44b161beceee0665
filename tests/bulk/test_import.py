"""storelink import: a brand moves in kind by kind; loading again changes nothing; OneID matches
members by phone; imported orders are history."""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select, text

from storelink import phone_cipher

from storelink.accounts.models import Customer, Staff
from storelink.accounts.service import phone_of
from storelink.catalog.models import Sku, StoreStock
from storelink.loyalty.models import PointsEntry
from storelink.members.models import ConsentRecord, JoinCode, Membership
from storelink.orders.models import Order, OrderLine
from storelink.stores.models import Store
from tests.builders import BIND_PHONE, codes_of
from tests.bulk.conftest import MEMBERS, ORDERS, PRODUCTS, STAFF, STOCK, STORES
from tests.members.test_oneid import ENROLL, enroll_input

LOGIN = "mutation($u: String!, $p: String!) { staffLogin(username: $u, password: $p) { accessToken userErrors { code } } }"


async def _one(sessionmaker, statement):
    async with sessionmaker() as session:
        return (await session.execute(statement)).all()


async def test_a_brand_moves_in_kind_by_kind(brand, sessionmaker, api):
    # given the example brand loaded (conftest.brand)
    # when its rows are read back
    # then stores, staff, catalog and stock are there
    stores = {s.code: s for s, in await _one(sessionmaker, select(Store))}
    assert stores["SH01"].opening_hours[0] == {"weekday": 1, "opens": "10:00", "closes": "22:00"}
    assert len(stores["SH01"].opening_hours) == 7 and stores["BJ01"].ships_online_orders is False
    assert stores["BJ01"].lat != 39.9042  # WGS84 was moved to GCJ-02
    codes = await _one(sessionmaker, select(Staff.username).join(JoinCode, JoinCode.guide_id == Staff.id)
                       .where(JoinCode.personal).order_by(Staff.username))
    assert [u for u, in codes] == ["bj01-guide", "sh01-guide"]
    assert (await api.data(LOGIN, {"u": "sh01-guide", "p": "guide-password-1"}))["staffLogin"]["accessToken"]
    no_password = (await api.data(LOGIN, {"u": "bj01-guide", "p": "anything-at-all"}))["staffLogin"]
    assert no_password["accessToken"] is None
    skus = dict(await _one(sessionmaker, select(Sku.code, Sku.online_stock)))
    assert skus == {"COAT1-M": 50, "COAT1-L": 0, "SCARF-1": 0}
    assert len(await _one(sessionmaker, select(StoreStock))) == 2
    # members: sealed phones, the old number kept, opening points as one entry, consent on joined_at
    members = await _one(sessionmaker, select(Customer, Membership).join(Membership).order_by(Membership.id))
    assert [phone_of(c) for c, _ in members] == ["13800138001", "13800138002", "13900138003"]
    first, second, third = (m for _, m in members)
    assert (first.former_no, first.join_channel, second.former_no) == ("OLD-0001", "IMPORTED", "OLD-0002")
    assert first.guide_id == first.recruited_by_id is not None and second.guide_id is None
    assert third.join_store_id == stores["BJ01"].id  # the guide's store
    points = await _one(sessionmaker, select(PointsEntry.membership_id, PointsEntry.delta, PointsEntry.reason))
    assert points == [(first.id, 1200, "OPENING_BALANCE")]
    consents = await _one(sessionmaker, select(ConsentRecord.kind, ConsentRecord.granted, ConsentRecord.recorded_at)
                          .where(ConsentRecord.customer_id == members[0][0].id).order_by(ConsentRecord.kind))
    assert [(k, g) for k, g, _ in consents] == [("MARKETING", True), ("PRIVACY", True)]
    assert consents[0][2] == first.joined_at
    # orders: history, completed, credited to the member, store and guide; no points, no stock moved
    orders = {o.order_no: o for o, in await _one(sessionmaker, select(Order))}
    assert {o.status for o in orders.values()} == {"COMPLETED"}
    assert orders["P-1001"].total_fen == 199900 + 2 * 39900 and orders["P-1001"].customer_id == members[0][0].id
    assert orders["P-1001"].member_channel == "IMPORTED" and orders["P-1002"].customer_id is None
    assert orders["W-2001"].guide_id == first.guide_id and orders["W-2001"].points_earned == 0
    assert len(await _one(sessionmaker, select(OrderLine))) == 4
    assert len(points) == 1 and skus["COAT1-M"] == 50


async def test_loading_the_same_files_again_changes_nothing(brand, sessionmaker):
    # given the brand loaded once; when every file is loaded again
    reports = {kind: await brand(kind, body) for kind, body in (
        ("stores", STORES), ("staff", STAFF), ("products", PRODUCTS), ("stock", STOCK), ("members", MEMBERS),
        ("orders", ORDERS))}
    # then nothing is inserted; only the staff rows that carry a password set it again
    summary = {kind: (r.counts.inserted, r.counts.updated, r.counts.unchanged) for kind, r in reports.items()}
    assert summary == {"stores": (0, 0, 2), "staff": (0, 3, 1), "products": (0, 0, 3), "stock": (0, 0, 3),
                       "members": (0, 0, 3), "orders": (0, 0, 4)}
    counts = await _one(sessionmaker, text(
        "SELECT (SELECT count(*) FROM customer), (SELECT count(*) FROM membership), "
        "(SELECT count(*) FROM points_entry), (SELECT count(*) FROM sales_order), (SELECT count(*) FROM order_line)"))
    assert counts == [(3, 3, 1, 3, 4)]


async def test_a_member_who_binds_the_imported_phone_in_the_app_takes_over(brand, api, world):
    # given imported member 13800138001 (1200 points, two orders); when they sign in with WeChat and bind it
    token, _ = await world.customer("wx-imported")
    bound = await api.data(BIND_PHONE, {"c": "phone-13800138001-imported"}, token)
    me = await api.data("{ me { membership { memberNo points } } }", token=token)
    # then the app account is that member, with the points brought over
    assert bound["bindPhone"]["userErrors"] == []
    assert me["me"]["membership"]["points"] == 1200


async def test_members_already_in_storelink_are_matched_by_phone(load, api, world, sessionmaker):
    # given the brand's stores and staff, and a customer who joined in the app with 13800138001
    await load("stores", STORES)
    await load("staff", STAFF)
    token, _ = await world.customer("wx-early")
    await api.data(BIND_PHONE, {"c": "phone-13800138001-early"}, token)
    joined = await api.data('mutation { joinOnline(consent: {privacyPolicyVersion: "2026-01", marketing: false}) '
                            '{ userErrors { code } } }', token=token)
    # when the old CRM's members are imported
    report = await load("members", MEMBERS)
    # then that member gains the old number and opening balance, and no second membership is made
    assert report.counts.inserted == 2 and report.counts.updated == 1, (joined, report.problems)
    rows = await _one(sessionmaker, select(Membership.former_no, Membership.join_channel).order_by(Membership.id))
    assert rows[0] == ("OLD-0001", "ONLINE") and len(rows) == 3


@pytest.mark.parametrize("head_start", [0.0, 0.02, 0.05])
async def test_a_till_enrolment_and_an_import_of_the_same_phone_make_one_member(
        mall, api, load, sessionmaker, head_start):
    # given a members file with a phone that guides are enrolling at the till at the same moment
    body = "phone,joined_at,store_code,guide_username\n13900139009,2024-01-01,S1,guide-a\n"
    guide = mall.guides["guide-b"][1]

    async def enrol():
        await asyncio.sleep(head_start)
        return (await api.data(ENROLL, enroll_input(mall, "13900139009"), guide))["enrollAtTill"]

    # when the import and five enrolments run at once
    report, *enrolments = await asyncio.gather(load("members", body), *(enrol() for _ in range(5)))
    # then there is one member with that phone, whoever came first
    async with sessionmaker() as session:
        members = (await session.execute(
            select(func.count()).select_from(Membership).join(Customer, Customer.id == Membership.customer_id)
            .where(Customer.phone_index.in_(phone_cipher.keyring().indexes("13900139009"))))).scalar_one()
    made = sum(e["userErrors"] == [] for e in enrolments) + report.counts.inserted
    assert members == 1 and made == 1, (report.counts, enrolments)
    assert all(codes_of(e) in ([], ["ALREADY_MEMBER"]) for e in enrolments)


async def test_the_guide_finds_imported_members_by_their_old_number_with_their_history(brand, api):
    # given the brand loaded; when sh01-guide signs in and searches the book for the old CRM number
    token = (await api.data(LOGIN, {"u": "sh01-guide", "p": "guide-password-1"}))["staffLogin"]["accessToken"]
    book = await api.data("query($q: String) { clientBook(first: 20, query: $q) { totalCount edges { node { "
                          "phoneMasked ordersCount lifetimeSpendFen } } } }", {"q": "OLD-0001"}, token)
    # then the member is there, masked, with the imported orders counted
    assert book["clientBook"]["totalCount"] == 1
    assert book["clientBook"]["edges"][0]["node"] == {
        "phoneMasked": "138****8001", "ordersCount": 2, "lifetimeSpendFen": 199900 + 2 * 39900 + 39900}
