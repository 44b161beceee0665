"""The client book: the members a guide serves, for the tablet.

Who sees which book: a guide their own (members bound to them); a store manager any guide's of
their store, or the whole store's (members who joined there or are bound to one of its guides);
HQ any guide's, or every member. Filters: a segment (the rule of kpi/segments.py, in SQL), and a
search of the member number, the nickname, or the last four digits of the phone. Newest members
first, keyset-paged by membership id, with the total of the filtered book.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, or_, select, true
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


def _search(query: str):
    """Member number (or the brand's old one, from an import), nickname, or the phone's last four digits."""
    text = query.strip()
    if not text or len(text) > MAX_QUERY:
        raise InvalidInput("Search with 1 to {n} characters", n=MAX_QUERY, field=["query"])
    like = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    person = aliased(Customer)
    about_them = [person.nickname.ilike(f"%{like}%", escape="\\")]
    if len(text) == 4 and text.isascii() and text.isdigit():
        about_them.append(person.phone_masked.like(f"%{text}"))  # the masked form keeps the last four
    # The customer is looked up by key for each member of the book: a correlated scalar subquery,
    # which the planner cannot turn into a scan of every customer (as it does a join or EXISTS) -
    # a guide's book is a few thousand members, the customer table may hold millions.
    return or_(Membership.member_no == text, Membership.former_no == text,
               select(or_(*about_them)).where(person.id == Membership.customer_id).scalar_subquery())


async def page(session: AsyncSession, *, book: Book, segment: MemberSegment | None, query: str | None,
               first: int, before_id: int | None, settings: Settings, now: dt.datetime | None = None
               ) -> tuple[list[tuple[Membership, Customer]], bool, int]:
    """(members newest first, whether more follow, how many the filtered book holds)."""
    if not 0 < first <= MAX_PAGE:
        raise InvalidInput("first must be 1 to {n}", n=MAX_PAGE, field=["first"])
    # A deleted (anonymised) customer keeps their membership for the KPIs but leaves every book.
    dead = aliased(Customer)
    gone = select(dead.id).where(dead.id == Membership.customer_id, dead.deleted_at.is_not(None))
    conditions = [~gone.exists()]
    if book.guide_id is not None:
        conditions.append(Membership.guide_id == book.guide_id)
    elif book.store_id is not None:
        guides_here = select(Staff.id).where(Staff.store_id == book.store_id).scalar_subquery()
        conditions.append(or_(Membership.join_store_id == book.store_id, Membership.guide_id.in_(guides_here)))
    members = select(Membership.id).select_from(Membership)
    if query is not None:
        conditions.append(_search(query))
    if segment is not None:
        now = now or utcnow()
        found = segments.activity_of_each(now, settings)
        members = members.outerjoin(found, true())
        conditions.append(segments.segment_of(found, now, settings) == segment.value)
    members = members.where(*conditions)
    # One statement for the count and the page: the filtered book is read once (with a segment
    # filter, its per-member activity is the costly part), counted by a window over all of it,
    # and the cursor applies after the count.
    book_rows = members.add_columns(func.count().over().label("total")).subquery()
    page_ids = select(book_rows.c.id, book_rows.c.total)
    if before_id is not None:
        page_ids = page_ids.where(book_rows.c.id < before_id)
    page = page_ids.order_by(book_rows.c.id.desc()).limit(first + 1).subquery()
    rows = (await session.execute(
        select(Membership, Customer, page.c.total).join(page, page.c.id == Membership.id)
        .join(Customer, Customer.id == Membership.customer_id).order_by(Membership.id.desc())
    )).all()
    if rows:
        total = rows[0][2]
    elif before_id is None:
        total = 0
    else:  # past the last page: the count needs a statement of its own
        total = (await session.execute(select(func.count()).select_from(members.subquery()))).scalar_one()
    return [(m, c) for m, c, _ in rows[:first]], len(rows) > first, total
