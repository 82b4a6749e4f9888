"""Tariff definitions: every kind parses to its spec and back; every mistake names its field."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from tests.calc.tariff_helpers import TIERED, TIERED_TOU, TOU, definition, local

from openprepaid.calc.tariffs import (
    Season,
    TariffError,
    TariffSchedule,
    Tier,
    parse_tariff,
)


def test_flat_parses_with_prices_normalised_to_four_decimals():
    spec = parse_tariff("flat", {"price": "0.8", "monthly_service_charge": "20"})
    assert spec.kind == "flat"
    assert spec.price == Decimal("0.8000")
    assert str(spec.price) == "0.8000"
    assert spec.service_charge == Decimal("20.00")
    assert spec.to_json() == {"price": "0.8000", "monthly_service_charge": "20.00"}


def test_service_charge_defaults_to_zero_and_is_left_out_of_the_json():
    spec = parse_tariff("flat", {"price": "1.0000"})
    assert spec.service_charge == Decimal("0.00")
    assert spec.to_json() == {"price": "1.0000"}


def test_tou_parses_tables_seasons_and_calendar():
    spec = parse_tariff("tou", TOU)
    assert spec.period_prices == (
        Decimal("1.5000"),
        Decimal("1.2000"),
        Decimal("0.8000"),
        Decimal("0.4000"),
    )
    assert spec.price_of("valley") == Decimal("0.4000")
    calendar = spec.calendar
    assert dict(calendar.day_tables)["holiday"] == ((0, "valley"), (480, "flat"), (1380, "valley"))
    assert calendar.seasons[1] == Season((7, 1), "summer", "holiday")
    assert calendar.holidays == frozenset({date(2026, 10, 1), date(2026, 10, 2)})
    assert calendar.weekends_are_holidays is True
    assert spec.tiers is None


def test_a_season_without_a_holiday_table_uses_its_workday_table_on_holidays():
    tou = definition(TOU)
    tou["seasons"] = [{"from": "01-01", "workday": "workday"}]
    tou["day_tables"] = {"workday": tou["day_tables"]["workday"]}
    spec = parse_tariff("tou", tou)
    assert spec.calendar.seasons == (Season((1, 1), "workday", "workday"),)
    assert spec.calendar.table_on(date(2026, 10, 1)) == dict(spec.calendar.day_tables)["workday"]


def test_tiered_parses_tiers_with_an_open_end():
    spec = parse_tariff("tiered", TIERED)
    assert spec.tiers.cycle == "month"
    assert spec.tiers.tiers == (
        Tier(Decimal("200.00"), Decimal("0.5000")),
        Tier(Decimal("400.00"), Decimal("0.6000")),
        Tier(None, Decimal("0.8000")),
    )


def test_tiered_tou_has_period_prices_and_tier_adders():
    spec = parse_tariff("tiered_tou", TIERED_TOU)
    assert spec.price_of("flat") == Decimal("0.8000")
    assert [t.price for t in spec.tiers.tiers] == [
        Decimal("0.0000"),
        Decimal("0.0500"),
        Decimal("0.3000"),
    ]


@pytest.mark.parametrize(
    ("kind", "original"),
    [
        ("flat", {"price": "0.7500", "monthly_service_charge": "5.50"}),
        ("tou", TOU),
        ("tiered", TIERED),
        ("tiered_tou", TIERED_TOU),
    ],
)
def test_to_json_round_trips(kind, original):
    spec = parse_tariff(kind, original)
    again = parse_tariff(kind, spec.to_json())
    assert again == spec
    assert again.to_json() == spec.to_json()


def test_tou_json_is_normal_form():
    tou = definition(TOU)
    tou["holidays"] = ["2026-10-02", "2026-10-01"]
    tou["prices"]["sharp"] = "1.5"
    data = parse_tariff("tou", tou).to_json()
    assert data["holidays"] == ["2026-10-01", "2026-10-02"]
    assert data["prices"]["sharp"] == "1.5000"
    assert data["seasons"][0] == {"from": "01-01", "workday": "workday", "holiday": "holiday"}
    assert data["day_tables"]["holiday"] == [
        ["00:00", "valley"],
        ["08:00", "flat"],
        ["23:00", "valley"],
    ]
    assert data["weekends_are_holidays"] is True


def _flat(**changes):
    return {"price": "0.8000", **changes}


def _tou(change):
    tou = definition(TOU)
    change(tou)
    return tou


def _tiered(change, original=TIERED):
    tiered = definition(original)
    change(tiered)
    return tiered


def _set(path, value):
    def change(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _delete(path):
    def change(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return change


BAD = [
    # (kind, definition, start of the message)
    ("bogus", {"price": "1.0000"}, "kind: unknown tariff kind 'bogus'"),
    ("flat", ["price", "1.0000"], "must be an object"),
    ("flat", {}, "price: missing"),
    ("flat", _flat(colour="red"), "colour: unknown key"),
    ("flat", _flat(price="-0.1000"), "price: -0.1000 is below 0"),
    ("flat", _flat(price="0.12345"), "price: 0.12345 has more than 4 decimals"),
    ("flat", _flat(price=0.8), "price: a price is given as text"),
    ("flat", _flat(price=1), "price: a price is given as text"),
    ("flat", _flat(price=None), "price: a price is given as text"),
    ("flat", _flat(price="abc"), "price: 'abc' is not a number"),
    ("flat", _flat(price="NaN"), "price: NaN is not a finite number"),
    ("flat", _flat(price="10000"), "price: 10000.0000 is above 9999.9999"),
    ("flat", _flat(monthly_service_charge="1.234"), "monthly_service_charge: 1.234 has more"),
    ("flat", _flat(monthly_service_charge="-1"), "monthly_service_charge: -1.00 is below 0"),
    ("flat", _flat(monthly_service_charge=20.0), "monthly_service_charge: an amount is given"),
    ("tou", _tou(_delete(["prices", "valley"])), "prices.valley: missing"),
    ("tou", _tou(_set(["prices", "super"], "2.0000")), "prices.super: unknown key"),
    ("tou", _tou(_set(["prices", "peak"], 1.2)), "prices.peak: a price is given as text"),
    ("tou", _tou(_delete(["seasons"])), "seasons: missing"),
    ("tou", _tou(_set(["cycle"], "month")), "cycle: unknown key"),
    ("tou", _tou(_set(["day_tables"], {})), "day_tables: must be an object naming"),
    ("tou", _tou(_set(["day_tables", "holiday"], [])), "day_tables.holiday: needs at least 1"),
    (
        "tou",
        _tou(_set(["day_tables", "holiday", 0], ["01:00", "valley"])),
        "day_tables.holiday[0]: a day table starts at 00:00",
    ),
    (
        "tou",
        _tou(_set(["day_tables", "holiday", 2], ["07:00", "valley"])),
        "day_tables.holiday[2]: 07:00 is not after the previous start",
    ),
    (
        "tou",
        _tou(_set(["day_tables", "holiday", 2], ["08:00", "valley"])),
        "day_tables.holiday[2]: 08:00 is not after the previous start",
    ),
    (
        "tou",
        _tou(_set(["day_tables", "holiday", 1], ["08:00", "noon"])),
        "day_tables.holiday[1]: unknown period 'noon'",
    ),
    (
        "tou",
        _tou(_set(["day_tables", "holiday", 1], ["24:00", "flat"])),
        "day_tables.holiday[1]: '24:00' is not a time HH:MM",
    ),
    (
        "tou",
        _tou(_set(["day_tables", "holiday", 1], ["8:00", "flat"])),
        "day_tables.holiday[1]: '8:00' is not a time HH:MM",
    ),
    (
        "tou",
        _tou(_set(["day_tables", "holiday", 1], ["08:00", "flat", "x"])),
        'day_tables.holiday[1]: each entry is ["HH:MM", period]',
    ),
    (
        "tou",
        _tou(_set(["day_tables", "spare"], [["00:00", "flat"]])),
        "day_tables.spare: is not used by any season",
    ),
    ("tou", _tou(_set(["seasons"], [])), "seasons: needs at least 1"),
    (
        "tou",
        _tou(_set(["seasons", 0, "workday"], "winter")),
        "seasons[0].workday: no day table named 'winter'",
    ),
    (
        "tou",
        _tou(_set(["seasons", 0, "table"], "workday")),
        "seasons[0].table: unknown key",
    ),
    ("tou", _tou(_delete(["seasons", 0, "from"])), "seasons[0].from: missing"),
    (
        "tou",
        _tou(_set(["seasons", 1, "from"], "02-30")),
        "seasons[1].from: '02-30' is not a day of the year",
    ),
    (
        "tou",
        _tou(_set(["seasons", 1, "from"], "02-29")),
        "seasons[1].from: '02-29' is not a day of the year",
    ),
    (
        "tou",
        _tou(_set(["seasons", 1, "from"], "13-01")),
        "seasons[1].from: '13-01' is not a day of the year",
    ),
    (
        "tou",
        _tou(_set(["seasons", 2, "from"], "07-01")),
        "seasons[2].from: seasons must be in order",
    ),
    (
        "tou",
        _tou(_set(["holidays"], ["2026-02-30"])),
        "holidays[0]: '2026-02-30' is not a date YYYY-MM-DD",
    ),
    (
        "tou",
        _tou(_set(["holidays"], ["20261001"])),
        "holidays[0]: '20261001' is not a date YYYY-MM-DD",
    ),
    (
        "tou",
        _tou(_set(["holidays"], ["2026-10-01", "2026-10-01"])),
        "holidays[1]: 2026-10-01 is listed twice",
    ),
    ("tou", _tou(_set(["holidays"], "2026-10-01")), "holidays: must be a list"),
    (
        "tou",
        _tou(_set(["weekends_are_holidays"], "yes")),
        "weekends_are_holidays: must be true or false",
    ),
    ("tiered", _tiered(_set(["cycle"], "week")), "cycle: unknown tier cycle 'week'"),
    ("tiered", _tiered(_set(["tiers"], [])), "tiers: needs at least 1"),
    (
        "tiered",
        _tiered(_set(["tiers", 1, "up_to"], "150")),
        "tiers[1].up_to: must be above the previous tier's 200.00",
    ),
    (
        "tiered",
        _tiered(_set(["tiers", 1, "up_to"], "200")),
        "tiers[1].up_to: must be above the previous tier's 200.00",
    ),
    (
        "tiered",
        _tiered(_set(["tiers", 2, "up_to"], "1000")),
        "tiers[2].up_to: the last tier is open-ended",
    ),
    (
        "tiered",
        _tiered(_set(["tiers", 0, "up_to"], None)),
        "tiers[0].up_to: only the last tier is open-ended",
    ),
    ("tiered", _tiered(_set(["tiers", 0, "up_to"], "0")), "tiers[0].up_to: must be greater"),
    ("tiered", _tiered(_set(["tiers", 0, "up_to"], 200)), "tiers[0].up_to: an energy is given"),
    ("tiered", _tiered(_set(["tiers", 0, "up_to"], "200.001")), "tiers[0].up_to: 200.001 has"),
    ("tiered", _tiered(_delete(["tiers", 1, "price"])), "tiers[1].price: missing"),
    ("tiered", _tiered(_set(["tiers", 1, "price"], "-1")), "tiers[1].price: -1.0000 is below 0"),
    ("tiered", _tiered(_delete(["cycle"])), "cycle: missing"),
    (
        "tiered_tou",
        _tiered(_set(["tiers", 0, "price"], "0.1000"), TIERED_TOU),
        "tiers[0].price: unknown key",
    ),
    (
        "tiered_tou",
        _tiered(_set(["tiers", 2, "adder"], "-0.0100"), TIERED_TOU),
        "tiers[2].adder: -0.0100 is below 0",
    ),
    ("tiered_tou", _tiered(_delete(["day_tables"]), TIERED_TOU), "day_tables: missing"),
]


@pytest.mark.parametrize(("kind", "bad", "message"), BAD)
def test_bad_definitions_are_refused_naming_the_field(kind, bad, message):
    with pytest.raises(TariffError) as refused:
        parse_tariff(kind, bad)
    assert str(refused.value).startswith(message), str(refused.value)


def test_tariff_error_carries_the_field():
    with pytest.raises(TariffError) as refused:
        parse_tariff("tiered", _tiered(_set(["tiers", 1, "up_to"], "150")))
    assert refused.value.field == "tiers[1].up_to"
    assert isinstance(refused.value, ValueError)


def test_schedule_refuses_bad_versions():
    spec = parse_tariff("flat", {"price": "1.0000"})
    with pytest.raises(TariffError, match="at least one version"):
        TariffSchedule([])
    with pytest.raises(TariffError, match=r"versions\[0\]: the effective time must be an aware"):
        TariffSchedule([(datetime(2026, 1, 1), spec)])  # noqa: DTZ001
    with pytest.raises(TariffError, match=r"versions\[1\]: versions must be in order"):
        TariffSchedule([(local(2026, 2, 1), spec), (local(2026, 1, 1), spec)])
    with pytest.raises(TariffError, match=r"versions\[1\]: versions must be in order"):
        TariffSchedule([(local(2026, 2, 1), spec), (local(2026, 2, 1), spec)])
    with pytest.raises(TariffError, match=r"versions\[0\]: not a TariffSpec"):
        TariffSchedule([(local(2026, 2, 1), {"price": "1.0000"})])
