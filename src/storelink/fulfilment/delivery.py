"""What delivery the customer can choose for their cart at an address (Query.deliveryOptions),
and the store a SAME_CITY order ships from.

SAME_CITY is offered only when a store that ships online orders, whose same-city radius reaches
the address, is open now and holds every line; the nearest such store ships it. DELIVERY is
offered when the routing can place every line (the warehouse or stores, split if need be).
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storelink.catalog.models import StoreStock
from storelink.fulfilment import routing
from storelink.settings import Settings
from storelink.stores import geo
from storelink.stores.models import Store
from storelink.stores.service import MAX_SAME_CITY_M, open_at

COURIER_METRES_PER_MINUTE = 20_000 / 60  # about 20 km/h through a city


@dataclass(frozen=True)
class Option:
    fulfilment: str
    fee_fen: int
    eta_minutes: int
    from_store_id: int | None


async def same_city_store(session: AsyncSession, wanted: dict[int, int], near: tuple[float, float],
                          now: dt.datetime) -> tuple[Store, float] | None:
    """The nearest store that can deliver these SKUs to `near` today: (store, metres) or None."""
    if not wanted:
        return None
    min_lat, max_lat, min_lng, max_lng = geo.bounding_box(near[0], near[1], MAX_SAME_CITY_M)
    stores = (await session.execute(select(Store).where(
        Store.ships_online_orders, Store.same_city_radius_m > 0,
        Store.lat.between(min_lat, max_lat), Store.lng.between(min_lng, max_lng)))).scalars().all()
    reach = sorted((d, s.id, s) for s in stores
                   if (d := geo.distance_m(near[0], near[1], s.lat, s.lng)) <= s.same_city_radius_m)
    if not reach:
        return None
    held: dict[int, dict[int, int]] = {}
    for store_id, sku_id, units in await session.execute(
            select(StoreStock.store_id, StoreStock.sku_id, StoreStock.quantity)
            .where(StoreStock.store_id.in_([s.id for _, _, s in reach]), StoreStock.sku_id.in_(list(wanted)))):
        held.setdefault(store_id, {})[sku_id] = units
    stocked = [(d, s) for d, _, s in reach
               if all(held.get(s.id, {}).get(sku, 0) >= units for sku, units in wanted.items())]
    if not stocked:
        return None
    open_ids = await open_at(session, [s for _, s in stocked], now)
    for distance, store in stocked:
        if store.id in open_ids:
            return store, distance
    return None


def same_city_eta(settings: Settings, distance_m: float) -> int:
    return settings.same_city_prep_minutes + math.ceil(distance_m / COURIER_METRES_PER_MINUTE)


async def options(session: AsyncSession, *, wanted: dict[int, int], near: tuple[float, float],
                  settings: Settings, now: dt.datetime) -> list[Option]:
    found: list[Option] = []
    if not wanted:
        return found
    places = await routing.places_holding(session, wanted, near=near)
    parcels, left = routing.plan(await routing.rules(session), wanted, places)
    if not left:
        found.append(Option("DELIVERY", settings.delivery_fee_fen, settings.delivery_eta_minutes,
                            parcels[0][0].store_id))
    nearby = await same_city_store(session, wanted, near, now)
    if nearby is not None:
        store, distance = nearby
        found.append(Option("SAME_CITY", settings.same_city_fee_fen, same_city_eta(settings, distance), store.id))
    return found
