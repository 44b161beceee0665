"""GraphQL types of returns."""
from __future__ import annotations

import datetime as dt

import strawberry

from storelink.api.context import Info
from storelink.graphql import caller
from storelink.graphql.enums import graphql_enums
from storelink.graphql.errors import UserError
from storelink.graphql.relay import Node, to_global_id
from storelink.orders.loaders import OrderById, OrderLineById
from storelink.orders.types import Order, OrderLine
from storelink.returns import models
from storelink.returns.loaders import LinesOfReturn, RefundOfReturn
from storelink.stores.types import Store, load_store

ReturnStatus = models.ReturnStatus
graphql_enums(ReturnStatus)


@strawberry.input
class ReturnLineInput:
    order_line_id: strawberry.ID
    quantity: int


@strawberry.type
class ReturnLine:
    quantity: int
    order_line_pk: strawberry.Private[int]

    @strawberry.field
    async def order_line(self, info: Info) -> OrderLine:
        return OrderLine.from_model(await OrderLineById.of(info).load(self.order_line_pk))


@strawberry.type
class ReturnRequest(Node):
    id: strawberry.ID
    status: ReturnStatus
    reason: str
    refund_fen: int = strawberry.field(description="Set when the goods are received.")
    created_at: dt.datetime
    pk: strawberry.Private[int]
    order_pk: strawberry.Private[int]
    received_store_pk: strawberry.Private[int | None]

    @classmethod
    def from_model(cls, row: models.ReturnRequest) -> "ReturnRequest":
        return cls(id=to_global_id("ReturnRequest", row.id), status=ReturnStatus(row.status), reason=row.reason,
                   refund_fen=row.refund_fen, created_at=row.created_at, pk=row.id, order_pk=row.order_id,
                   received_store_pk=row.received_store_id)

    @strawberry.field
    async def order(self, info: Info) -> Order:
        # Whoever may see the request (its order's customer, staff who may see the order) may see the order.
        row = await OrderById.of(info).load(self.order_pk)
        customer = (await caller.signed_in(info)).customer
        return Order.from_model(row, info.context.settings.jwt_secret, for_owner=customer is not None)

    @strawberry.field
    async def lines(self, info: Info) -> list[ReturnLine]:
        return [ReturnLine(quantity=r.quantity, order_line_pk=r.order_line_id)
                for r in await LinesOfReturn.of(info).load(self.pk)]

    @strawberry.field(description="Why the payment provider refused the refund, while it stands refused (beyond the contract); retryRefunds asks again.")
    async def refund_failure(self, info: Info) -> str | None:
        refund = await RefundOfReturn.of(info).load(self.pk)
        return refund.failure_reason if refund is not None and refund.status == "FAILED" else None

    @strawberry.field(description="The store where the goods came back; null until received, or when received by the warehouse.")
    async def received_store(self, info: Info) -> Store | None:
        return await load_store(info, self.received_store_pk)


@strawberry.type
class ReturnPayload:
    return_request: ReturnRequest | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
