"""GraphQL types of stores."""
from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from storelink.api.context import Info
from storelink.appointments.loaders import ServicesOfStore
from storelink.errors import InvalidInput
from storelink.graphql.errors import UserError
from storelink.graphql.lazy import lazy_class
from storelink.graphql.relay import Node, to_global_id
from storelink.stores import hours, models
from storelink.stores.loaders import SpecialDay, StoreById

if TYPE_CHECKING:
    from storelink.appointments.types import ServiceType

# appointments.types builds on Store, so Store names its services lazily.
_APPOINTMENTS = "storelink.appointments.types"


@strawberry.enum
class CoordSystem(Enum):
    WGS84 = strawberry.enum_value("WGS84", description="What phones report by default (wx.getLocation without type).")
    GCJ02 = strawberry.enum_value(
        "GCJ02", description="What Chinese maps and wx.getLocation type 'gcj02' use; stores are kept in this."
    )


@strawberry.type
class GeoPoint:
    lat: float
    lng: float


@strawberry.input
class GeoPointInput:
    lat: float
    lng: float
    coord_system: CoordSystem = CoordSystem.GCJ02


@strawberry.type
class OpeningHours:
    weekday: int = strawberry.field(description="1 = Monday … 7 = Sunday")
    opens: str = strawberry.field(description="Local time HH:MM")
    closes: str = strawberry.field(description="Local time HH:MM; may be earlier than opens for hours past midnight.")


@strawberry.type
class Store(Node):
    id: strawberry.ID
    code: str
    name: str
    city: str
    address: str
    phone: str | None
    location: GeoPoint
    timezone: str = strawberry.field(description="IANA timezone, e.g. Asia/Shanghai")
    ships_online_orders: bool = strawberry.field(description="Ships online orders from its own stock (ship-from-store).")
    same_city_radius_meters: int = strawberry.field(
        description="Same-city delivery from this store reaches addresses within this distance (0: none).")
    pk: strawberry.Private[int]
    weekly: strawberry.Private[list[dict]]

    @classmethod
    def from_model(cls, row: models.Store) -> "Store":
        return cls(
            id=to_global_id("Store", row.id),
            code=row.code,
            name=row.name,
            city=row.city,
            address=row.address,
            phone=row.phone,
            location=GeoPoint(lat=row.lat, lng=row.lng),
            timezone=row.timezone,
            ships_online_orders=row.ships_online_orders,
            same_city_radius_meters=row.same_city_radius_m,
            pk=row.id,
            weekly=row.opening_hours,
        )

    @strawberry.field
    def opening_hours(self) -> list[OpeningHours]:
        return [OpeningHours(**h) for h in self.weekly]

    @strawberry.field(description="Takes special days (holidays, closures) into account.")
    async def is_open_at(self, info: Info, at: dt.datetime) -> bool:
        if at.tzinfo is None:
            raise InvalidInput("`at` must carry its UTC offset", field=["at"])
        days = hours.days_needed(at, self.timezone)
        specials = await SpecialDay.of(info).load_many([(self.pk, d) for d in days])
        by_day = {d: s for d, s in zip(days, specials) if s is not None}
        return hours.is_open_at(at, self.timezone, self.weekly, by_day)

    @strawberry.field
    async def services(self, info: Info) -> list[Annotated["ServiceType", strawberry.lazy(_APPOINTMENTS)]]:
        service_type = lazy_class("ServiceType", _APPOINTMENTS)
        return [service_type.from_model(r) for r in await ServicesOfStore.of(info).load(self.pk)]


async def load_store(info: Info, pk: int | None) -> Store | None:
    """The Store with that id through the request's DataLoader (None for None or a missing one)."""
    if pk is None:
        return None
    row = await StoreById.of(info).load(pk)
    return Store.from_model(row) if row else None


@strawberry.type
class NearbyStore:
    store: Store
    distance_meters: int


@strawberry.input
class OpeningHoursInput:
    weekday: int
    opens: str
    closes: str


@strawberry.input
class StoreInput:
    code: str = strawberry.field(description="Business key: upserting an existing code updates that store.")
    name: str
    city: str
    address: str
    phone: str | None = None
    lat: float
    lng: float
    coord_system: CoordSystem = CoordSystem.GCJ02
    timezone: str = "Asia/Shanghai"
    opening_hours: list[OpeningHoursInput]
    ships_online_orders: bool = False
    same_city_radius_meters: int = 0


@strawberry.input
class SpecialDayInput:
    store_id: strawberry.ID
    date: dt.date
    closed: bool = strawberry.field(
        description="True: closed all day. False: open with the given hours instead of the weekly ones."
    )
    opens: str | None = None
    closes: str | None = None


@strawberry.type
class StorePayload:
    store: Store | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
