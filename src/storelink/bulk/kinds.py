"""The kinds `storelink import` and `export` know, in the order a brand moves in."""
from storelink.bulk import members, orders, products, staff, stock, stores

KINDS = {kind.name: kind for kind in (stores.KIND, staff.KIND, products.KIND, stock.KIND, members.KIND, orders.KIND)}
