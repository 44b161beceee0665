"""DataLoaders for shipments: an order's, and a shipment's lines."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.fulfilment import shipments
from storelink.fulfilment.models import Shipment, ShipmentLine
from storelink.graphql.dataloaders import RequestLoader


class ShipmentsOfOrder(RequestLoader[int, list[Shipment]]):
    async def fetch(self, session: AsyncSession, order_ids: Sequence[int]) -> list:
        found: dict[int, list[Shipment]] = {o: [] for o in order_ids}
        rows = await session.execute(select(Shipment).where(Shipment.order_id.in_(order_ids)).order_by(Shipment.id))
        for shipment in rows.scalars():
            found[shipment.order_id].append(shipment)
        return [found[o] for o in order_ids]


class LinesOfShipment(RequestLoader[int, list[ShipmentLine]]):
    async def fetch(self, session: AsyncSession, shipment_ids: Sequence[int]) -> list:
        found = await shipments.lines_of(session, shipment_ids)
        return [found[s] for s in shipment_ids]
