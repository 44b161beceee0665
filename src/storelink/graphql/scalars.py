"""The API's scalars: Long for sums of money, and Date / DateTime bounded to the days the API
accepts (limits.MIN_DATE..MAX_DATE), so year 1 or 9999 is the client's mistake, said as a
coercion error, not an overflow deep in a resolver."""
from __future__ import annotations

import datetime as dt
from typing import NewType

import dateutil.parser
import strawberry
from strawberry.exceptions import StrawberryInputCoercionError

from storelink.limits import MAX_DATE, MIN_DATE, date_in_range

# For sums of money: annotate a field `Long`; the schema maps it to the scalar below.
Long = NewType("Long", int)


def _long(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not -(2**63) <= value < 2**63:
        raise StrawberryInputCoercionError(f"Long cannot represent {value!r}")
    return value


def _parsed(parse, type_name: str):
    def parse_value(value: object):
        if not isinstance(value, str):
            raise StrawberryInputCoercionError(f'Value cannot represent a {type_name}: "{value}". Expected a string.')
        try:
            found = parse(value)
        except (ValueError, OverflowError) as exc:
            raise StrawberryInputCoercionError(f'Value cannot represent a {type_name}: "{value}". {exc}') from None
        day = found.date() if isinstance(found, dt.datetime) else found
        if not date_in_range(day):
            raise StrawberryInputCoercionError(
                f'{type_name} "{value}" is out of range: from {MIN_DATE.isoformat()} to {MAX_DATE.isoformat()}.')
        return found

    return parse_value


def _in_zone(zone: dt.tzinfo):
    """DateTime output: a value still in UTC (as the database gives it) is said in `zone`; one a type
    already put in a store's zone (appointments, slots) keeps it. So no DateTime leaves in UTC."""
    def serialize(value: dt.datetime) -> str:
        if value.tzinfo is None or value.tzinfo is dt.timezone.utc:
            value = value.replace(tzinfo=dt.timezone.utc).astimezone(zone)
        return value.isoformat()

    return serialize


def scalar_map(zone: dt.tzinfo = dt.timezone.utc) -> dict:
    """The scalars, DateTimes said in `zone` (the brand's timezone) unless a store's."""
    # Date and DateTime keep strawberry's names and descriptions, so the schema reads the same.
    return {
        Long: strawberry.scalar(
            name="Long",
            description="A 64-bit integer as a JSON number (exact up to 2^53), for sums of money that can pass 2^31 fen.",
            serialize=int, parse_value=_long),
        dt.date: strawberry.scalar(name="Date", description="Date (isoformat)", serialize=dt.date.isoformat,
                                   parse_value=_parsed(dt.date.fromisoformat, "Date")),
        dt.datetime: strawberry.scalar(name="DateTime", description="Date with time (isoformat)",
                                       serialize=_in_zone(zone),
                                       parse_value=_parsed(dateutil.parser.isoparse, "DateTime")),
    }
