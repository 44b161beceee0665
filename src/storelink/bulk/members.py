"""`members`: phone, joined_at, store_code?, guide_username?, points?, marketing_consent?,
member_no?, join_channel?, recruited_by?. The phone is the business key (OneID).

- A phone with a membership: the membership stands as storelink knows it (join facts, guide,
  consent); the import only adds the brand's old member number when it has none, and the opening
  points balance once.
- A phone that a WeChat customer bound without joining: that customer becomes the member.
- Otherwise a new member, known only by phone until they bind it in the mini-program (OneID).
New members: consent recorded as given to the brand before the import, on joined_at; the guide is
both recruiter and exclusive guide from joined_at; the store is the guide's when only a guide is
named; channel IMPORTED unless join_channel says otherwise. join_channel and recruited_by are
beyond the API-NOTES format, so that an export's round trip keeps the KPIs: a file with a
recruited_by column names the guide credited with each join there (empty: none); without it the
guide is the recruiter. An opening points balance is one ledger
entry (OPENING_BALANCE).
"""
from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import aliased
from sqlalchemy.ext.asyncio import AsyncSession

from storelink import db
from storelink.accounts.models import Customer, Staff
from storelink.bulk import fields
from storelink.bulk.common import duplicates, move_in, one_phone_key, unknown
from storelink.bulk.kind import Counts, Kind, Row, Setting
from storelink.loyalty.models import PointsEntry, PointsReason
from storelink.members.models import ConsentRecord, JoinChannel, Membership
from storelink.scanning import codes
from storelink.stores.models import Store

# The privacy policy version written on consents given before storelink (to the brand's old CRM).
IMPORTED_POLICY = "imported"
_CHANNELS = tuple(channel.value for channel in JoinChannel)
MAX_POINTS = 100_000_000


def _member_no(s: Setting) -> str:
    drawn = s.memo.get("member_nos")
    if not drawn:
        drawn = s.memo["member_nos"] = codes.new_member_nos(10_000)
    return drawn.pop()


def record(row: Row, s: Setting) -> tuple:
    number = row.get("phone", fields.phone, required=True)
    sealed = s.keyring.seal(number) if number else None
    consent = row.get("marketing_consent", fields.flag)
    return (
        sealed and sealed.cipher, sealed and sealed.key_id, sealed and sealed.index, sealed and sealed.masked,
        row.get("joined_at", fields.moment, required=True, zone=s.zone, now=s.now),
        row.get("store_code", fields.code), row.get("guide_username", fields.username),
        row.get("points", fields.whole, high=MAX_POINTS, what="number of points") or 0,
        bool(consent), row.get("member_no", fields.text, max_len=32),
        row.get("join_channel", fields.choice, allowed=_CHANNELS) or JoinChannel.IMPORTED.value,
        row.get("recruited_by", fields.username), row.has("recruited_by"),
        _member_no(s),  # used only if the row makes a new member
    )


CHECKS = (
    one_phone_key,
    duplicates("phone_index", "phone"),
    duplicates("former_no", "member_no", where="former_no IS NOT NULL"),
    unknown("store_code", "store", "code", "unknown store code"),
    unknown("guide_username", "staff", "username", "no guide with this username",
            extra="AND t.role = 'GUIDE'"),
    unknown("recruiter", "staff", "username", "no guide with this username", extra="AND t.role = 'GUIDE'",
            report_as="recruited_by"),
    "SELECT r.line, 'guide_username', 'works at store ' || st.code || ', not ' || r.store_code "
    "FROM import_rows r JOIN staff g ON g.username = r.guide_username JOIN store st ON st.id = g.store_id "
    "WHERE r.store_code IS NOT NULL AND st.code <> r.store_code",
    "SELECT r.line, 'member_no', 'already the number of another member' FROM import_rows r "
    "JOIN membership m ON m.former_no = r.former_no JOIN customer c ON c.id = m.customer_id "
    "WHERE c.phone_index IS DISTINCT FROM r.phone_index",
)


