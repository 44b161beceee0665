"""Products, their SKUs, and stock: the online warehouse's on the SKU, each store's in store_stock."""
from datetime import datetime

from sqlalchemy import CheckConstraint, Column, Index, String, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel

from storelink.modelbase import created_at_field


class Product(SQLModel, table=True):
    __tablename__ = "product"
    __table_args__ = (
        # Search without extensions: the character bigrams of the text, matched with a GIN index
        # on the array (see catalog.search).
        Index("ix_product_search_grams", "search_grams", postgresql_using="gin"),
        Index("ix_product_category_id", "category", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=100)
    description: str | None = Field(default=None, max_length=2000)
    category: str = Field(max_length=50)
    tags: list[str] = Field(default_factory=list, sa_column=Column(ARRAY(String(30)), nullable=False))
    image_url: str | None = Field(default=None, max_length=500)
    # Lower-cased name, description and tags; the exact match behind the gram pre-filter.
    search_text: str = Field(default="", sa_column=Column(Text, nullable=False))
    search_grams: list[str] = Field(default_factory=list, sa_column=Column(ARRAY(Text), nullable=False))
    active: bool = True
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class Sku(SQLModel, table=True):
    __tablename__ = "sku"
    __table_args__ = (
        CheckConstraint("price_fen > 0", name="price_positive"),
        CheckConstraint("online_stock >= 0", name="online_stock_not_negative"),
    )

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id", index=True)
    code: str = Field(max_length=32, unique=True)
    title: str = Field(max_length=100)
    price_fen: int
    # Units the online warehouse can ship now (held units are already taken off).
    online_stock: int = 0
    # A SKU dropped from its product stays for the orders that name it, but is no longer sold.
    active: bool = True
    created_at: datetime = created_at_field()


class StoreStock(SQLModel, table=True):
    """Units on hand at a store (held units for pickup orders are already taken off)."""

    __tablename__ = "store_stock"
    __table_args__ = (
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        # nearbyStores(inStockSkuId:) looks stores up by SKU.
        Index("ix_store_stock_sku_in_stock", "sku_id", "store_id", postgresql_where="quantity > 0"),
    )

    sku_id: int = Field(foreign_key="sku.id", primary_key=True)
    store_id: int = Field(foreign_key="store.id", primary_key=True)
    quantity: int = 0
    updated_at: datetime = created_at_field()
