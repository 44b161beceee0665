"""DataLoaders for returns: an order's requests, and a request's lines."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.graphql.dataloaders import RequestLoader, RowsByKey
from storelink.returns.models import Refund, ReturnLine, ReturnRequest


class ReturnsOfOrder(RequestLoader[int, list[ReturnRequest]]):
    async def fetch(self, session: AsyncSession, order_ids: Sequence[int]) -> list:
        found: dict[int, list[ReturnRequest]] = {o: [] for o in order_ids}
        rows = await session.execute(
            select(ReturnRequest).where(ReturnRequest.order_id.in_(order_ids)).order_by(ReturnRequest.id))
        for request in rows.scalars():
            found[request.order_id].append(request)
        return [found[o] for o in order_ids]


class LinesOfReturn(RequestLoader[int, list[ReturnLine]]):
    async def fetch(self, session: AsyncSession, return_ids: Sequence[int]) -> list:
        found: dict[int, list[ReturnLine]] = {r: [] for r in return_ids}
        rows = await session.execute(select(ReturnLine).where(ReturnLine.return_id.in_(return_ids))
                                     .order_by(ReturnLine.return_id, ReturnLine.order_line_id))
        for line in rows.scalars():
            found[line.return_id].append(line)
        return [found[r] for r in return_ids]


class RefundOfReturn(RowsByKey):
    """Key: return request id; its refund, or None."""

    model = Refund
    column = "return_id"
