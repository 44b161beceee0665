"""Where an online order ships from (API-NOTES "Fulfilment and returns").

The places are the central warehouse (a SKU's online stock) and the stores that ship online
orders. Each line ships whole from one place. The brand's rules, in their order, rank the places
that hold at least one line still to place; the best takes every such line it holds, and the
rest are placed the same way. With MINIMIZE_SPLIT first (the default) that is greedy set cover:
one parcel whenever one place holds everything.

Stock is taken where each parcel ships, by conditional updates that cannot oversell; when a
concurrent order took a unit first, what this attempt took is put back and the routing is
planned again on fresh stock.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import insert, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.catalog import service as catalog
from storelink.catalog.models import Sku, StoreStock
from storelink.clock import utcnow
from storelink.errors import Code, DomainError
from storelink.fulfilment.models import DEFAULT_ROUTING, OrderRouting, RoutingRule, Shipment, ShipmentLine, ShipmentStatus
from storelink.orders.models import OrderLine
from storelink.stores.geo import distance_m
from storelink.stores.models import Store

WAREHOUSE = None  # the place key of the central warehouse
ATTEMPTS = 3


@dataclass
class Place:
    store_id: int | None  # None: the central warehouse
    distance_m: float | None = None  # from the address; None when unknown (and for the warehouse)
    stock: dict[int, int] = field(default_factory=dict)  # SKU id -> units on hand

    def holds(self, sku_id: int, quantity: int) -> bool:
        return self.stock.get(sku_id, 0) >= quantity


async def rules(session: AsyncSession) -> list[RoutingRule]:
    row = await session.get(OrderRouting, 1)
    return [RoutingRule(r) for r in row.rules] if row else list(DEFAULT_ROUTING)


async def places_holding(session: AsyncSession, sku_ids: Iterable[int], *, near: tuple[float, float] | None,
                         excluded: Iterable[int | None] = ()) -> list[Place]:
    """Every place that ships and holds any of the SKUs: one statement whatever their number (the
    warehouse's rows come with a null store)."""
    sku_ids, excluded = sorted(set(sku_ids)), set(excluded)
    in_stores = (select(StoreStock.store_id, StoreStock.sku_id, StoreStock.quantity, Store.lat, Store.lng)
                 .join(Store, Store.id == StoreStock.store_id)
                 .where(StoreStock.sku_id.in_(sku_ids), StoreStock.quantity > 0, Store.ships_online_orders))
    in_warehouse = select(null().label("store_id"), Sku.id, Sku.online_stock, null(), null()).where(
        Sku.id.in_(sku_ids), Sku.online_stock > 0)
    places: dict[int | None, Place] = {}
    store_id: int | None
    sku_id: int
    units: int
    lat: float | None
    lng: float | None
    for store_id, sku_id, units, lat, lng in await session.execute(union_all(in_warehouse, in_stores)):
        if store_id in excluded:
            continue
        place = places.get(store_id)
        if place is None:
            distance = None  # the warehouse has no coordinates, so no distance
            if near is not None and lat is not None and lng is not None:
                distance = distance_m(near[0], near[1], lat, lng)
            place = places[store_id] = Place(store_id, distance)
        place.stock[sku_id] = units
    return list(places.values())


def _rank(rule_order: Sequence[RoutingRule], place: Place, covers: int) -> tuple:
    key: list[float] = []
    for rule in rule_order:
        if rule is RoutingRule.MINIMIZE_SPLIT:
            key.append(-covers)
        elif rule is RoutingRule.CLOSEST:
            key.append(math.inf if place.distance_m is None else place.distance_m)
        elif rule is RoutingRule.PREFER_WAREHOUSE:
            key.append(0 if place.store_id is WAREHOUSE else 1)
        else:  # PREFER_STORES
            key.append(1 if place.store_id is WAREHOUSE else 0)
    # Ties: fewer parcels, then the lowest store id (the warehouse first): the same order routes
    # the same way every time.
    key.extend([-covers, -1 if place.store_id is None else place.store_id])
    return tuple(key)


def plan(rule_order: Sequence[RoutingRule], wanted: dict[int, int], places: Sequence[Place]
         ) -> tuple[list[tuple[Place, dict[int, int]]], dict[int, int]]:
    """(parcels: place and the SKUs it ships, what no place can ship)."""
    left = dict(wanted)
    parcels: list[tuple[Place, dict[int, int]]] = []
    while left:
        best, best_key, best_lines = None, None, {}
        for place in places:
            lines = {s: q for s, q in left.items() if place.holds(s, q)}
            if not lines:
                continue
            key = _rank(rule_order, place, len(lines))
            if best_key is None or key < best_key:
                best, best_key, best_lines = place, key, lines
        if best is None:
            break
        parcels.append((best, best_lines))
        for sku_id in best_lines:
            del left[sku_id]
    return parcels, left


async def _take(session: AsyncSession, parcels: list[tuple[Place, dict[int, int]]]) -> bool:
    """Take every parcel's stock, or nothing (False: another order took a unit first).

    Unit by unit in one global order (SKU, then place) so two orders never wait on each other's
    rows in opposite orders, and what was taken before a shortfall is known exactly."""
    takes = sorted(((sku_id, place.store_id, units) for place, lines in parcels for sku_id, units in lines.items()),
                   key=lambda t: (t[0], -1 if t[1] is None else t[1]))
    done: list[tuple[int, int | None, int]] = []
    for sku_id, store_id, units in takes:
        try:
            await catalog.take_stock(session, store_id=store_id, wanted={sku_id: units})
        except DomainError:
            for done_sku, done_store, done_units in done:
                await catalog.return_stock(session, store_id=done_store, returned={done_sku: done_units})
            return False
        done.append((sku_id, store_id, units))
    return True


async def route(session: AsyncSession, *, order_id: int, lines: Sequence[OrderLine],
                near: tuple[float, float] | None, excluded: Iterable[int | None] = (),
                only: Callable[[Place], bool] | None = None) -> tuple[list[Shipment], list[OrderLine]]:
    """Place the lines: (the ALLOCATED shipments made, with their stock taken; the lines no place
    could take). `excluded`: places that rejected this order; `only`: a filter on places."""
    wanted = {line.sku_id: line.quantity for line in lines}
    excluded = set(excluded)  # read on every attempt
    rule_order = await rules(session)
    for _ in range(ATTEMPTS):
        places = await places_holding(session, wanted, near=near, excluded=excluded)
        if only is not None:
            places = [p for p in places if only(p)]
        parcels, left = plan(rule_order, wanted, places)
        if await _take(session, parcels):
            break
    else:
        raise DomainError("Stock changed while you ordered; please try again", code=Code.OUT_OF_STOCK)
    if not parcels:
        return [], list(lines)
    # Core inserts (two statements, no unit-of-work bookkeeping): this runs in every checkout.
    now = utcnow()
    made = (await session.execute(
        insert(Shipment).returning(Shipment.id, sort_by_parameter_order=True),
        [{"order_id": order_id, "from_store_id": place.store_id, "status": ShipmentStatus.ALLOCATED.value,
          "created_at": now} for place, _ in parcels])).scalars().all()
    line_of = {line.sku_id: line for line in lines}
    await session.execute(insert(ShipmentLine), [
        {"shipment_id": shipment_id, "order_line_id": line_of[sku_id].id, "sku_id": sku_id, "quantity": units}
        for shipment_id, (_, skus) in zip(made, parcels) for sku_id, units in skus.items()])
    shipments = [Shipment(id=shipment_id, order_id=order_id, from_store_id=place.store_id,
                          status=ShipmentStatus.ALLOCATED.value, created_at=now)
                 for shipment_id, (place, _) in zip(made, parcels)]
    return shipments, [line_of[sku_id] for sku_id in left]
