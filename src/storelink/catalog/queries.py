"""Browsing the catalog (public, like the store list)."""
from __future__ import annotations

import strawberry

from storelink.api.context import Info
from storelink.catalog import service
from storelink.catalog.loaders import ProductById
from storelink.catalog.types import Product, ProductConnection, ProductEdge, Sku, load_product, load_sku
from storelink.errors import NotFound
from storelink.graphql.pagination import PageInfo, cursor_for, id_after
from storelink.graphql.relay import decode_id, node_resolver


@node_resolver("Product")
async def _product_node(info: Info, pk: int) -> Product | None:
    return await load_product(info, pk)


@node_resolver("Sku")
async def _sku_node(info: Info, pk: int) -> Sku | None:
    return await load_sku(info, pk)


@strawberry.type
class CatalogQueries:
    @strawberry.field
    async def products(self, info: Info, query: str | None = None, category: str | None = None,
                       first: int = 20, after: str | None = None) -> ProductConnection:
        async with info.context.reader() as session:
            rows, more = await service.list_products(
                session, query=query, category=category, first=first, after_id=id_after(after, "Product"))
        loader = ProductById.of(info)
        for row in rows:
            loader.prime(row.id, row)
        edges = [ProductEdge(node=Product.from_model(r), cursor=cursor_for("Product", r.id)) for r in rows]
        return ProductConnection(
            edges=edges, page_info=PageInfo.of([e.cursor for e in edges], more=more, after=after))

    @strawberry.field
    async def product(self, info: Info, id: strawberry.ID) -> Product | None:
        try:
            pk = decode_id(id, "Product", ["id"])
        except NotFound:
            return None
        return await load_product(info, pk)
