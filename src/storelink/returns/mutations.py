"""requestReturn (customer), receiveReturn (staff at any store) and retryRefunds."""
from __future__ import annotations

import strawberry

from storelink import db
from storelink.api.context import Info
from storelink.graphql import caller
from storelink.graphql.errors import in_transaction
from storelink.graphql.relay import decode_id
from storelink.errors import Forbidden, NotFound
from storelink.orders import service as orders
from storelink.orders.models import Order as OrderRow
from storelink.orders.types import Order, OrderPayload
from storelink.returns import payouts, service
from storelink.returns.models import ReturnRequest as ReturnRow
from storelink.returns.types import ReturnLineInput, ReturnPayload, ReturnRequest


def _lines(lines: list[ReturnLineInput]) -> list[tuple[int, int]]:
    return [(decode_id(ln.order_line_id, "OrderLine", ["lines", str(i), "orderLineId"]), ln.quantity)
            for i, ln in enumerate(lines)]


@strawberry.type
class ReturnMutations:
    @strawberry.mutation(description="Customer: ask to return lines of one of their paid orders.")
    async def request_return(self, info: Info, order_id: strawberry.ID, lines: list[ReturnLineInput],
                             reason: str) -> ReturnPayload:
        async def work(session):
            me = await caller.customer(info)
            row = await service.request(session, customer_id=me.id, order_id=decode_id(order_id, "Order", ["orderId"]),
                                        lines=_lines(lines), reason=reason, settings=info.context.settings)
            return {"return_request": ReturnRequest.from_model(row)}

        return await in_transaction(info, ReturnPayload, work)

    @strawberry.mutation(description="Staff: goods of an order came back at this store (any channel's order); restocks here and refunds.")
    async def receive_return(self, info: Info, order_id: strawberry.ID, store_id: strawberry.ID,
                             lines: list[ReturnLineInput], reason: str) -> ReturnPayload:
        refunds: list[int] = []

        async def work(session):
            row, refund = await service.receive(
                session, staff=await caller.staff(info), order_id=decode_id(order_id, "Order", ["orderId"]),
                store_id=decode_id(store_id, "Store", ["storeId"]), lines=_lines(lines), reason=reason,
                settings=info.context.settings)
            refunds.append(refund.id)
            return {"return_request": ReturnRequest.from_model(row)}

        payload = await in_transaction(info, ReturnPayload, work)
        await _pay_out(info, refunds, payload)
        return payload


    @strawberry.mutation(description="Staff: ask the payment provider again for the order's refunds it refused (beyond the contract).")
    async def retry_refunds(self, info: Info, order_id: strawberry.ID) -> OrderPayload:
        reopened: list[int] = []

        async def work(session):
            staff = await caller.staff(info)
            order = await session.get(OrderRow, decode_id(order_id, "Order", ["orderId"]), with_for_update=True)
            if order is None:
                raise NotFound("No such order", field=["orderId"])
            if not orders.staff_may_see(staff, order):
                raise Forbidden("This order belongs to another store")
            reopened.extend(await payouts.reopen(session, order.id))
            return {}

        payload = await in_transaction(info, OrderPayload, work)
        if payload.user_errors:
            return payload
        for refund_id in reopened:
            await payouts.pay_out(info.context.sessionmaker, info.context.payments, refund_id)
        async with info.context.reader() as session:
            row = await db.existing(session, OrderRow, decode_id(order_id, "Order", ["orderId"]))
        payload.order = Order.from_model(row, info.context.settings.jwt_secret, for_owner=False)
        return payload


async def _pay_out(info: Info, refund_ids: list[int], payload: ReturnPayload) -> None:
    """After the commit (no lock held while the provider answers); the payload shows the outcome."""
    for refund_id in refund_ids:
        await payouts.pay_out(info.context.sessionmaker, info.context.payments, refund_id)
    if payload.return_request is not None and refund_ids:
        async with info.context.reader() as session:
            row = await db.existing(session, ReturnRow, payload.return_request.pk)
        payload.return_request = ReturnRequest.from_model(row)
