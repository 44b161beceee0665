"""Every table, imported in one place for Alembic and the tests."""
from storelink.accounts.models import AuthSession, Customer, RefreshToken, Staff
from storelink.appointments.models import Appointment, ServiceType, SlotUsage, StoreService
from storelink.members.models import (
    BindingChange, ConsentRecord, JoinCode, JoinScan, MemberCode, Membership,
)
from storelink.outbox.models import OutboxMessage
from storelink.stores.models import SpecialDay, Store
from storelink.throttle import Throttle

__all__ = [
    "AuthSession", "Customer", "RefreshToken", "Staff", "Throttle",
    "BindingChange", "ConsentRecord", "JoinCode", "JoinScan", "MemberCode", "Membership",
    "Appointment", "OutboxMessage", "ServiceType", "SlotUsage", "StoreService", "SpecialDay", "Store",
]
