"""The client book: who sees which members, the segment and search filters, paging with a total,
and each member's purchase summary."""
from __future__ import annotations

import pytest
from sqlalchemy import update

from storelink.accounts.models import Customer
from storelink.accounts.service import phone_columns
from tests.builders import top_level_codes

BOOK = """
query($g: ID, $s: MemberSegment, $q: String, $first: Int! = 20, $after: String) {
  clientBook(guideId: $g, segment: $s, query: $q, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { memberNo nickname phoneMasked segment ordersCount lifetimeSpendFen lastPurchaseAt
                          guide { name } } }
  }
}
"""
ME = "query { me { membership { memberNo } } }"


async def _member_no(api, token) -> str:
    return (await api.data(ME, token=token))["me"]["membership"]["memberNo"]


def _numbers(body) -> list[str]:
    return [e["node"]["memberNo"] for e in body["data"]["clientBook"]["edges"]]


async def _book(api, token, **variables) -> dict:
    return await api.post(BOOK, variables, token)


async def test_each_viewer_sees_the_book_they_serve(api, mall):
    # given members of guide a and b at S1, and of guide c at S2
    a1, a2 = await mall.member("a1", "guide-a"), await mall.member("a2", "guide-a")
    b1 = await mall.member("b1", "guide-b")
    c1 = await mall.member("c1", "guide-c")
    online = await mall.member("o1", guide=None)
    number = {t: await _member_no(api, t) for t in (a1, a2, b1, c1, online)}
    guide_a, guide_b = mall.guides["guide-a"], mall.guides["guide-b"]
    gid_b = (await api.data("query { staffMe { id } }", token=guide_b[1]))["staffMe"]["id"]
    gid_c = (await api.data("query { staffMe { id } }", token=mall.guides["guide-c"][1]))["staffMe"]["id"]
    # when each viewer opens a book
    own = await _book(api, guide_a[1])
    other_guides = await _book(api, guide_a[1], g=gid_b)
    manager_guide = await _book(api, mall.managers["S1"], g=gid_b)
    manager_store = await _book(api, mall.managers["S1"])
    manager_elsewhere = await _book(api, mall.managers["S1"], g=gid_c)
    hq_all = await _book(api, mall.hq)
    customer = await _book(api, a1)
    # then a guide sees their own members, newest first
    assert _numbers(own) == [number[a2], number[a1]] and own["data"]["clientBook"]["totalCount"] == 2
    assert top_level_codes(other_guides) == ["FORBIDDEN"]
    # a manager any guide of their store, or the whole store, never another store's
    assert _numbers(manager_guide) == [number[b1]]
    assert sorted(_numbers(manager_store)) == sorted([number[a1], number[a2], number[b1]])
    assert top_level_codes(manager_elsewhere) == ["FORBIDDEN"]
    # HQ everyone; a customer nothing
    assert sorted(_numbers(hq_all)) == sorted(number.values())
    assert top_level_codes(customer) == ["FORBIDDEN"]


async def test_search_by_member_number_nickname_and_last_four(api, mall, sessionmaker):
    # given three members of guide a, one with a nickname
    alice = await mall.member("alice")
    bob = await mall.member("bob")
    await mall.member("carol")
    async with sessionmaker() as session:
        await session.execute(update(Customer).where(Customer.id == await mall.customer_pk(alice))
                              .values(nickname="Alice 小红"))
        await session.execute(update(Customer).where(Customer.id == await mall.customer_pk(bob))
                              .values(**phone_columns("13900001234")))
        await session.commit()
    token = mall.guides["guide-a"][1]
    # when the book is searched
    by_number = await _book(api, token, q=await _member_no(api, bob))
    by_nickname = await _book(api, token, q="小红")
    by_nickname_case = await _book(api, token, q="alice")
    by_last_four = await _book(api, token, q="1234")
    nothing = await _book(api, token, q="%_")
    # then each finds its member, and a pattern is taken literally
    assert _numbers(by_number) == [await _member_no(api, bob)]
    assert _numbers(by_nickname) == _numbers(by_nickname_case) == [await _member_no(api, alice)]
    assert _numbers(by_last_four) == [await _member_no(api, bob)]
    assert by_last_four["data"]["clientBook"]["edges"][0]["node"]["phoneMasked"] == "139****1234"
    assert _numbers(nothing) == []


