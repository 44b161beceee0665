"""Store queries: the nearby search, a single store, and stores by node ID."""
from __future__ import annotations

import strawberry

from storelink.api.context import Info
from storelink.errors import NotFound
from storelink.graphql.relay import decode_id, decode_optional_id, node_resolver
from storelink.stores import service
from storelink.stores.types import CoordSystem, NearbyStore, Store, load_store


@node_resolver("Store")
async def _store_node(info: Info, pk: int) -> Store | None:
    # Store listings are public: the mini-program shows them before sign-in.
    return await load_store(info, pk)


@strawberry.type
class StoreQueries:
    @strawberry.field
    async def nearby_stores(
        self,
        info: Info,
        lat: float,
        lng: float,
        radius_meters: int = 10000,
        first: int = 20,
        service_id: strawberry.ID | None = None,
        open_now: bool = False,
        in_stock_sku_id: strawberry.ID | None = None,
        coord_system: CoordSystem = CoordSystem.GCJ02,
    ) -> list[NearbyStore]:
        service_pk = decode_optional_id(service_id, "ServiceType", ["serviceId"])
        try:
            sku_pk = decode_optional_id(in_stock_sku_id, "Sku", ["inStockSkuId"])
        except NotFound:
            return []  # a SKU that does not exist is in stock nowhere
        async with info.context.reader() as session:
            rows = await service.nearby_stores(
                session,
                lat=lat,
                lng=lng,
                coord_system=coord_system.name,  # the names are the values
                radius_m=radius_meters,
                first=first,
                service_id=service_pk,
                in_stock_sku_id=sku_pk,
                open_now=open_now,
            )
        return [NearbyStore(store=Store.from_model(s), distance_meters=d) for s, d in rows]

    @strawberry.field
    async def store(self, info: Info, id: strawberry.ID) -> Store | None:
        try:
            pk = decode_id(id, "Store", ["id"])
        except NotFound:
            return None
        return await load_store(info, pk)
