"""DataLoaders for staff and customers."""
from __future__ import annotations

from storelink.accounts.models import Customer, Staff
from storelink.graphql.dataloaders import RowsByKey


class StaffById(RowsByKey):
    model = Staff


class CustomerById(RowsByKey):
    model = Customer
