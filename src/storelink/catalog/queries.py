"""Browsing the catalog (public, like the store list)."""
from __future__ import annotations

import strawberry

from storelink.catalog import service
from storelink.catalog.types import Product, ProductConnection, ProductEdge
from storelink.errors import NotFound
from storelink.graphql.pagination import PageInfo, cursor_for, id_after
from storelink.graphql.relay import decode_id


@strawberry.type
class CatalogQueries:
    @strawberry.field
    async def products(self, info: strawberry.Info, query: str | None = None, category: str | None = None,
                       first: int = 20, after: str | None = None) -> ProductConnection:
        async with info.context.sessionmaker() as session:
            rows, more = await service.list_products(
                session, query=query, category=category, first=first, after_id=id_after(after, "Product"))
        loader = info.context.loaders.product
        for row in rows:
            loader.prime(row.id, row)
        edges = [ProductEdge(node=Product.from_model(r), cursor=cursor_for("Product", r.id)) for r in rows]
        return ProductConnection(
            edges=edges, page_info=PageInfo(has_next_page=more, end_cursor=edges[-1].cursor if edges else None))

    @strawberry.field
    async def product(self, info: strawberry.Info, id: strawberry.ID) -> Product | None:
        try:
            pk = decode_id(id, "Product", ["id"])
        except NotFound:
            return None
        row = await info.context.loaders.product.load(pk)
        return Product.from_model(row) if row and row.active else None
