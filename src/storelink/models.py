"""Every table, imported in one place for Alembic and the tests."""
from storelink.accounts.models import AuthSession, Customer, LoginThrottle, RefreshToken, Staff
from storelink.appointments.models import ServiceType, StoreService
from storelink.stores.models import SpecialDay, Store

__all__ = [
    "AuthSession", "Customer", "LoginThrottle", "RefreshToken", "Staff",
    "ServiceType", "StoreService", "SpecialDay", "Store",
]
