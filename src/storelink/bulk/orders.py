"""`orders`: order_no, channel, phone?, store_code?, guide_username?, paid_at, sku_code, quantity,
unit_price_fen, receipt_no?; one row per line, the lines of one order together or apart.

Imported orders are history: completed at paid_at, credited to the member of the phone (who must
exist: import members first) and to the store and guide named, so KPIs, segments, the client book
and the AI guide count them; no points are earned and no stock moves. order_no is the business key:
an order already in storelink stays as it is (its lines count as unchanged). Every line of an order
repeats the order's channel, phone, store, guide, time and receipt number.
"""
from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storelink import limits
from storelink.accounts.models import Customer, Staff
from storelink.bulk import fields
from storelink.bulk.common import duplicates, move_in, one_phone_key, staged_rows, unknown
from storelink.bulk.kind import Counts, Kind, Row, Setting
from storelink.catalog.models import Sku
from storelink.kpi import segments
from storelink.orders.models import PAID_STATUSES, Order, OrderLine
from storelink.stores.models import Store

_HEAD = ("channel", "phone_index", "store_code", "guide_username", "paid_at", "receipt_no")


def _order_no(value: str) -> str:
    value = value.strip()
    if not value or len(value) > 24 or not value.isascii() or not value.isprintable():
        raise fields.Bad("1-24 letters, digits or signs")
    return value


_HEAD_COLUMNS = ("order_no", "channel", "phone", "store_code", "guide_username", "paid_at", "receipt_no")


def _head(row: Row, s: Setting) -> tuple:
    channel = row.get("channel", fields.choice, required=True, allowed=("ONLINE", "STORE"))
    store_code = row.get("store_code", fields.code)
    if channel == "STORE" and not store_code:
        row.problem("store_code", "a store sale needs its store")
    number = row.get("phone", fields.phone)
    return (
        row.get("order_no", _order_no, required=True), channel,
        s.keyring.current.index(number) if number else None, store_code,
        row.get("guide_username", fields.username),
        row.get("paid_at", fields.moment, required=True, zone=s.zone, now=s.now),
        row.get("receipt_no", fields.text, max_len=64),
    )


def record(row: Row, s: Setting) -> tuple:
    # The lines of an order repeat its head: a line whose head reads exactly as the last good one's
    # is that head (half of a big file's checking otherwise).
    raw = row.raw(_HEAD_COLUMNS)
    if s.memo.get("raw") == raw:
        head = s.memo["head"]
    else:
        head = _head(row, s)
        if not row.problems:
            s.memo.update(raw=raw, head=head)
    quantity = row.get("quantity", fields.whole, required=True, low=1, high=fields.MAX_QUANTITY,
                       what="number of units")
    price = row.get("unit_price_fen", fields.whole, required=True, high=fields.MAX_PRICE_FEN, what="number of fen")
    if quantity and price is not None and quantity * price > limits.MAX_INT:
        row.problem("quantity", "the line comes to more than an order can hold")
    order_no, channel, phone_index, store_code, guide, paid_at, receipt_no = head
    return (order_no, channel, phone_index, store_code, guide, paid_at,
            row.get("sku_code", fields.code, required=True), quantity, price, receipt_no)


_FIRST_LINES = "SELECT DISTINCT ON (order_no) * FROM import_rows ORDER BY order_no, line"
# The member each phone belongs to (OneID: one membership per phone).
_MEMBERS = ("SELECT c.phone_index, c.id AS customer_id, m.join_channel FROM customer c "
            "JOIN membership m ON m.customer_id = c.id WHERE c.deleted_at IS NULL AND c.phone_index IS NOT NULL")

CHECKS = (
    one_phone_key,
    duplicates("order_no, sku_code", "sku_code"),
    "SELECT r.line, 'order_no', 'differs from line ' || f.line || ' of the same order in ' || concat_ws(', ', "
    + ", ".join(f"CASE WHEN r.{c} IS DISTINCT FROM f.{c} THEN '{c.replace('_index', '')}' END" for c in _HEAD)
    + f") FROM import_rows r JOIN ({_FIRST_LINES}) f ON f.order_no = r.order_no "
    f"WHERE r.line > f.line AND ({' OR '.join(f'r.{c} IS DISTINCT FROM f.{c}' for c in _HEAD)})",
    unknown("store_code", "store", "code", "unknown store code"),
    unknown("guide_username", "staff", "username", "no staff member with this username"),
    unknown("sku_code", "sku", "code", "unknown SKU code"),
    "SELECT r.line, 'phone', 'no member has this phone (import members first)' FROM import_rows r "
    f"WHERE r.phone_index IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ({_MEMBERS}) m "
    "WHERE m.phone_index = r.phone_index)",
    f"SELECT min(line), 'unit_price_fen', 'the order comes to more than {limits.MAX_INT} fen' FROM import_rows "
    f"GROUP BY order_no HAVING sum(quantity::bigint * unit_price_fen) > {limits.MAX_INT}",
    "SELECT f.line, 'receipt_no', 'already the receipt of order ' || o.order_no FROM (" + _FIRST_LINES + ") f "
    "JOIN store st ON st.code = f.store_code "
    "JOIN sales_order o ON o.store_id = st.id AND o.receipt_no = f.receipt_no AND o.order_no <> f.order_no",
    "SELECT line, 'receipt_no', 'also the receipt of another order on line ' || first FROM ("
    "SELECT line, min(line) OVER (PARTITION BY store_code, receipt_no) AS first "
    f"FROM ({_FIRST_LINES}) f WHERE receipt_no IS NOT NULL AND store_code IS NOT NULL) d WHERE line > first",
)


