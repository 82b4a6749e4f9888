"""Definitions and helpers shared by the tariff tests (local times are Asia/Shanghai)."""

from __future__ import annotations

import copy
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from openprepaid.calc.tariffs import (
    Charge,
    Registers,
    TariffSchedule,
    parse_tariff,
    price_interval,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")

TOU = {
    "prices": {"sharp": "1.5000", "peak": "1.2000", "flat": "0.8000", "valley": "0.4000"},
    "day_tables": {
        "workday": [
            ["00:00", "valley"],
            ["08:00", "peak"],
            ["11:00", "sharp"],
            ["13:00", "flat"],
            ["17:00", "peak"],
            ["21:00", "flat"],
            ["23:00", "valley"],
        ],
        "summer": [
            ["00:00", "valley"],
            ["08:00", "peak"],
            ["10:00", "sharp"],
            ["15:00", "peak"],
            ["18:00", "flat"],
            ["23:00", "valley"],
        ],
        "holiday": [["00:00", "valley"], ["08:00", "flat"], ["23:00", "valley"]],
    },
    "seasons": [
        {"from": "01-01", "workday": "workday", "holiday": "holiday"},
        {"from": "07-01", "workday": "summer", "holiday": "holiday"},
        {"from": "09-01", "workday": "workday", "holiday": "holiday"},
    ],
    "holidays": ["2026-10-01", "2026-10-02"],
    "weekends_are_holidays": True,
}

TIERED = {
    "cycle": "month",
    "tiers": [
        {"up_to": "200", "price": "0.5000"},
        {"up_to": "400", "price": "0.6000"},
        {"up_to": None, "price": "0.8000"},
    ],
}

TIERED_TOU = {
    **TOU,
    "cycle": "month",
    "tiers": [
        {"up_to": "200", "adder": "0.0000"},
        {"up_to": "400", "adder": "0.0500"},
        {"up_to": None, "adder": "0.3000"},
    ],
}


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI)


def schedule(kind: str, definition: dict, since: datetime | None = None) -> TariffSchedule:
    return TariffSchedule([(since or local(2026, 1, 1), parse_tariff(kind, definition))])


def total(value: str) -> Registers:
    return Registers(Decimal(value))


def price(
    tariffs: TariffSchedule,
    start: datetime,
    end: datetime,
    before: Registers,
    after: Registers,
    cycle_energy: str = "0",
    cycle_key: str = "",
) -> Charge:
    return price_interval(
        tariffs,
        start=start,
        end=end,
        before=before,
        after=after,
        cycle_energy=Decimal(cycle_energy),
        cycle_key=cycle_key,
        tz=SHANGHAI,
    )


def summary(charge: Charge) -> list[tuple]:
    """The lines as plain tuples (period, tier, energy, price, amount)."""
    return [tuple(line) for line in charge.lines]


def definition(original: dict) -> dict:
    """A copy to change."""
    return copy.deepcopy(original)
