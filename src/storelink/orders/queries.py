"""Orders by node ID: the customer's own, or staff of the store they belong to.
(A customer's order list is `Customer.orders`; a member's, `MemberProfile.recentOrders`.)"""
from __future__ import annotations

from storelink.api.context import Info
from storelink.errors import Forbidden
from storelink.graphql import caller
from storelink.graphql.relay import node_resolver
from storelink.orders import models, service
from storelink.orders.types import Order


@node_resolver("Order")
async def _order_node(info: Info, pk: int) -> Order | None:
    who = await caller.signed_in(info)
    async with info.context.reader() as session:
        row = await session.get(models.Order, pk)
    if row is None:
        return None
    secret = info.context.settings.jwt_secret
    if who.customer is not None:
        # Someone else's order reads as a missing one: ids are sequential, and a customer
        # must not learn which exist.
        return Order.from_model(row, secret, for_owner=True) if row.customer_id == who.customer.id else None
    if not service.staff_may_see(who.staff, row):
        raise Forbidden("This order belongs to another store")
    return Order.from_model(row, secret, for_owner=False)
