"""Tariffs (pure): definitions, schedules of versions, and the price of a reading interval.

- :func:`parse_tariff` checks a definition (the JSON of a ``TariffVersion``) and returns a
  :class:`TariffSpec`; :class:`TariffError` names the wrong field;
- :class:`TariffSchedule` holds the versions of a tariff by effective time;
- :func:`price_interval` prices the energy between two readings (:class:`Registers`) and returns a
  :class:`Charge` with its lines, the exact amount and the tier cycle after it;
- :func:`unit_price_at` is the unit price of a sale by energy, :func:`service_charge_due` the
  monthly fixed charge.

docs/tariffs.md describes the definitions and the splitting, rounding and boundary rules.
"""

from openprepaid.calc.tariffs.calendar import PERIODS, Season, TouCalendar
from openprepaid.calc.tariffs.fields import IntervalError, TariffError
from openprepaid.calc.tariffs.pricing import (
    Charge,
    ChargeLine,
    Registers,
    TariffSchedule,
    cycle_key_at,
    cycle_of,
    price_interval,
    service_charge_due,
    split_energy,
    unit_price_at,
)
from openprepaid.calc.tariffs.spec import (
    CYCLES,
    FLAT,
    KINDS,
    TIERED,
    TIERED_TOU,
    TOU,
    TariffSpec,
    Tier,
    TierTable,
    parse_tariff,
)

__all__ = [
    "CYCLES",
    "FLAT",
    "KINDS",
    "PERIODS",
    "TIERED",
    "TIERED_TOU",
    "TOU",
    "Charge",
    "ChargeLine",
    "IntervalError",
    "Registers",
    "Season",
    "TariffError",
    "TariffSchedule",
    "TariffSpec",
    "Tier",
    "TierTable",
    "TouCalendar",
    "cycle_key_at",
    "cycle_of",
    "parse_tariff",
    "price_interval",
    "service_charge_due",
    "split_energy",
    "unit_price_at",
]