async def _resolve(session: AsyncSession) -> None:
    """Who each row is: the customer holding the phone (members first, then WeChat customers,
    oldest first, as OneID does), with ids drawn now for the customers and memberships to make."""
    # The sequences by name, looked up once: pg_get_serial_sequence() in the statement would run
    # for every row (7 of the statement's 10 seconds at a million rows).
    customer_ids, membership_ids = (await session.execute(text(
        "SELECT pg_get_serial_sequence('customer', 'id'), pg_get_serial_sequence('membership', 'id')"))).one()
    await session.execute(text(
        "CREATE TEMP TABLE import_resolved ON COMMIT DROP AS "
        f"SELECT line, coalesce(customer_id, nextval('{customer_ids}'::regclass)) AS customer_id, "
        "customer_id IS NULL AS new_customer, "
        f"coalesce(membership_id, nextval('{membership_ids}'::regclass)) AS membership_id, "
        "membership_id IS NULL AS new_membership, member_no FROM ("
        "  SELECT DISTINCT ON (r.line) r.line, c.id AS customer_id, m.id AS membership_id, r.member_no "
        "  FROM import_rows r "
        "  LEFT JOIN customer c ON c.phone_index = r.phone_index AND c.deleted_at IS NULL "
        "  LEFT JOIN membership m ON m.customer_id = c.id "
        "  ORDER BY r.line, m.id IS NULL, c.openid IS NULL, c.id) found"))
    await session.execute(text("ALTER TABLE import_resolved ADD PRIMARY KEY (line)"))


async def _number_new_members(session: AsyncSession) -> None:
    """Each row drew a member number as it was read; the few that clash (with each other or
    with a member's) draw again, and only those are checked again, until none clashes."""
    lines = (await session.execute(text(
        "SELECT line FROM (SELECT line, member_no, row_number() OVER (PARTITION BY member_no ORDER BY line) AS nth "
        "FROM import_resolved WHERE new_membership) x "
        "WHERE nth > 1 OR EXISTS (SELECT 1 FROM membership m WHERE m.member_no = x.member_no)"))).scalars().all()
    if lines:
        await session.execute(text("CREATE TEMP TABLE import_numbers (line int, member_no text) ON COMMIT DROP"))
    while lines:
        await session.execute(text("TRUNCATE import_numbers"))
        await db.copy_rows(session, "import_numbers", ["line", "member_no"],
                           list(zip(lines, codes.new_member_nos(len(lines)))))
        await session.execute(text("ANALYZE import_numbers"))  # a few rows against a million: hash them
        await session.execute(text(
            "UPDATE import_resolved x SET member_no = n.member_no FROM import_numbers n WHERE n.line = x.line"))
        lines = (await session.execute(text(
            "SELECT n.line FROM import_numbers n JOIN import_resolved x ON x.member_no = n.member_no "
            "  AND x.line <> n.line AND x.new_membership "
            "UNION SELECT n.line FROM import_numbers n JOIN membership m ON m.member_no = n.member_no"))).scalars().all()


async def load(session: AsyncSession, s: Setting) -> Counts:
    # Till enrolments and phone binding take a per-phone lock; a file of a million phones cannot,
    # so new phones wait for this one transaction instead (run big imports out of hours).
    await session.execute(text("LOCK TABLE customer IN SHARE ROW EXCLUSIVE MODE"))
    await _resolve(session)
    await _number_new_members(session)
    rows = (await session.execute(text("SELECT count(*) FROM import_resolved"))).scalar_one()
    async with move_in(session, _WRITTEN, rows):
        return await _write(session, s)


# What a members import writes, in order.
_WRITTEN = ("customer", "membership", "consent_record", "binding_change", "points_entry")


