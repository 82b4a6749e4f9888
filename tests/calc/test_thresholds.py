"""Thresholds: alarm levels at their exact boundaries, trip, close, overload, friendly time."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

import pytest

from openprepaid.calc.thresholds import (
    ThresholdError,
    Thresholds,
    alarm_level,
    in_friendly_time,
    is_overloaded,
    may_close,
    should_trip,
)

D = Decimal
SITE = Thresholds(
    alarm_1=D("50.00"),
    alarm_2=D("20.00"),
    overdraft_limit=D("10.00"),
    close_allowed_limit=D("5.00"),
    overload_power_kw=D("8.0000"),
)


@pytest.mark.parametrize(
    ("balance", "level"),
    [
        ("1000.00", "normal"),
        ("50.01", "normal"),
        ("50.00", "alarm_1"),
        ("20.01", "alarm_1"),
        ("20.00", "alarm_2"),
        ("0.01", "alarm_2"),
        ("0.00", "alarm_2"),
        ("-0.01", "arrears"),
        ("-500.00", "arrears"),
    ],
)
def test_alarm_level_boundaries(balance, level):
    assert alarm_level(D(balance), SITE) == level


def test_alarm_levels_may_coincide():
    same = Thresholds(D("30.00"), D("30.00"), D("0"), D("0"))
    assert alarm_level(D("30.01"), same) == "normal"
    assert alarm_level(D("30.00"), same) == "alarm_2"


@pytest.mark.parametrize(
    ("balance", "trips"),
    [("0.00", False), ("-9.99", False), ("-10.00", False), ("-10.01", True), ("-100", True)],
)
def test_trip_only_beyond_the_overdraft_limit(balance, trips):
    assert should_trip(D(balance), SITE) is trips


def test_without_overdraft_any_arrears_trips():
    strict = Thresholds(D("50"), D("20"), D("0"), D("0"))
    assert should_trip(D("0.00"), strict) is False
    assert should_trip(D("-0.01"), strict) is True


@pytest.mark.parametrize(
    ("balance", "closes"),
    [("5.01", True), ("5.00", False), ("0.00", False), ("-20.00", False)],
)
def test_close_only_above_the_close_allowed_limit(balance, closes):
    assert may_close(D(balance), SITE) is closes


def test_close_never_while_the_balance_would_trip():
    loose = Thresholds(D("50"), D("20"), D("10.00"), D("-100.00"))
    assert may_close(D("-10.01"), loose) is False
    assert should_trip(D("-10.01"), loose) is True
    assert may_close(D("-10.00"), loose) is False
    assert should_trip(D("-10.00"), loose) is False
    assert may_close(D("-9.99"), loose) is True


def test_overload():
    assert is_overloaded(D("8.0001"), SITE) is True
    assert is_overloaded(D("8.0000"), SITE) is False
    assert is_overloaded(D("99"), Thresholds(D("50"), D("20"), D("0"), D("0"))) is False


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"alarm_1": 50.0}, "alarm_1 must be a Decimal"),
        ({"close_allowed_limit": "5"}, "close_allowed_limit must be a Decimal"),
        ({"overload_power_kw": 8}, "overload_power_kw must be a Decimal or None"),
    ],
)
def test_values_that_are_not_decimals_are_refused(changes, message):
    values = {
        "alarm_1": D("50.00"),
        "alarm_2": D("20.00"),
        "overdraft_limit": D("0"),
        "close_allowed_limit": D("0"),
        **changes,
    }
    with pytest.raises(ThresholdError, match=message):
        Thresholds(**values)


def test_inconsistent_thresholds_are_reported_and_still_give_answers():
    odd = Thresholds(D("10.00"), D("20.00"), D("-5.00"), D("-1.00"))
    assert odd.problems() == [
        "alarm_1 (10.00) is below alarm_2 (20.00)",
        "overdraft_limit (-5.00) is negative",
        "close_allowed_limit (-1.00) is below the overdraft allowed (0): "
        "a meter would close while it should trip",
    ]
    assert alarm_level(D("15.00"), odd) == "alarm_2"  # the more severe level wins
    assert alarm_level(D("20.01"), odd) == "normal"
    assert should_trip(D("0.00"), odd) is False  # a negative overdraft counts as 0
    assert should_trip(D("-0.01"), odd) is True
    assert may_close(D("0.01"), odd) is True  # never below the trip line
    assert may_close(D("0.00"), odd) is False
    closing_too_low = Thresholds(D("50"), D("20"), D("10.00"), D("-20.00"))
    assert closing_too_low.problems() == [
        "close_allowed_limit (-20.00) is below the overdraft allowed (-10.00): "
        "a meter would close while it should trip"
    ]
    assert SITE.problems() == []


# -- friendly time --------------------------------------------------------------------------

TUESDAY = date(2026, 3, 3)
SATURDAY = date(2026, 3, 7)
HOLIDAYS = {date(2026, 10, 1)}


def _at(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second)  # noqa: DTZ001


@pytest.mark.parametrize(
    ("moment", "friendly"),
    [
        (_at(TUESDAY, 21, 59, 59), False),
        (_at(TUESDAY, 22), True),
        (_at(TUESDAY, 23, 59), True),
        (_at(TUESDAY, 0), True),
        (_at(TUESDAY, 5, 59, 59), True),
        (_at(TUESDAY, 6), False),
        (_at(TUESDAY, 12), False),
    ],
)
def test_friendly_hours_across_midnight(moment, friendly):
    assert in_friendly_time(moment, time(22), time(6), False, set()) is friendly


@pytest.mark.parametrize(
    ("moment", "friendly"),
    [
        (_at(TUESDAY, 11, 59), False),
        (_at(TUESDAY, 12), True),
        (_at(TUESDAY, 13, 59), True),
        (_at(TUESDAY, 14), False),
    ],
)
def test_friendly_hours_within_a_day(moment, friendly):
    assert in_friendly_time(moment, time(12), time(14), False, set()) is friendly


def test_equal_or_missing_hours_mean_no_friendly_hours():
    assert in_friendly_time(_at(TUESDAY, 22), time(22), time(22), False, set()) is False
    assert in_friendly_time(_at(TUESDAY, 22), None, time(6), False, set()) is False
    assert in_friendly_time(_at(TUESDAY, 22), None, None, False, set()) is False


def test_weekends_are_friendly_all_day_when_configured():
    assert in_friendly_time(_at(SATURDAY, 12), None, None, True, set()) is True
    assert in_friendly_time(_at(date(2026, 3, 8), 23, 59), None, None, True, set()) is True
    assert in_friendly_time(_at(date(2026, 3, 9), 0), None, None, True, set()) is False
    assert in_friendly_time(_at(SATURDAY, 12), None, None, False, set()) is False


def test_holidays_are_friendly_all_day():
    assert in_friendly_time(_at(date(2026, 10, 1), 0), time(22), time(6), False, HOLIDAYS) is True
    assert in_friendly_time(_at(date(2026, 10, 1), 15), None, None, False, HOLIDAYS) is True
    assert in_friendly_time(_at(date(2026, 10, 2), 15), None, None, False, HOLIDAYS) is False
    # The night after a holiday is friendly only through the daily hours.
    assert in_friendly_time(_at(date(2026, 10, 2), 5), time(22), time(6), False, HOLIDAYS) is True


def test_an_aware_local_time_uses_its_wall_clock():
    from zoneinfo import ZoneInfo

    moment = datetime(2026, 3, 3, 22, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert in_friendly_time(moment, time(22), time(6), False, set()) is True