async def test_segment_filter_and_purchase_summary(api, mall):
    # given a member who bought twice in the store, one who bought once online, one who bought nothing
    # (all joined today: one order or none keeps a member NEW; two make them active)
    in_store, on_line, browser = await mall.member("shopper"), await mall.member("clicker"), await mall.member("browser")
    for receipt in ("R-1", "R-2"):
        sale = await mall.record(mall.guides["guide-a"][1], receipt=receipt, memberCode=await mall.member_code(in_store))
        assert sale["userErrors"] == [], sale
    await mall.add(on_line, "COAT-M")
    await mall.pay((await mall.checkout(on_line))["order"])
    token = mall.guides["guide-a"][1]
    # when the book is filtered by segment
    store_experience = await _book(api, token, s="STORE_EXPERIENCE")
    new = await _book(api, token, s="NEW")
    dormant = await _book(api, token, s="DORMANT")
    # then each segment holds its members, with the purchase summary
    assert _numbers(store_experience) == [await _member_no(api, in_store)]
    assert store_experience["data"]["clientBook"]["totalCount"] == 1
    node = store_experience["data"]["clientBook"]["edges"][0]["node"]
    assert (node["segment"], node["ordersCount"], node["lifetimeSpendFen"]) == ("STORE_EXPERIENCE", 2, 79800)
    assert node["lastPurchaseAt"] is not None
    assert sorted(_numbers(new)) == sorted([await _member_no(api, on_line), await _member_no(api, browser)])
    assert [e["node"]["segment"] for e in new["data"]["clientBook"]["edges"]] == ["NEW", "NEW"]
    assert dormant["data"]["clientBook"] == {"totalCount": 0, "pageInfo": {"hasNextPage": False, "endCursor": None},
                                             "edges": []}


async def test_pages_carry_the_total_and_the_statements_do_not_grow(api, mall, count_statements):
    # given five members of guide a
    tokens = [await mall.member(f"m{i}") for i in range(5)]
    numbers = [await _member_no(api, t) for t in reversed(tokens)]  # newest first
    guide = mall.guides["guide-a"][1]
    # when the book is read two at a time
    seen, after, totals = [], None, set()
    while True:
        page = (await _book(api, guide, first=2, after=after))["data"]["clientBook"]
        seen += [e["node"]["memberNo"] for e in page["edges"]]
        totals.add(page["totalCount"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    # then every member comes once, in order, and the total is the same on every page
    assert seen == numbers and totals == {5}
    # and a page of five costs the statements a page of one does
    with count_statements() as one:
        await _book(api, guide, first=1)
    with count_statements() as five:
        await _book(api, guide, first=5)
    assert five.count == one.count


@pytest.mark.parametrize("variables,code", [
    ({"first": 0}, "INVALID_INPUT"), ({"first": 101}, "INVALID_INPUT"), ({"q": ""}, "INVALID_INPUT"),
    ({"q": "x" * 33}, "INVALID_INPUT"), ({"after": "@@@"}, "INVALID_INPUT"),
    ({"g": "U3RhZmY6OTk5OTk5"}, "NOT_FOUND"),  # Staff:999999
])
async def test_bad_arguments_are_refused(api, mall, variables, code):
    # when
    body = await _book(api, mall.hq, **variables)
    # then
    assert top_level_codes(body) == [code] and body["data"] is None


async def test_a_manager_may_not_open_a_book_of_another_store_by_a_customer_id(api, mall):
    # given
    token = await mall.member("z")
    customer_gid = (await api.data("query { me { id } }", token=token))["me"]["id"]
    # when
    body = await _book(api, mall.managers["S1"], g=customer_gid)
    # then
    assert top_level_codes(body) == ["NOT_FOUND"]
