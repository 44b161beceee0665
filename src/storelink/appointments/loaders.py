"""DataLoaders for service types, the services a store offers, and a customer's appointments."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from storelink.appointments import booking, service
from storelink.appointments.models import Appointment, ServiceType
from storelink.graphql.dataloaders import RequestLoader, RowsByKey


class ServiceTypeById(RowsByKey):
    model = ServiceType


class ServicesOfStore(RequestLoader[int, list[ServiceType]]):
    async def fetch(self, session: AsyncSession, store_ids: Sequence[int]) -> list[list[ServiceType]]:
        found = await service.active_services_by_store(session, store_ids)
        return [found.get(i, []) for i in store_ids]


class AppointmentsOfCustomer(RequestLoader[tuple[int, bool], list[Appointment]]):
    """Key: (customer id, upcoming only)."""

    async def fetch(self, session: AsyncSession, keys: Sequence[tuple[int, bool]]) -> list[list[Appointment]]:
        return [await booking.customer_appointments(session, customer_id=c, upcoming_only=upcoming)
                for c, upcoming in keys]