async def _write(session: AsyncSession, s: Setting) -> Counts:
    joined = ("FROM import_rows r JOIN import_resolved x ON x.line = r.line "
              "LEFT JOIN staff g ON g.username = r.guide_username "
              "LEFT JOIN staff rg ON rg.username = CASE WHEN r.has_recruiter THEN r.recruiter ELSE r.guide_username END "
              "LEFT JOIN store st ON st.code = r.store_code ")
    await session.execute(text(
        "INSERT INTO customer (id, phone_sealed, phone_key_id, phone_index, phone_masked, phone_country_code, "
        "phone_bound_at, created_at) SELECT x.customer_id, r.phone_sealed, r.phone_key_id, r.phone_index, "
        f"r.phone_masked, '86', r.joined_at, r.joined_at {joined} WHERE x.new_customer"))
    await session.execute(text(
        "INSERT INTO membership (id, customer_id, member_no, former_no, join_channel, join_store_id, "
        "recruited_by_id, guide_id, bound_at, joined_at) "
        "SELECT x.membership_id, x.customer_id, x.member_no, r.former_no, r.channel, coalesce(st.id, g.store_id), "
        f"rg.id, g.id, CASE WHEN g.id IS NOT NULL THEN r.joined_at END, r.joined_at {joined} WHERE x.new_membership"))
    await session.execute(text(
        "INSERT INTO consent_record (customer_id, kind, policy_version, granted, recorded_at, store_id) "
        f"SELECT x.customer_id, kind, CASE WHEN kind = 'PRIVACY' THEN '{IMPORTED_POLICY}' END, "
        "CASE WHEN kind = 'PRIVACY' THEN true ELSE r.marketing END, r.joined_at, coalesce(st.id, g.store_id) "
        f"{joined} CROSS JOIN (VALUES ('PRIVACY'), ('MARKETING')) k(kind) WHERE x.new_membership"))
    await session.execute(text(
        "INSERT INTO binding_change (membership_id, to_guide_id, reason, changed_at) "
        f"SELECT x.membership_id, g.id, 'JOIN', r.joined_at {joined} WHERE x.new_membership AND g.id IS NOT NULL"))
    numbered = (await session.execute(text(
        "WITH up AS (UPDATE membership m SET former_no = r.former_no FROM import_rows r "
        "JOIN import_resolved x ON x.line = r.line "
        "WHERE m.id = x.membership_id AND NOT x.new_membership AND r.former_no IS NOT NULL AND m.former_no IS NULL "
        "RETURNING x.line) SELECT array_agg(line) FROM up"))).scalar_one() or []
    opened = (await session.execute(text(
        "WITH up AS (INSERT INTO points_entry (membership_id, delta, reason, created_at) "
        f"SELECT x.membership_id, r.points, '{PointsReason.OPENING_BALANCE.value}', r.joined_at "
        "FROM import_rows r JOIN import_resolved x ON x.line = r.line WHERE r.points > 0 AND NOT EXISTS ("
        "  SELECT 1 FROM points_entry p WHERE p.membership_id = x.membership_id "
        f"  AND p.reason = '{PointsReason.OPENING_BALANCE.value}') "
        "RETURNING membership_id) "
        "SELECT array_agg(x.line) FROM up JOIN import_resolved x USING (membership_id) "
        "WHERE NOT x.new_membership"))).scalar_one() or []
    inserted, total = (await session.execute(text(
        "SELECT count(*) FILTER (WHERE new_membership), count(*) FROM import_resolved"))).one()
    updated = len(set(numbered) | set(opened))
    return Counts(inserted=inserted, updated=updated, unchanged=total - inserted - updated)


async def export(session: AsyncSession, s: Setting):
    from storelink.accounts.service import phone_of

    yield ["phone", "joined_at", "store_code", "guide_username", "points", "marketing_consent", "member_no",
           "join_channel", "recruited_by"]
    recruiter = aliased(Staff)
    balance = (select(PointsEntry.membership_id, func.sum(PointsEntry.delta).label("balance"))
               .group_by(PointsEntry.membership_id).subquery())
    marketing = (select(ConsentRecord.customer_id, ConsentRecord.granted)
                 .where(ConsentRecord.kind == "MARKETING")
                 .ext(distinct_on(ConsentRecord.customer_id))
                 .order_by(ConsentRecord.customer_id, ConsentRecord.id.desc()).subquery())
    rows = await session.stream(
        select(Customer, Membership, Store.code, Staff.username, recruiter.username, balance.c.balance,
               marketing.c.granted)
        .join(Membership, Membership.customer_id == Customer.id)
        .outerjoin(Store, Store.id == Membership.join_store_id)
        .outerjoin(Staff, Staff.id == Membership.guide_id)
        .outerjoin(recruiter, recruiter.id == Membership.recruited_by_id)
        .outerjoin(balance, balance.c.membership_id == Membership.id)
        .outerjoin(marketing, marketing.c.customer_id == Customer.id)
        .where(Customer.deleted_at.is_(None), Customer.phone_sealed.is_not(None))
        .order_by(Membership.id)
        .execution_options(yield_per=5000)
    )
    async for customer, membership, store_code, guide, recruited_by, points_balance, consent in rows:
        yield [phone_of(customer), membership.joined_at.isoformat(), store_code or "", guide or "",
               str(max(int(points_balance or 0), 0)), "true" if consent else "false",
               membership.former_no or membership.member_no, membership.join_channel,
               recruited_by or ""]


KIND = Kind(
    name="members",
    required=("phone", "joined_at"),
    optional=("store_code", "guide_username", "points", "marketing_consent", "member_no", "join_channel",
              "recruited_by"),
    staging=(("phone_sealed", "bytea"), ("phone_key_id", "text"), ("phone_index", "bytea"), ("phone_masked", "text"),
             ("joined_at", "timestamptz"), ("store_code", "text"), ("guide_username", "text"), ("points", "int"),
             ("marketing", "bool"), ("former_no", "text"), ("channel", "text"), ("recruiter", "text"),
             ("has_recruiter", "bool"), ("member_no", "text")),
    record=record,
    checks=CHECKS,
    load=load,
    export=export,
)
