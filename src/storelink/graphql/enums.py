"""The GraphQL enums are the models' own Enum classes: one list of values, marked for strawberry.

A module names each as a plain alias (`OrderStatus = models.OrderStatus`), which stays a type
for mypy, and passes them here; strawberry.enum marks the class itself and returns it.
"""
from enum import Enum

import strawberry


def graphql_enums(*classes: type[Enum]) -> None:
    for cls in classes:
        strawberry.enum(cls)
