"""Throttles count an attempt before judging it, so truly parallel attempts cannot all slip under
the limit (over real HTTP to a uvicorn server, every request in flight at once)."""
from __future__ import annotations

import asyncio
from collections import Counter

from tests.builders import JOIN, STAFF_LOGIN, member_customer, personal_code
from tests.hardening.common import gql

SCAN = """
mutation($code: String!, $store: ID!) { scanCode(code: $code, storeId: $store) {
  result { __typename } userErrors { code } } }
"""


async def test_parallel_wrong_passwords_are_judged_at_most_the_limit(http, world):
    # given a staff member and the login limit of 5 failures
    await world.staff("cashier", "HQ_ADMIN")
    # when 24 wrong passwords arrive at once
    answers = await asyncio.gather(*[
        gql(http, STAFF_LOGIN, {"u": "cashier", "p": f"wrong-password-{i}"}) for i in range(24)])
    # then exactly 5 were checked against the password and 19 were refused unread
    outcome = Counter(body["data"]["staffLogin"]["userErrors"][0]["code"] for _, body in answers)
    assert outcome == {"UNAUTHENTICATED": 5, "RATE_LIMITED": 19}
    # and the right password is refused too until the window ends
    _, body = await gql(http, STAFF_LOGIN, {"u": "cashier", "p": "correct-horse-battery"})
    assert [e["code"] for e in body["data"]["staffLogin"]["userErrors"]] == ["RATE_LIMITED"]


async def test_a_good_login_after_failures_clears_the_count(http, world):
    # given four wrong passwords
    await world.staff("cashier2", "HQ_ADMIN")
    for i in range(4):
        await gql(http, STAFF_LOGIN, {"u": "cashier2", "p": f"nope-{i}"})
    # when the right one comes, then another five wrong ones
    _, good = await gql(http, STAFF_LOGIN, {"u": "cashier2", "p": "correct-horse-battery"})
    again = [await gql(http, STAFF_LOGIN, {"u": "cashier2", "p": f"nope-{i}"}) for i in range(5)]
    # then the good one signed in, and the slate was clean for the next five
    assert good["data"]["staffLogin"]["accessToken"]
    assert [b["data"]["staffLogin"]["userErrors"][0]["code"] for _, b in again] == ["UNAUTHENTICATED"] * 5


async def test_parallel_join_guesses_are_judged_at_most_the_limit(http, api, world, shop, sessionmaker):
    # given a customer with a phone and the guess limit of 10
    token = await member_customer(api, world, "guesser")
    # when 30 made-up codes arrive at once
    answers = await asyncio.gather(*[gql(http, JOIN, {"code": f"guess{i:05d}"}, token) for i in range(30)])
    # then 10 were looked up and 20 refused
    outcome = Counter(body["data"]["joinByCode"]["userErrors"][0]["code"] for _, body in answers)
    assert outcome == {"CODE_INVALID": 10, "RATE_LIMITED": 20}
    # and even a real code waits for the window
    _, body = await gql(http, JOIN, {"code": await personal_code(sessionmaker, shop.guide_a[0])}, token)
    assert [e["code"] for e in body["data"]["joinByCode"]["userErrors"]] == ["RATE_LIMITED"]


async def test_good_joins_and_rescans_do_not_count_as_guesses(http, api, world, shop, sessionmaker):
    # given a member who joined with a guide's code
    token = await member_customer(api, world, "regular")
    code = await personal_code(sessionmaker, shop.guide_a[0])
    # when they scan good codes twelve times (more than the limit)
    answers = [await gql(http, JOIN, {"code": code}, token) for _ in range(12)]
    # then none was refused
    assert all(body["data"]["joinByCode"]["userErrors"] == [] for _, body in answers)


async def test_parallel_bad_scans_are_judged_at_most_the_limit(http, shop):
    # given a guide's tablet and the scan limit of 20 bad codes
    # when 30 forged member codes are scanned at once
    answers = await asyncio.gather(*[
        gql(http, SCAN, {"code": f"M{i:024d}", "store": shop.store1}, shop.guide_b[1]) for i in range(30)])
    # then 20 were checked and 10 refused
    outcome = Counter(body["data"]["scanCode"]["userErrors"][0]["code"] for _, body in answers)
    assert outcome == {"CODE_INVALID": 20, "RATE_LIMITED": 10}
