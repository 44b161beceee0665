"""Recommender tests build on the commerce world."""
from tests.commerce.conftest import mall  # noqa: F401  (the fixture)
