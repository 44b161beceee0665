"""Who may do what: the staff roles and their store scope, in one place."""
from __future__ import annotations

from storelink.accounts.models import Staff, StaffRole
from storelink.errors import Forbidden


def is_hq(staff: Staff) -> bool:
    return staff.role == StaffRole.HQ_ADMIN


def can_see_store(staff: Staff, store_id: int | None) -> bool:
    """Read scope: HQ sees every store; guides and managers their own (no store: HQ's alone)."""
    return is_hq(staff) or (store_id is not None and staff.store_id == store_id)


def can_manage_store(staff: Staff, store_id: int | None) -> bool:
    """Write scope for store settings: HQ, or the manager of that store (no store: HQ alone)."""
    return is_hq(staff) or (staff.role == StaffRole.STORE_MANAGER and store_id is not None
                            and staff.store_id == store_id)


def can_see_staff(viewer: Staff, other: Staff) -> bool:
    return viewer.id == other.id or is_hq(viewer) or (
        viewer.store_id is not None and viewer.store_id == other.store_id
    )


def ensure_hq(staff: Staff) -> None:
    if not is_hq(staff):
        raise Forbidden("Only HQ admins may do this")


def ensure_manages_store(staff: Staff, store_id: int | None) -> None:
    if not can_manage_store(staff, store_id):
        raise Forbidden("Only HQ or this store's manager may do this")
