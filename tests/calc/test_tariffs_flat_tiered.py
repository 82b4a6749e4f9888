"""Flat and tiered prices, tier cycles, versions, service charge and the sale unit price."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from tests.calc.tariff_helpers import (
    SHANGHAI,
    TIERED,
    TIERED_TOU,
    TOU,
    definition,
    local,
    price,
    schedule,
    summary,
    total,
)

from openprepaid.calc.money import round_money
from openprepaid.calc.tariffs import (
    IntervalError,
    Registers,
    TariffSchedule,
    cycle_key_at,
    parse_tariff,
    service_charge_due,
    unit_price_at,
)

D = Decimal
FLAT = schedule("flat", {"price": "0.8000"})
TIERS = schedule("tiered", TIERED)


def _yearly():
    return schedule(
        "tiered",
        {
            "cycle": "year",
            "tiers": [
                {"up_to": "2760", "price": "0.5380"},
                {"up_to": "4800", "price": "0.5880"},
                {"up_to": None, "price": "0.8380"},
            ],
        },
    )


# -- flat -----------------------------------------------------------------------------------


def test_flat_prices_the_total_delta():
    charge = price(
        FLAT, local(2026, 3, 3, 8), local(2026, 3, 3, 8, 15), total("100.00"), total("101.50")
    )
    assert summary(charge) == [(None, None, D("1.50"), D("0.8000"), D("1.2"))]
    assert charge.energy == D("1.50")
    assert charge.amount_exact == D("1.200000")
    assert charge.cycle_key == ""
    assert charge.cycle_energy == D("0")


def test_flat_amount_is_exact_and_rounded_by_the_caller():
    charge = price(
        FLAT, local(2026, 3, 3, 8), local(2026, 3, 3, 8, 15), total("100.00"), total("100.07")
    )
    assert charge.amount_exact == D("0.056")
    assert round_money(charge.amount_exact) == (D("0.06"), D("-0.004"))


def test_a_per_meter_price_is_a_flat_tariff_of_its_own():
    own = schedule("flat", {"price": "1.2345"})
    charge = price(own, local(2026, 3, 3, 8), local(2026, 3, 3, 9), total("5.00"), total("7.00"))
    assert charge.amount_exact == D("2.4690")


def test_flat_ignores_period_registers():
    before = Registers(D("10.00"), D("1.00"), D("2.00"), D("3.00"), D("4.00"))
    after = Registers(D("12.00"), D("1.00"), D("2.00"), D("3.00"), D("4.00"))
    charge = price(FLAT, local(2026, 3, 3, 8), local(2026, 3, 3, 9), before, after)
    assert summary(charge) == [(None, None, D("2.00"), D("0.8000"), D("1.6"))]


def test_no_energy_no_lines():
    charge = price(FLAT, local(2026, 3, 3, 8), local(2026, 3, 3, 9), total("5.00"), total("5.00"))
    assert charge.lines == ()
    assert charge.amount_exact == D("0")
    assert charge.energy == D("0")


def test_a_point_interval_is_priced_at_its_moment():
    moment = local(2026, 3, 3, 8)
    charge = price(FLAT, moment, moment, total("5.00"), total("5.10"))
    assert charge.amount_exact == D("0.08")


# -- tiered ---------------------------------------------------------------------------------


def test_a_tier_crossed_inside_one_interval():
    charge = price(
        TIERS,
        local(2026, 3, 3, 8),
        local(2026, 3, 3, 9),
        total("1000.00"),
        total("1015.00"),
        "190",
        "2026-03",
    )
    assert summary(charge) == [
        (None, 1, D("10"), D("0.5000"), D("5")),
        (None, 2, D("5"), D("0.6000"), D("3")),
    ]
    assert charge.amount_exact == D("8.00")
    assert charge.cycle_key == "2026-03"
    assert charge.cycle_energy == D("205")


def test_two_tiers_crossed_inside_one_interval():
    charge = price(
        TIERS,
        local(2026, 3, 3, 8),
        local(2026, 3, 9, 8),
        total("0.00"),
        total("210.00"),
        "195",
        "2026-03",
    )
    assert summary(charge) == [
        (None, 1, D("5"), D("0.5000"), D("2.5")),
        (None, 2, D("200"), D("0.6000"), D("120")),
        (None, 3, D("5"), D("0.8000"), D("4")),
    ]
    assert charge.amount_exact == D("126.50")
    assert charge.cycle_energy == D("405")


def test_exactly_at_a_tier_limit_the_next_tier_applies():
    charge = price(
        TIERS,
        local(2026, 3, 3, 8),
        local(2026, 3, 3, 9),
        total("0"),
        total("1.00"),
        "200",
        "2026-03",
    )
    assert summary(charge) == [(None, 2, D("1.00"), D("0.6000"), D("0.6"))]
    up_to_limit = price(
        TIERS,
        local(2026, 3, 3, 8),
        local(2026, 3, 3, 9),
        total("0"),
        total("1.00"),
        "199",
        "2026-03",
    )
    assert summary(up_to_limit) == [(None, 1, D("1"), D("0.5000"), D("0.5"))]
    assert up_to_limit.cycle_energy == D("200")


def test_month_roll_over_splits_the_interval_and_restarts_the_cycle():
    charge = price(
        TIERS,
        local(2026, 3, 31, 23, 30),
        local(2026, 4, 1, 0, 30),
        total("500.00"),
        total("502.00"),
        "199.5",
        "2026-03",
    )
    # 1.00 kWh in March (0.5 in tier 1, 0.5 in tier 2), 1.00 kWh in April (tier 1).
    assert summary(charge) == [
        (None, 1, D("1.5"), D("0.5000"), D("0.75")),
        (None, 2, D("0.5"), D("0.6000"), D("0.3")),
    ]
    assert charge.amount_exact == D("1.05")
    assert charge.cycle_key == "2026-04"
    assert charge.cycle_energy == D("1.00")


def test_an_interval_from_the_first_moment_of_a_month_is_in_the_new_cycle():
    charge = price(
        TIERS,
        local(2026, 4, 1),
        local(2026, 4, 1, 0, 15),
        total("0"),
        total("1.00"),
        "350",
        "2026-03",
    )
    assert summary(charge) == [(None, 1, D("1.00"), D("0.5000"), D("0.5"))]
    assert (charge.cycle_key, charge.cycle_energy) == ("2026-04", D("1.00"))


def test_an_interval_ending_at_the_first_moment_of_a_month_stays_in_the_old_cycle():
    charge = price(
        TIERS,
        local(2026, 3, 31, 23, 45),
        local(2026, 4, 1),
        total("0"),
        total("1.00"),
        "350",
        "2026-03",
    )
    assert summary(charge) == [(None, 2, D("1.00"), D("0.6000"), D("0.6"))]
    assert (charge.cycle_key, charge.cycle_energy) == ("2026-03", D("351.00"))


def test_the_cycle_is_the_local_month():
    # 2026-03-31 16:30 UTC is 2026-04-01 00:30 in Shanghai.
    start = datetime(2026, 3, 31, 16, 30, tzinfo=UTC)
    end = datetime(2026, 3, 31, 16, 45, tzinfo=UTC)
    charge = price(TIERS, start, end, total("0"), total("1.00"), "350", "2026-03")
    assert (charge.cycle_key, charge.cycle_energy) == ("2026-04", D("1.00"))
    assert cycle_key_at(TIERS, start, SHANGHAI) == "2026-04"
    assert cycle_key_at(TIERS, start, ZoneInfo("UTC")) == "2026-03"


def test_an_unknown_cycle_starts_from_zero():
    charge = price(
        TIERS, local(2026, 3, 3, 8), local(2026, 3, 3, 9), total("0"), total("1.00"), "0", ""
    )
    assert (charge.cycle_key, charge.cycle_energy) == ("2026-03", D("1.00"))


def test_year_roll_over_of_a_yearly_cycle():
    yearly = _yearly()
    charge = price(
        yearly,
        local(2026, 12, 31, 23),
        local(2027, 1, 1, 1),
        total("9000.00"),
        total("9004.00"),
        "2759",
        "2026",
    )
    # 2 kWh in 2026: 1 in tier 1, 1 in tier 2; 2 kWh in 2027, tier 1.
    assert summary(charge) == [
        (None, 1, D("3"), D("0.5380"), D("1.614")),
        (None, 2, D("1"), D("0.5880"), D("0.588")),
    ]
    assert charge.amount_exact == D("2.202")
    assert (charge.cycle_key, charge.cycle_energy) == ("2027", D("2.00"))


def test_a_yearly_cycle_does_not_roll_over_at_a_month_end():
    charge = price(
        _yearly(),
        local(2026, 3, 31, 23),
        local(2026, 4, 1, 1),
        total("0"),
        total("4.00"),
        "100",
        "2026",
    )
    assert (charge.cycle_key, charge.cycle_energy) == ("2026", D("104.00"))
    assert charge.amount_exact == D("2.152")


# -- versions -------------------------------------------------------------------------------


def _price_change() -> TariffSchedule:
    return TariffSchedule(
        [
            (local(2026, 1, 1), parse_tariff("flat", {"price": "0.8000"})),
            (local(2026, 4, 1), parse_tariff("flat", {"price": "0.9000"})),
        ]
    )


def test_a_price_change_mid_interval_splits_it_at_the_version_start():
    charge = price(
        _price_change(),
        local(2026, 3, 31, 23, 50),
        local(2026, 4, 1, 0, 15),
        total("0"),
        total("1.00"),
    )
    # 10 minutes at the old price, 15 at the new one.
    assert summary(charge) == [
        (None, None, D("0.4"), D("0.8000"), D("0.32")),
        (None, None, D("0.6"), D("0.9000"), D("0.54")),
    ]
    assert charge.amount_exact == D("0.86")
    assert charge.energy == D("1.00")


def test_split_energy_is_rounded_down_to_a_ten_thousandth_and_the_rest_goes_last():
    charge = price(
        _price_change(),
        local(2026, 3, 31, 23, 59),
        local(2026, 4, 1, 0, 2),
        total("0"),
        total("1.00"),
    )
    assert summary(charge) == [
        (None, None, D("0.3333"), D("0.8000"), D("0.26664")),
        (None, None, D("0.6667"), D("0.9000"), D("0.60003")),
    ]
    assert charge.amount_exact == D("0.86667")


def test_the_first_moment_of_a_version_belongs_to_it():
    tariffs = _price_change()
    after = price(tariffs, local(2026, 4, 1), local(2026, 4, 1, 0, 15), total("0"), total("1.00"))
    assert summary(after) == [(None, None, D("1.00"), D("0.9000"), D("0.9"))]
    before = price(
        tariffs, local(2026, 3, 31, 23, 45), local(2026, 4, 1), total("0"), total("1.00")
    )
    assert summary(before) == [(None, None, D("1.00"), D("0.8000"), D("0.8"))]


def test_a_price_change_inside_a_tier_cycle_keeps_counting_the_cycle():
    tiers_later = definition(TIERED)
    tiers_later["tiers"][0]["price"] = "0.5500"
    tariffs = TariffSchedule(
        [
            (local(2026, 1, 1), parse_tariff("tiered", TIERED)),
            (local(2026, 3, 15), parse_tariff("tiered", tiers_later)),
        ]
    )
    charge = price(
        tariffs,
        local(2026, 3, 14, 23),
        local(2026, 3, 15, 1),
        total("0"),
        total("4.00"),
        "100",
        "2026-03",
    )
    assert summary(charge) == [
        (None, 1, D("2"), D("0.5000"), D("1")),
        (None, 1, D("2"), D("0.5500"), D("1.1")),
    ]
    assert (charge.cycle_key, charge.cycle_energy) == ("2026-03", D("104.00"))


def test_moving_from_tiered_to_flat_clears_the_cycle():
    tariffs = TariffSchedule(
        [
            (local(2026, 1, 1), parse_tariff("tiered", TIERED)),
            (local(2026, 3, 15), parse_tariff("flat", {"price": "0.7000"})),
        ]
    )
    charge = price(
        tariffs,
        local(2026, 3, 14, 23),
        local(2026, 3, 15, 1),
        total("0"),
        total("4.00"),
        "100",
        "2026-03",
    )
    assert summary(charge) == [
        (None, 1, D("2"), D("0.5000"), D("1")),
        (None, None, D("2"), D("0.7000"), D("1.4")),
    ]
    assert (charge.cycle_key, charge.cycle_energy) == ("", D("0"))


def test_an_interval_before_the_first_version_cannot_be_priced():
    with pytest.raises(IntervalError, match="before the first tariff version"):
        price(FLAT, local(2025, 12, 31, 23), local(2026, 1, 1, 1), total("0"), total("1.00"))


@pytest.mark.parametrize(
    ("start", "end", "before", "after", "cycle", "message"),
    [
        (local(2026, 3, 3, 9), local(2026, 3, 3, 8), "0", "1", "0", "ends .* before it starts"),
        (local(2026, 3, 3, 8), local(2026, 3, 3, 9), "5.00", "4.99", "0", "went back from 5.00"),
        (local(2026, 3, 3, 8), local(2026, 3, 3, 9), "0", "1", "-1", "cycle energy -1"),
        (
            datetime(2026, 3, 3, 8),  # noqa: DTZ001
            local(2026, 3, 3, 9),
            "0",
            "1",
            "0",
            "start must be an aware datetime",
        ),
    ],
)
def test_intervals_that_cannot_be_priced(start, end, before, after, cycle, message):
    with pytest.raises(IntervalError, match=message):
        price(TIERS, start, end, total(before), total(after), cycle, "2026-03")


# -- service charge and sale price ----------------------------------------------------------


def test_service_charge_of_the_version_in_effect_at_the_start_of_the_month():
    tariffs = TariffSchedule(
        [
            (
                local(2026, 1, 10),
                parse_tariff("flat", {"price": "0.8000", "monthly_service_charge": "20.00"}),
            ),
            (
                local(2026, 3, 15),
                parse_tariff("flat", {"price": "0.8000", "monthly_service_charge": "25.00"}),
            ),
            (local(2026, 5, 1), parse_tariff("flat", {"price": "0.8000"})),
        ]
    )
    assert service_charge_due(tariffs, "2025-12", tz=SHANGHAI) == D("0.00")
    assert service_charge_due(tariffs, "2026-01", tz=SHANGHAI) == D("20.00")  # starts that month
    assert service_charge_due(tariffs, "2026-02", tz=SHANGHAI) == D("20.00")
    assert service_charge_due(tariffs, "2026-03", tz=SHANGHAI) == D("20.00")
    assert service_charge_due(tariffs, "2026-04", tz=SHANGHAI) == D("25.00")
    assert service_charge_due(tariffs, "2026-05", tz=SHANGHAI) == D("0.00")
    assert service_charge_due(tariffs, "2026-05") == D(
        "0.00"
    )  # midnight in Shanghai is before UTC's


def test_service_charge_month_start_is_local():
    tariffs = TariffSchedule(
        [
            (
                local(2026, 1, 1),
                parse_tariff("flat", {"price": "1.0000", "monthly_service_charge": "10.00"}),
            ),
            (
                local(2026, 4, 1, 6),
                parse_tariff("flat", {"price": "1.0000", "monthly_service_charge": "12.00"}),
            ),
        ]
    )
    assert service_charge_due(tariffs, "2026-04", tz=SHANGHAI) == D("10.00")
    assert service_charge_due(tariffs, "2026-04") == D("12.00")  # 06:00 Shanghai is 22:00 UTC


@pytest.mark.parametrize("month", ["2026-4", "2026-13", "April", "2026-04-01"])
def test_service_charge_month_must_be_a_month(month):
    with pytest.raises(IntervalError, match="is not a month YYYY-MM"):
        service_charge_due(FLAT, month)


def test_unit_price_for_a_sale_by_energy():
    at = local(2026, 3, 3, 9)
    assert unit_price_at(FLAT, at, SHANGHAI) == D("0.8000")
    assert unit_price_at(schedule("tou", TOU), at, SHANGHAI) == D("0.8000")
    assert unit_price_at(TIERS, at, SHANGHAI) == D("0.5000")
    assert unit_price_at(TIERS, at, SHANGHAI, D("199.99")) == D("0.5000")
    assert unit_price_at(TIERS, at, SHANGHAI, D("200")) == D("0.6000")
    assert unit_price_at(TIERS, at, SHANGHAI, D("400.00")) == D("0.8000")
    tiered_tou = schedule("tiered_tou", TIERED_TOU)
    assert unit_price_at(tiered_tou, at, SHANGHAI, D("250")) == D("0.8500")
    assert unit_price_at(tiered_tou, at, SHANGHAI) == D("0.8000")
    assert unit_price_at(_price_change(), local(2026, 4, 1), SHANGHAI) == D("0.9000")
    with pytest.raises(IntervalError):
        unit_price_at(FLAT, local(2025, 1, 1), SHANGHAI)


def test_cycle_key_of_a_flat_tariff_is_empty():
    assert cycle_key_at(FLAT, local(2026, 3, 3), SHANGHAI) == ""
    assert cycle_key_at(_yearly(), local(2026, 3, 3), SHANGHAI) == "2026"
