"""The client book: the members a guide serves, for the tablet.

Who sees which book: a guide their own (members bound to them); a store manager any guide's of
their store, or the whole store's (members who joined there or are bound to one of its guides);
HQ any guide's, or every member. Filters: a segment (the rule of kpi/segments.py, in SQL), and a
search of the member number, the nickname, or the last four digits of the phone. Newest members
first, keyset-paged by membership id, with the total of the filtered book.
"""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from sqlalchemy import Integer, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storelink.accounts import permissions
from storelink.accounts.models import Customer, Staff, StaffRole
from storelink.clock import utcnow
from storelink.errors import Forbidden, InvalidInput, NotFound
from storelink.kpi import segments
from storelink.members.models import Membership, MemberSegment
from storelink.settings import Settings

MAX_PAGE = 100
MAX_QUERY = 32


@dataclass(frozen=True)
class Book:
    """Whose members: one guide's, one store's, or (both None) the brand's."""

    guide_id: int | None = None
    store_id: int | None = None


async def book_for(session: AsyncSession, viewer: Staff, guide_id: int | None) -> Book:
    if guide_id is not None:
        guide = await session.get(Staff, guide_id)
        if guide is None or guide.role != StaffRole.GUIDE:
            raise NotFound("No such guide", field=["guideId"])
        if viewer.role == StaffRole.GUIDE and viewer.id != guide.id:
            raise Forbidden("Guides see their own client book")
        if not permissions.can_see_store(viewer, guide.store_id):
            raise Forbidden("This guide works at another store")
        return Book(guide_id=guide.id)
    if viewer.role == StaffRole.GUIDE:
        return Book(guide_id=viewer.id)
    if permissions.is_hq(viewer):
        return Book()
    return Book(store_id=viewer.store_id)


def _search_terms(query: str) -> dict[str, str | None]:
    """The parameters of a search: member number (or the brand's old one, from an import),
    nickname, or the phone's last four digits."""
    text = query.strip()
    if not text or len(text) > MAX_QUERY:
        raise InvalidInput("Search with 1 to {n} characters", n=MAX_QUERY, field=["query"])
    like = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    last_four = len(text) == 4 and text.isascii() and text.isdigit()
    return {"q": text, "q_like": f"%{like}%", "q_tail": f"%{text}" if last_four else None}


def _search():
    person = aliased(Customer)
    about_them = or_(person.nickname.ilike(bindparam("q_like"), escape="\\"),
                     person.phone_masked.like(bindparam("q_tail")))  # the masked form keeps the last four
    # The customer is looked up by key for each member of the book: a correlated scalar subquery,
    # which the planner cannot turn into a scan of every customer (as it does a join or EXISTS) -
    # a guide's book is a few thousand members, the customer table may hold millions.
    return or_(Membership.member_no == bindparam("q"), Membership.former_no == bindparam("q"),
               select(about_them).where(person.id == Membership.customer_id).scalar_subquery())


@functools.cache
def _statements(whose: str, search: bool, by_segment: bool, after: bool):
    """(the page with the total, the count alone) for one shape of request, built once: every
    request of the book asks, and building these cost more than running them. Values are
    parameters: guide_id or store_id (by `whose`), the search's, segment and the windows,
    before_id, limit."""
    # A deleted (anonymised) customer keeps their membership for the KPIs but leaves every book.
    dead = aliased(Customer)
    gone = select(dead.id).where(dead.id == Membership.customer_id, dead.deleted_at.is_not(None))
    conditions = [~gone.exists()]
    if whose == "guide":
        conditions.append(Membership.guide_id == bindparam("guide_id"))
    elif whose == "store":
        guides_here = select(Staff.id).where(Staff.store_id == bindparam("store_id")).scalar_subquery()
        conditions.append(or_(Membership.join_store_id == bindparam("store_id"), Membership.guide_id.in_(guides_here)))
    members = select(Membership.id).select_from(Membership)
    if search:
        conditions.append(_search())
    if by_segment:
        members, facts = segments.with_facts(members)
        conditions.append(segments.segment_of(facts) == bindparam("segment"))
    members = members.where(*conditions)
    # One statement for the count and the page: the filtered book is read once, counted by a
    # window over all of it, and the cursor applies after the count.
    book_rows = members.add_columns(func.count().over().label("total")).subquery()
    page_ids = select(book_rows.c.id, book_rows.c.total)
    if after:
        page_ids = page_ids.where(book_rows.c.id < bindparam("before_id"))
    page = page_ids.order_by(book_rows.c.id.desc()).limit(bindparam("limit", type_=Integer)).subquery()
    rows = (select(Membership, Customer, page.c.total).join(page, page.c.id == Membership.id)
            .join(Customer, Customer.id == Membership.customer_id).order_by(Membership.id.desc()))
    return rows, select(func.count()).select_from(members.subquery())


async def page(session: AsyncSession, *, book: Book, segment: MemberSegment | None, query: str | None,
               first: int, before_id: int | None, settings: Settings, now: dt.datetime | None = None
               ) -> tuple[list[tuple[Membership, Customer]], bool, int]:
    """(members newest first, whether more follow, how many the filtered book holds)."""
    if not 0 < first <= MAX_PAGE:
        raise InvalidInput("first must be 1 to {n}", n=MAX_PAGE, field=["first"])
    whose = "guide" if book.guide_id is not None else "store" if book.store_id is not None else "brand"
    params: dict = {"guide_id": book.guide_id, "store_id": book.store_id, "before_id": before_id,
                    "limit": first + 1}
    if query is not None:
        params.update(_search_terms(query))
    if segment is not None:
        params.update(segments.windows(now or utcnow(), settings), segment=segment.value)
    rows_statement, count_statement = _statements(whose, query is not None, segment is not None,
                                                  before_id is not None)
    rows = (await session.execute(rows_statement, params)).all()
    if rows:
        total = rows[0][2]
    elif before_id is None:
        total = 0
    else:  # past the last page: the count needs a statement of its own
        total = (await session.execute(count_statement, params)).scalar_one()
    return [(m, c) for m, c, _ in rows[:first]], len(rows) > first, total
