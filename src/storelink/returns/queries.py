"""Return requests by node ID: the order's customer, or staff who may see the order or whose
store received the goods."""
from __future__ import annotations

from storelink.accounts import permissions
from storelink.api.context import Info
from storelink.errors import Forbidden
from storelink.graphql import caller
from storelink.graphql.relay import node_resolver
from storelink.orders import service as orders
from storelink.orders.models import Order as OrderRow
from storelink.returns.models import ReturnRequest as ReturnRow
from storelink.returns.types import ReturnRequest


@node_resolver("ReturnRequest")
async def _return_node(info: Info, pk: int) -> ReturnRequest | None:
    who = await caller.signed_in(info)
    async with info.context.reader() as session:
        row = await session.get(ReturnRow, pk)
        order = await session.get(OrderRow, row.order_id) if row else None
    if row is None or order is None:
        return None
    if who.customer is not None:
        return ReturnRequest.from_model(row) if order.customer_id == who.customer.id else None
    received_here = row.received_store_id is not None and permissions.can_see_store(who.staff, row.received_store_id)
    if not (received_here or orders.staff_may_see(who.staff, order)):
        raise Forbidden("This return belongs to another store")
    return ReturnRequest.from_model(row)
