"""GraphQL types of the catalog and stock."""
from __future__ import annotations

import strawberry

from storelink.api.context import Info
from storelink.catalog import models
from storelink.catalog.loaders import ProductById, SkuById, SkusOfProduct, StoreStock
from storelink.errors import NotFound
from storelink.graphql.errors import UserError
from storelink.graphql.pagination import PageInfo
from storelink.graphql.relay import Node, decode_id, to_global_id


@strawberry.type
class Product(Node):
    id: strawberry.ID
    name: str
    description: str | None
    category: str
    tags: list[str]
    image_url: str | None
    pk: strawberry.Private[int]

    @classmethod
    def from_model(cls, row: models.Product) -> "Product":
        return cls(id=to_global_id("Product", row.id), name=row.name, description=row.description,
                   category=row.category, tags=list(row.tags), image_url=row.image_url, pk=row.id)

    @strawberry.field
    async def skus(self, info: Info) -> list["Sku"]:
        rows = await SkusOfProduct.of(info).load(self.pk)
        return [Sku.from_model(r) for r in rows]


@strawberry.type
class Sku(Node):
    id: strawberry.ID
    code: str
    title: str = strawberry.field(description="e.g. colour / size, free text")
    price_fen: int
    online_stock: int = strawberry.field(description="Units the online warehouse can ship.")
    pk: strawberry.Private[int]
    product_pk: strawberry.Private[int]

    @classmethod
    def from_model(cls, row: models.Sku) -> "Sku":
        return cls(id=to_global_id("Sku", row.id), code=row.code, title=row.title, price_fen=row.price_fen,
                   online_stock=row.online_stock, pk=row.id, product_pk=row.product_id)

    @strawberry.field
    async def product(self, info: Info) -> Product:
        row = await ProductById.of(info).load(self.product_pk)
        return Product.from_model(row)

    @strawberry.field(description="Units on hand at that store (0 when not stocked).")
    async def stock_at(self, info: Info, store_id: strawberry.ID) -> int:
        try:
            store_pk = decode_id(store_id, "Store", ["storeId"])
        except NotFound:
            return 0
        return await StoreStock.of(info).load((self.pk, store_pk))


async def load_sku(info: Info, pk: int) -> Sku | None:
    row = await SkuById.of(info).load(pk)
    return Sku.from_model(row) if row else None


async def sku_of_line(info: Info, pk: int) -> Sku:
    """The SKU an order or shipment line names (kept even when no longer sold, so always there)."""
    found = await load_sku(info, pk)
    assert found is not None
    return found


async def load_product(info: Info, pk: int) -> Product | None:
    """A product on offer (the catalog is public, like stores); None for a withdrawn one."""
    row = await ProductById.of(info).load(pk)
    return Product.from_model(row) if row and row.active else None


@strawberry.type
class ProductEdge:
    node: Product
    cursor: str


@strawberry.type
class ProductConnection:
    edges: list[ProductEdge]
    page_info: PageInfo


@strawberry.input
class SkuInput:
    code: str
    title: str
    price_fen: int


@strawberry.input
class ProductInput:
    code: str = strawberry.field(
        description="Business key: upserting an existing code updates that product; SKUs are matched by code."
    )
    name: str
    category: str
    skus: list[SkuInput]
    description: str | None = None
    tags: list[str] = strawberry.field(default_factory=list)
    image_url: str | None = None


@strawberry.type
class ProductPayload:
    product: Product | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class StockInput:
    sku_id: strawberry.ID
    quantity: int
    store_id: strawberry.ID | None = strawberry.field(default=None, description="Null sets the online warehouse's stock.")


@strawberry.type
class SkuPayload:
    sku: Sku | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