async def load(session: AsyncSession, s: Setting) -> Counts:
    total = await staged_rows(session)
    buyers = f"SELECT DISTINCT m.customer_id FROM import_rows r JOIN ({_MEMBERS}) m ON m.phone_index = r.phone_index"
    async with segments.facts_paused(session, buyers), move_in(session, ("sales_order", "order_line"), total):
        inserted = await _write(session)
    return Counts(inserted=inserted, unchanged=total - inserted)


async def _write(session: AsyncSession) -> int:
    return (await session.execute(text(
        "WITH orders AS ("
        "  SELECT order_no, min(line) AS first_line, sum(quantity * unit_price_fen) AS total FROM import_rows r "
        "  WHERE NOT EXISTS (SELECT 1 FROM sales_order e WHERE e.order_no = r.order_no) GROUP BY order_no), "
        "new_orders AS ("
        "  INSERT INTO sales_order (order_no, customer_id, member_channel, channel, status, store_id, guide_id, "
        "    subtotal_fen, discount_fen, total_fen, points_redeemed, points_earned, receipt_no, created_at, paid_at, "
        "    completed_at) "
        "  SELECT o.order_no, m.customer_id, m.join_channel, h.channel, 'COMPLETED', st.id, g.id, o.total, 0, "
        "    o.total, 0, 0, h.receipt_no, h.paid_at, h.paid_at, h.paid_at "
        "  FROM orders o JOIN import_rows h ON h.line = o.first_line "
        f"  LEFT JOIN ({_MEMBERS}) m ON m.phone_index = h.phone_index "
        "  LEFT JOIN store st ON st.code = h.store_code LEFT JOIN staff g ON g.username = h.guide_username "
        "  RETURNING id, order_no), "
        "new_lines AS ("
        "  INSERT INTO order_line (order_id, sku_id, quantity, unit_price_fen, line_total_fen) "
        "  SELECT n.id, sku.id, r.quantity, r.unit_price_fen, r.quantity * r.unit_price_fen FROM import_rows r "
        "  JOIN new_orders n ON n.order_no = r.order_no JOIN sku ON sku.code = r.sku_code RETURNING 1) "
        "SELECT count(*) FROM new_lines"))).scalar_one()


async def export(session: AsyncSession, s: Setting):
    """Paid, unrefunded orders: the history KPIs count. A buyer's phone goes with it only when
    they are a member (imports credit members; a guest sale stays a guest sale)."""
    yield ["order_no", "channel", "phone", "store_code", "guide_username", "paid_at", "sku_code", "quantity",
           "unit_price_fen", "receipt_no"]
    from storelink.accounts.service import phone_of

    rows = await session.stream(
        select(Order, OrderLine.quantity, OrderLine.unit_price_fen, Sku.code, Store.code, Staff.username, Customer)
        .join(OrderLine, OrderLine.order_id == Order.id).join(Sku, Sku.id == OrderLine.sku_id)
        .outerjoin(Store, Store.id == Order.store_id).outerjoin(Staff, Staff.id == Order.guide_id)
        .outerjoin(Customer, Customer.id == Order.customer_id)
        .where(Order.status.in_(PAID_STATUSES))
        .order_by(Order.id, OrderLine.id)
        .execution_options(yield_per=5000)
    )
    phones: dict[int, str | None] = {}
    async for order, quantity, price, sku_code, store_code, guide, customer in rows:
        phone = None
        if customer is not None and order.member_channel is not None:
            if customer.id not in phones:
                if len(phones) > 100_000:  # a cache of recent buyers, not of every member
                    phones.clear()
                phones[customer.id] = phone_of(customer)
            phone = phones[customer.id]
        yield [order.order_no, order.channel, phone or "", store_code or "", guide or "",
               order.paid_at.isoformat() if order.paid_at else "", sku_code, str(quantity), str(price), order.receipt_no or ""]


KIND = Kind(
    name="orders",
    required=("order_no", "channel", "paid_at", "sku_code", "quantity", "unit_price_fen"),
    optional=("phone", "store_code", "guide_username", "receipt_no"),
    staging=(("order_no", "text"), ("channel", "text"), ("phone_index", "bytea"), ("store_code", "text"),
             ("guide_username", "text"), ("paid_at", "timestamptz"), ("sku_code", "text"), ("quantity", "int"),
             ("unit_price_fen", "int"), ("receipt_no", "text")),
    record=record,
    checks=CHECKS,
    load=load,
    export=export,
)
