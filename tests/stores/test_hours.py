import datetime as dt

import pytest

from storelink.errors import InvalidInput
from storelink.stores import hours

SHANGHAI = "Asia/Shanghai"
CST = dt.timezone(dt.timedelta(hours=8))
WEEK = [{"weekday": d, "opens": "10:00", "closes": "22:00"} for d in range(1, 8)]
# Friday and Saturday open until 02:00 the next morning.
LATE = [{"weekday": d, "opens": "18:00", "closes": "02:00"} for d in (5, 6)]


def at(y, m, d, hh, mm=0, tz=CST):
    return dt.datetime(y, m, d, hh, mm, tzinfo=tz)


def test_open_inside_weekly_hours_and_closed_outside():
    # when / then
    assert hours.is_open_at(at(2026, 11, 23, 10, 0), SHANGHAI, WEEK, {})  # Monday 10:00
    assert hours.is_open_at(at(2026, 11, 23, 21, 59), SHANGHAI, WEEK, {})
    assert not hours.is_open_at(at(2026, 11, 23, 22, 0), SHANGHAI, WEEK, {})  # closing is exclusive
    assert not hours.is_open_at(at(2026, 11, 23, 9, 59), SHANGHAI, WEEK, {})


def test_time_is_read_in_the_store_timezone():
    # when / then
    # 02:30 UTC on Monday is 10:30 in Shanghai
    assert hours.is_open_at(at(2026, 11, 23, 2, 30, dt.timezone.utc), SHANGHAI, WEEK, {})


def test_overnight_hours_run_into_the_next_morning():
    # when / then
    assert hours.is_open_at(at(2026, 11, 27, 23, 0), SHANGHAI, LATE, {})  # Friday 23:00
    assert hours.is_open_at(at(2026, 11, 28, 1, 30), SHANGHAI, LATE, {})  # Saturday 01:30, Friday's tail
    assert not hours.is_open_at(at(2026, 11, 28, 2, 0), SHANGHAI, LATE, {})
    assert not hours.is_open_at(at(2026, 11, 27, 1, 0), SHANGHAI, LATE, {})  # Thursday had no late hours


def test_special_day_closed_overrides_weekly_hours_but_not_last_nights_tail():
    # given
    saturday = dt.date(2026, 11, 28)
    closed = {saturday: {"closed": True, "opens": None, "closes": None}}
    # when / then
    assert not hours.is_open_at(at(2026, 11, 28, 19, 0), SHANGHAI, LATE, closed)
    assert hours.is_open_at(at(2026, 11, 28, 1, 0), SHANGHAI, LATE, closed)  # Friday night still runs


def test_special_day_with_other_hours():
    # given
    monday = dt.date(2026, 11, 23)
    short = {monday: {"closed": False, "opens": "12:00", "closes": "16:00"}}
    # when / then
    assert not hours.is_open_at(at(2026, 11, 23, 11, 0), SHANGHAI, WEEK, short)
    assert hours.is_open_at(at(2026, 11, 23, 15, 59), SHANGHAI, WEEK, short)
    assert not hours.is_open_at(at(2026, 11, 23, 17, 0), SHANGHAI, WEEK, short)


def test_open_until_midnight_is_allowed():
    # when
    week = hours.check_weekly_hours([{"weekday": 1, "opens": "08:00", "closes": "24:00"}], ["h"])
    # then
    assert hours.is_open_at(at(2026, 11, 23, 23, 59), SHANGHAI, week, {})
    assert not hours.is_open_at(at(2026, 11, 24, 0, 0), SHANGHAI, week, {})


@pytest.mark.parametrize(
    "bad, field",
    [
        ({"weekday": 0, "opens": "10:00", "closes": "22:00"}, "weekday"),
        ({"weekday": 8, "opens": "10:00", "closes": "22:00"}, "weekday"),
        ({"weekday": 1, "opens": "25:00", "closes": "22:00"}, "opens"),
        ({"weekday": 1, "opens": "9:00", "closes": "22:00"}, "opens"),
        ({"weekday": 1, "opens": "10:00", "closes": "22:60"}, "closes"),
        ({"weekday": 1, "opens": "10:00", "closes": "10:00"}, "closes"),
        ({"weekday": 1, "opens": "24:00", "closes": "10:00"}, "opens"),
    ],
)
def test_malformed_hours_are_refused_with_the_field(bad, field):
    # when / then
    with pytest.raises(InvalidInput) as err:
        hours.check_weekly_hours([bad], ["input", "openingHours"])
    assert err.value.field == ["input", "openingHours", "0", field]


def test_overlapping_intervals_on_one_day_are_refused():
    # when / then
    with pytest.raises(InvalidInput):
        hours.check_weekly_hours(
            [{"weekday": 2, "opens": "10:00", "closes": "14:00"},
             {"weekday": 2, "opens": "13:00", "closes": "20:00"}],
            ["h"],
        )


def test_unknown_timezone_is_refused():
    # when / then
    with pytest.raises(InvalidInput):
        hours.check_timezone("Asia/Atlantis", ["tz"])
    # when / then
    with pytest.raises(InvalidInput):
        hours.check_timezone("../../etc/passwd", ["tz"])
    assert hours.check_timezone("Asia/Urumqi", ["tz"]) == "Asia/Urumqi"
