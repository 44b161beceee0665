"""The customer's online cart; guides push lines into it from the store tablet."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.accounts.models import Customer, Staff, StaffRole
from storelink.catalog import service as catalog
from storelink.catalog.models import Product, Sku
from storelink.accounts.service import live_customer
from storelink.clock import utcnow
from storelink.live import bus as live
from storelink.errors import Code, DomainError, Forbidden, InvalidInput, NotFound
from storelink.limits import MAX_INT
from storelink.members.scope import member_for_staff
from storelink.orders.models import CartLine
from storelink.outbox import service as outbox
from storelink.recommend import feedback as reco_feedback

MAX_LINE_QUANTITY = 99
MAX_LINES = 50
CART_PUSH_KIND = "cart_push"


async def lines_of(session: AsyncSession, customer_ids: Sequence[int]) -> dict[int, list[tuple[CartLine, Sku]]]:
    found: dict[int, list[tuple[CartLine, Sku]]] = {c: [] for c in customer_ids}
    rows = await session.execute(
        select(CartLine, Sku).join(Sku, Sku.id == CartLine.sku_id)
        .where(CartLine.customer_id.in_(customer_ids)).order_by(CartLine.customer_id, CartLine.id)
    )
    for line, sku in rows:
        found[line.customer_id].append((line, sku))
    return found


def _check_quantity(quantity: int, field: list[str], *, allow_zero: bool = False) -> None:
    if quantity < (0 if allow_zero else 1) or quantity > MAX_LINE_QUANTITY:
        low = 0 if allow_zero else 1
        raise InvalidInput("Quantity must be {low} to {high}", low=low, high=MAX_LINE_QUANTITY, field=field)


def _ensure_available(most_held: int, quantity: int, field: list[str]) -> None:
    """A line may not exceed what one place holds: the warehouse, or a single store (checkout
    then checks the place that fulfils it)."""
    if quantity > most_held:
        raise DomainError("Not enough stock for that quantity; lower it", code=Code.OUT_OF_STOCK, field=field)


async def add(session: AsyncSession, *, customer_id: int, sku_id: int, quantity: int,
              pushed_by: Staff | None = None) -> tuple[CartLine, list[tuple[CartLine, Sku]]]:
    """Add to the cart, merging with the line of the same SKU. A push by a guide marks the line
    with that guide and time. Returns the line and the whole cart as it now is."""
    _check_quantity(quantity, ["quantity"])
    _, most_held = await catalog.sku_and_most_held(session, sku_id, ["skuId"])
    now = utcnow()
    marks = {"added_by_guide_id": pushed_by.id, "pushed_at": now} if pushed_by else {}
    line = (
        await session.scalars(
            insert(CartLine).values(customer_id=customer_id, sku_id=sku_id, quantity=quantity, created_at=now, **marks)
            .on_conflict_do_update(constraint="uq_cart_line_customer_sku",
                                   set_={"quantity": CartLine.quantity + quantity, **marks})
            .returning(CartLine),
            execution_options={"populate_existing": True},
        )
    ).one()
    if line.quantity > MAX_LINE_QUANTITY:
        raise InvalidInput("At most {n} of one item", n=MAX_LINE_QUANTITY, field=["quantity"])
    _ensure_available(most_held, line.quantity, ["quantity"])
    rows = (await lines_of(session, [customer_id]))[customer_id]
    if len(rows) > MAX_LINES:
        raise InvalidInput("A cart holds at most {n} different items; check out or remove some first", n=MAX_LINES, field=["skuId"])
    _check_subtotal(rows, ["quantity"])
    return line, rows


def _check_subtotal(rows: list[tuple[CartLine, Sku]], field: list[str]) -> None:
    """A cart may total at most MAX_INT fen: what one order may come to, and GraphQL's Int."""
    if sum(line.quantity * sku.price_fen for line, sku in rows) > MAX_INT:
        raise InvalidInput("A cart may come to at most {yuan} yuan; check out part of it first", yuan=f"{MAX_INT / 100:,.2f}", field=field)


async def update_line(session: AsyncSession, *, customer_id: int, line_id: int,
                      quantity: int) -> list[tuple[CartLine, Sku]]:
    """Change a line's quantity (0 removes it). A guide's mark stays: the push still counts.
    Returns the whole cart as it now is."""
    _check_quantity(quantity, ["quantity"], allow_zero=True)
    line = await session.get(CartLine, line_id, with_for_update=True)
    if line is None or line.customer_id != customer_id:
        raise NotFound("No such cart line", field=["lineId"])
    if quantity == 0:
        await session.execute(delete(CartLine).where(CartLine.id == line_id))
        return (await lines_of(session, [customer_id]))[customer_id]
    _, most_held = await catalog.sku_and_most_held(session, line.sku_id, ["lineId"], for_sale=False)
    if quantity > line.quantity:
        _ensure_available(most_held, quantity, ["quantity"])
    line.quantity = quantity
    await session.flush()
    rows = (await lines_of(session, [customer_id]))[customer_id]
    _check_subtotal(rows, ["quantity"])
    return rows


async def push(session: AsyncSession, *, staff: Staff, membership_id: int, sku_id: int, quantity: int,
               recommendation_id: int | None = None) -> int:
    """A guide or store manager adds to a member's cart from the tablet; the customer is told
    through a WeChat message. A push from a recommendation is recorded on it and on the line.
    Returns the member's customer id."""
    if staff.role not in (StaffRole.GUIDE, StaffRole.STORE_MANAGER):
        raise Forbidden("Only store staff push items into a member's cart")
    membership = await member_for_staff(session, staff, membership_id, ["memberId"])
    customer = await live_customer(session, membership.customer_id, field=["memberId"])
    line, _ = await add(session, customer_id=customer.id, sku_id=sku_id, quantity=quantity, pushed_by=staff)
    if recommendation_id is not None:
        shown = await reco_feedback.for_push(session, shown_id=recommendation_id, customer_id=customer.id, sku_id=sku_id)
        if shown is None:
            raise NotFound("No such recommendation for this member and item", field=["recommendationId"])
        line.recommendation_id = shown.id
        await session.flush()
    await outbox.enqueue(
        session, kind=CART_PUSH_KIND, subject=f"cart_line:{line.id}",
        payload={"customerId": customer.id, "skuId": sku_id, "guideId": staff.id}, due_at=utcnow(),
    )
    await live.publish(session, kind="CART_UPDATED_BY_GUIDE", customer_id=customer.id)
    return customer.id


@outbox.sender(CART_PUSH_KIND)
async def send_push_notice(session: AsyncSession, payload: dict, wechat) -> None:
    customer = await session.get(Customer, payload["customerId"])
    if customer is None or customer.openid is None:
        raise outbox.Skip("customer gone")
    row = (await session.execute(
        select(Sku, Product).join(Product, Product.id == Sku.product_id).where(Sku.id == payload["skuId"])
    )).first()
    guide = await session.get(Staff, payload["guideId"])
    if row is None or guide is None:
        raise outbox.Skip("item or guide gone")
    sku, product = row
    await wechat.send_subscribe_message(
        touser=customer.openid, template_id="cart-push", page="pages/cart/index",
        data={"thing1": {"value": product.name[:20]}, "thing2": {"value": sku.title[:20]},
              "name3": {"value": guide.name[:10]}},
    )
