"""Time of use: period registers, splitting by the calendar, boundaries, holidays, seasons, and
tiered time of use (tier adders)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from tests.calc.tariff_helpers import (
    SHANGHAI,
    TIERED_TOU,
    TOU,
    definition,
    local,
    price,
    schedule,
    summary,
    total,
)

from openprepaid.calc.tariffs import (
    IntervalError,
    Registers,
    TariffSchedule,
    parse_tariff,
)

D = Decimal
TARIFF = schedule("tou", TOU)
CALENDAR = parse_tariff("tou", TOU).calendar
BEFORE = Registers(D("100.00"), D("10.00"), D("20.00"), D("30.00"), D("40.00"))


def _after(
    total_: str,
    sharp: str = "10.50",
    peak: str = "21.00",
    flat: str = "30.70",
    valley: str = "40.80",
):
    return Registers(D(total_), D(sharp), D(peak), D(flat), D(valley))


def _kwh(start, end, kwh="1.00", tariffs=TARIFF):
    return price(tariffs, start, end, total("0"), total(kwh))


# -- with period registers -------------------------------------------------------------------


def test_period_register_deltas_are_priced_as_they_are():
    charge = price(TARIFF, local(2026, 3, 3, 8), local(2026, 3, 3, 8, 15), BEFORE, _after("103.00"))
    assert summary(charge) == [
        ("sharp", None, D("0.50"), D("1.5000"), D("0.75")),
        ("peak", None, D("1.00"), D("1.2000"), D("1.2")),
        ("flat", None, D("0.70"), D("0.8000"), D("0.56")),
        ("valley", None, D("0.80"), D("0.4000"), D("0.32")),
    ]
    assert charge.amount_exact == D("2.83")
    assert charge.energy == D("3.00")


def test_registers_are_used_whatever_the_calendar_says():
    night = price(TARIFF, local(2026, 3, 3, 2), local(2026, 3, 3, 2, 15), BEFORE, _after("103.00"))
    assert night.amount_exact == D("2.83")


def test_a_total_above_the_period_sum_is_priced_at_flat():
    charge = price(TARIFF, local(2026, 3, 3, 8), local(2026, 3, 3, 8, 15), BEFORE, _after("103.01"))
    assert summary(charge)[2] == ("flat", None, D("0.71"), D("0.8000"), D("0.568"))
    assert charge.amount_exact == D("2.838")
    assert charge.energy == D("3.01")


def test_a_total_below_the_period_sum_is_taken_off_flat():
    charge = price(TARIFF, local(2026, 3, 3, 8), local(2026, 3, 3, 8, 15), BEFORE, _after("102.99"))
    assert summary(charge)[2] == ("flat", None, D("0.69"), D("0.8000"), D("0.552"))
    assert charge.amount_exact == D("2.822")


def test_periods_without_energy_have_no_line():
    after = _after("101.00", sharp="10.00", peak="21.00", flat="30.00", valley="40.00")
    charge = price(TARIFF, local(2026, 3, 3, 8), local(2026, 3, 3, 9), BEFORE, after)
    assert summary(charge) == [("peak", None, D("1.00"), D("1.2000"), D("1.2"))]


def test_a_period_register_going_back_is_refused():
    after = _after("103.00", valley="39.99")
    with pytest.raises(IntervalError, match=r"the valley register went back by 0\.01"):
        price(TARIFF, local(2026, 3, 3, 8), local(2026, 3, 3, 9), BEFORE, after)


def test_a_missing_period_register_falls_back_to_the_calendar():
    after = Registers(D("101.00"), D("10.00"), D("21.00"), None, D("40.00"))
    charge = price(TARIFF, local(2026, 3, 3, 8), local(2026, 3, 3, 9), BEFORE, after)
    assert summary(charge) == [("peak", None, D("1.00"), D("1.2000"), D("1.2"))]


def test_period_registers_are_split_by_time_at_a_price_change():
    cheaper = definition(TOU)
    cheaper["prices"]["peak"] = "1.1000"
    tariffs = TariffSchedule(
        [
            (local(2026, 1, 1), parse_tariff("tou", TOU)),
            (local(2026, 3, 3, 8, 10), parse_tariff("tou", cheaper)),
        ]
    )
    after = _after("101.20", sharp="10.00", peak="21.20", flat="30.00", valley="40.00")
    charge = price(tariffs, local(2026, 3, 3, 8), local(2026, 3, 3, 8, 15), BEFORE, after)
    # 10 of 15 minutes at the old price: 1.20 * 2/3 = 0.8 kWh, 0.4 kWh at the new one.
    assert summary(charge) == [
        ("peak", None, D("0.8"), D("1.2000"), D("0.96")),
        ("peak", None, D("0.4"), D("1.1000"), D("0.44")),
    ]
    assert charge.amount_exact == D("1.40")


# -- with the total only: the calendar splits the interval ------------------------------------


def test_exactly_at_a_period_start_the_new_period_applies():
    assert summary(_kwh(local(2026, 3, 3, 8), local(2026, 3, 3, 8, 15))) == [
        ("peak", None, D("1.00"), D("1.2000"), D("1.2"))
    ]
    assert summary(_kwh(local(2026, 3, 3, 7, 45), local(2026, 3, 3, 8))) == [
        ("valley", None, D("1.00"), D("0.4000"), D("0.4"))
    ]


def test_one_second_before_a_period_start_is_still_the_old_period():
    assert CALENDAR.period_at(local(2026, 3, 3, 7, 59, 59), SHANGHAI) == "valley"
    assert CALENDAR.period_at(local(2026, 3, 3, 8), SHANGHAI) == "peak"
    charge = _kwh(local(2026, 3, 3, 7, 59, 59), local(2026, 3, 3, 8, 0, 59), "1.20")
    # 1 second of valley, 59 of peak.
    assert summary(charge) == [
        ("valley", None, D("0.02"), D("0.4000"), D("0.008")),
        ("peak", None, D("1.18"), D("1.2000"), D("1.416")),
    ]
    assert charge.amount_exact == D("1.424")


def test_an_interval_across_a_period_start_is_split_by_time():
    charge = _kwh(local(2026, 3, 3, 7, 45), local(2026, 3, 3, 8, 15))
    assert summary(charge) == [
        ("valley", None, D("0.5"), D("0.4000"), D("0.2")),
        ("peak", None, D("0.5"), D("1.2000"), D("0.6")),
    ]
    assert charge.amount_exact == D("0.80")


def test_the_day_table_wraps_past_midnight():
    # Tuesday 22:45 to Wednesday 00:30: 15 minutes flat, then 90 minutes of valley across
    # midnight (one piece: the period does not change at 00:00).
    charge = _kwh(local(2026, 3, 3, 22, 45), local(2026, 3, 4, 0, 30), "2.10")
    assert summary(charge) == [
        ("flat", None, D("0.3"), D("0.8000"), D("0.24")),
        ("valley", None, D("1.8"), D("0.4000"), D("0.72")),
    ]
    assert charge.amount_exact == D("0.96")


def test_a_night_into_a_weekend_uses_the_holiday_table_from_midnight():
    # Friday 22:30 to Saturday 08:30: flat 30 min, valley 9 h, then the holiday table's
    # flat from 08:00 (a workday would be peak) for 30 min.
    charge = _kwh(local(2026, 3, 6, 22, 30), local(2026, 3, 7, 8, 30), "6.00")
    assert summary(charge) == [
        ("flat", None, D("0.6"), D("0.8000"), D("0.48")),
        ("valley", None, D("5.4"), D("0.4000"), D("2.16")),
    ]
    assert charge.amount_exact == D("2.64")


def test_weekends_use_the_holiday_table_when_the_definition_says_so():
    friday = _kwh(local(2026, 3, 6, 9), local(2026, 3, 6, 9, 15))
    saturday = _kwh(local(2026, 3, 7, 9), local(2026, 3, 7, 9, 15))
    assert summary(friday) == [("peak", None, D("1.00"), D("1.2000"), D("1.2"))]
    assert summary(saturday) == [("flat", None, D("1.00"), D("0.8000"), D("0.8"))]
    workday_weekends = definition(TOU)
    workday_weekends["weekends_are_holidays"] = False
    plain = _kwh(
        local(2026, 3, 7, 9), local(2026, 3, 7, 9, 15), tariffs=schedule("tou", workday_weekends)
    )
    assert summary(plain) == [("peak", None, D("1.00"), D("1.2000"), D("1.2"))]


def test_listed_holidays_use_the_holiday_table():
    assert CALENDAR.is_holiday(date(2026, 10, 1))
    assert not CALENDAR.is_holiday(date(2026, 9, 30))
    eve = _kwh(local(2026, 9, 30, 9), local(2026, 9, 30, 9, 15))
    holiday = _kwh(local(2026, 10, 1, 9), local(2026, 10, 1, 9, 15))
    assert summary(eve) == [("peak", None, D("1.00"), D("1.2000"), D("1.2"))]
    assert summary(holiday) == [("flat", None, D("1.00"), D("0.8000"), D("0.8"))]


def test_seasons_choose_the_day_table():
    june = _kwh(local(2026, 6, 30, 10, 30), local(2026, 6, 30, 10, 45))
    july = _kwh(local(2026, 7, 1, 10, 30), local(2026, 7, 1, 10, 45))
    september = _kwh(local(2026, 9, 1, 10, 30), local(2026, 9, 1, 10, 45))
    assert summary(june) == [("peak", None, D("1.00"), D("1.2000"), D("1.2"))]
    assert summary(july) == [("sharp", None, D("1.00"), D("1.5000"), D("1.5"))]
    assert summary(september) == [("peak", None, D("1.00"), D("1.2000"), D("1.2"))]


def test_an_interval_across_a_season_start_uses_both_tables():
    # 2026-06-30 23:00 to 2026-07-01 11:00: valley until 08:00, peak 08:00-10:00 (summer),
    # sharp 10:00-11:00.
    charge = _kwh(local(2026, 6, 30, 23), local(2026, 7, 1, 11), "12.00")
    assert summary(charge) == [
        ("valley", None, D("9"), D("0.4000"), D("3.6")),
        ("peak", None, D("2"), D("1.2000"), D("2.4")),
        ("sharp", None, D("1"), D("1.5000"), D("1.5")),
    ]


def test_the_last_season_wraps_over_new_year():
    wrapping = definition(TOU)
    wrapping["seasons"] = [
        {"from": "07-01", "workday": "summer", "holiday": "holiday"},
        {"from": "09-01", "workday": "workday", "holiday": "holiday"},
    ]
    calendar = parse_tariff("tou", wrapping).calendar
    assert calendar.season_on(date(2026, 1, 15)).workday == "workday"
    assert calendar.season_on(date(2026, 6, 30)).workday == "workday"
    assert calendar.season_on(date(2026, 7, 1)).workday == "summer"
    assert calendar.season_on(date(2026, 8, 31)).workday == "summer"
    assert calendar.season_on(date(2026, 12, 31)).workday == "workday"


def test_a_whole_workday_with_the_total_only():
    # 2026-03-03 00:00 to 2026-03-04 00:00, 24.00 kWh evenly: valley 9 h, peak 7 h, sharp 2 h,
    # flat 6 h.
    charge = _kwh(local(2026, 3, 3), local(2026, 3, 4), "24.00")
    assert summary(charge) == [
        ("valley", None, D("9"), D("0.4000"), D("3.6")),
        ("peak", None, D("7"), D("1.2000"), D("8.4")),
        ("sharp", None, D("2"), D("1.5000"), D("3")),
        ("flat", None, D("6"), D("0.8000"), D("4.8")),
    ]
    assert charge.amount_exact == D("19.80")
    assert sum(line.energy for line in charge.lines) == D("24.00")


def test_pieces_are_cut_where_the_period_changes():
    pieces = CALENDAR.pieces(
        local(2026, 3, 3, 22).astimezone(UTC), local(2026, 3, 4, 9).astimezone(UTC), SHANGHAI
    )
    assert [
        (moment.astimezone(SHANGHAI).strftime("%d %H:%M"), period) for moment, period in pieces
    ] == [
        ("03 22:00", "flat"),
        ("03 23:00", "valley"),
        ("04 08:00", "peak"),
    ]


def test_calendar_local_time_is_the_callers_zone():
    # 00:30 UTC is 08:30 in Shanghai.
    moment = datetime(2026, 3, 3, 0, 30, tzinfo=UTC)
    assert CALENDAR.period_at(moment, SHANGHAI) == "peak"
    assert CALENDAR.period_at(moment, UTC) == "valley"


# -- tiered time of use ----------------------------------------------------------------------

TIERED_TARIFF = schedule("tiered_tou", TIERED_TOU)


def test_tiered_tou_charges_periods_and_the_adder_of_the_tier():
    charge = price(
        TIERED_TARIFF,
        local(2026, 3, 3, 8),
        local(2026, 3, 3, 8, 15),
        BEFORE,
        _after("103.00"),
        "198",
        "2026-03",
    )
    # Periods 2.83; 2 kWh in tier 1 (adder 0, no line), 1 kWh in tier 2 at +0.05.
    assert summary(charge) == [
        ("sharp", None, D("0.50"), D("1.5000"), D("0.75")),
        ("peak", None, D("1.00"), D("1.2000"), D("1.2")),
        ("flat", None, D("0.70"), D("0.8000"), D("0.56")),
        ("valley", None, D("0.80"), D("0.4000"), D("0.32")),
        (None, 2, D("1.00"), D("0.0500"), D("0.05")),
    ]
    assert charge.amount_exact == D("2.88")
    assert charge.energy == D("3.00")
    assert (charge.cycle_key, charge.cycle_energy) == ("2026-03", D("201.00"))


def test_tiered_tou_with_the_total_only_and_a_month_roll_over():
    # 2026-03-31 23:30 to 2026-04-01 00:30, all valley, 2.00 kWh: 1 kWh in March from 399.5
    # (0.5 at +0.05, 0.5 at +0.30), 1 kWh in April in tier 1.
    charge = price(
        TIERED_TARIFF,
        local(2026, 3, 31, 23, 30),
        local(2026, 4, 1, 0, 30),
        total("0"),
        total("2.00"),
        "399.5",
        "2026-03",
    )
    assert summary(charge) == [
        ("valley", None, D("2.00"), D("0.4000"), D("0.8")),
        (None, 2, D("0.5"), D("0.0500"), D("0.025")),
        (None, 3, D("0.5"), D("0.3000"), D("0.15")),
    ]
    assert charge.amount_exact == D("0.975")
    assert (charge.cycle_key, charge.cycle_energy) == ("2026-04", D("1.00"))
