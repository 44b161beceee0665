"""IDs that decode but name nothing that can exist (past the id column's range, not ASCII digits)
are NOT_FOUND in mutations and null in queries; a customer cannot tell someone else's object from
a missing one."""
from __future__ import annotations

import base64

import pytest

from tests.builders import codes_of
from tests.hardening.common import gql, top_codes


def gid(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


UNFIT = [gid("Store:2147483648"), gid("Store:999999999999999999"), gid("Store:²"), gid("Store:-1"),
         gid("Store:0"), gid("Store:1e3"), gid("Store: 1"), gid("Store:١٢")]


@pytest.mark.parametrize("store_id", UNFIT)
async def test_store_queries_answer_null(api, store_id):
    # when a query names a store that cannot exist
    body = await api.post("query($id: ID!) { store(id: $id) { name } node(id: $id) { id } }", {"id": store_id})
    # then it is simply not there
    assert body == {"data": {"store": None, "node": None}}


@pytest.mark.parametrize("store_id", UNFIT)
async def test_mutations_and_lookups_answer_not_found(api, mall, store_id):
    token = await mall.member("idtester")
    sku = gid("Sku:2147483648")
    # when mutations and lookups name rows that cannot exist
    cart = (await api.data("mutation($s: ID!) { addToCart(skuId: $s, quantity: 1) { userErrors { code } } }",
                           {"s": sku}, token))["addToCart"]
    book = (await api.data(
        "mutation($i: BookAppointmentInput!) { bookAppointment(input: $i) { userErrors { code field } } }",
        {"i": {"storeId": store_id, "serviceId": gid("ServiceType:1"), "startAt": "2026-12-01T10:00:00+08:00"}},
        token))["bookAppointment"]
    cancel = (await api.data("mutation($id: ID!) { cancelAppointment(id: $id) { userErrors { code } } }",
                             {"id": gid("Appointment:99999999999")}, token))["cancelAppointment"]
    slots = await api.post("query($s: ID!) { availableSlots(storeId: $s, serviceId: \"U2VydmljZVR5cGU6MQ\", "
                           "date: \"2026-12-01\") { remaining } }", {"s": store_id})
    recommend = await api.post("query($m: ID!, $s: ID!) { memberRecommendations(memberId: $m, storeId: $s) { id } }",
                               {"m": gid("MemberProfile:4294967296"), "s": store_id}, mall.managers["S1"])
    # then each is NOT_FOUND, with nothing changed
    assert codes_of(cart) == ["NOT_FOUND"] and codes_of(book) == ["NOT_FOUND"]
    assert codes_of(cancel) == ["NOT_FOUND"]
    assert top_codes(slots) == ["NOT_FOUND"] and top_codes(recommend) == ["NOT_FOUND"]
    assert (await mall.me(token))["cart"]["itemCount"] == 0


@pytest.mark.parametrize("name", ["99999999999999999.csv", "2147483648.csv", f"{gid('Store:2147483648')}.csv",
                                  f"{gid('Store:²')}.csv", f"{gid('Staff:1')}.csv", "%00.csv", "x.csv"])
async def test_the_csv_report_of_a_store_that_cannot_exist_is_404(client, mall, name):
    # when
    resp = await client.get(f"/reports/store/{name}?from=2026-10-01&to=2026-10-31",
                            headers={"authorization": f"Bearer {mall.hq}"})
    # then
    assert resp.status_code == 404


async def test_the_csv_report_takes_the_store_global_id(client, mall):
    # when
    resp = await client.get(f"/reports/store/{mall.stores['S1']}.csv?from=2026-10-01&to=2026-10-31",
                            headers={"authorization": f"Bearer {mall.hq}"})
    # then
    assert resp.status_code == 200 and resp.text.splitlines()[1].startswith("门店,")


NODE = "query($id: ID!) { node(id: $id) { id } }"


async def test_someone_elses_objects_read_as_missing_to_a_customer(api, mall):
    # given two customers; Bob has an order, a coupon and an appointment-free account
    alice, bob = await mall.member("alice"), await mall.member("bob")
    await mall.add(bob, "SCARF-1")
    order = (await mall.checkout(bob))["order"]
    campaign = await mall.campaign()
    coupon = (await mall.claim(bob, campaign))["coupon"]
    bob_id = (await api.data("query { me { id } }", token=bob))["me"]["id"]
    # when Alice asks for Bob's things, and for things that do not exist
    theirs = [await api.post(NODE, {"id": i}, alice) for i in (order["id"], coupon["id"], bob_id)]
    missing = [await api.post(NODE, {"id": gid(f"{kind}:999999")}, alice) for kind in ("Order", "Coupon", "Customer")]
    # then both read the same: null, no error
    assert theirs == missing == [{"data": {"node": None}}] * 3
    # and cancelling someone else's appointment reads like a missing one
    cancel = (await api.data("mutation($id: ID!) { cancelAppointment(id: $id) { userErrors { code } } }",
                             {"id": gid("Appointment:999999")}, alice))["cancelAppointment"]
    assert codes_of(cancel) == ["NOT_FOUND"]


async def test_staff_of_another_store_are_still_told_forbidden(api, mall):
    # given
    token = await mall.member("carol", guide="guide-c")  # joined at S2
    await mall.add(token, "SCARF-1")
    order = (await mall.checkout(token))["order"]
    # when
    body = await api.post(NODE, {"id": order["id"]}, mall.managers["S1"])
    # then
    assert top_codes(body) == ["FORBIDDEN"]


async def test_ids_over_the_live_server_too(http):
    # when
    status, body = await gql(http, "query($id: ID!) { store(id: $id) { name } }", {"id": gid("Store:2147483648")})
    # then
    assert (status, body) == (200, {"data": {"store": None}})
