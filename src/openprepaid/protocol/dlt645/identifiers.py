"""The data-identifier (DI) table: name, format, unit of the items a prepaid system uses.

:func:`lookup` never fails: an identifier missing from the table comes back as an *unknown*
entry whose format passes the raw bytes through. Names are English and machine-stable
(``forward_active_energy_t1_previous_1``). Sources and confidence: FACTS §5–§6; entries marked
[M] there (from memory of the standard) are marked the same way here.

DI families are rules rather than a 10 000-row expansion:

* energy ``00 KK TT PP``: kind KK, tariff TT (00 total, 01..3F, FF block), settlement PP
  (00 current, 01..0C previous, FF current + 12 previous);
* variables ``02 KK PP 00``: kind KK, phase PP (00 total, 01..03, FF block);
* purchase history ``0333 II NN`` / ``0332 II NN``: item II, last NN (01..0A, FF block);
* tariff prices ``0405 SS TT``; daily freeze times ``0506 00 NN``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from openprepaid.protocol.dlt645.formats import (
    Bcd,
    Binary,
    Clock,
    Composite,
    DateWeek,
    Digits,
    Fields,
    Format,
    Raw,
    Repeat,
    StatusWord,
    Timestamp,
)
from openprepaid.protocol.dlt645.status import STATUS_WORDS


@dataclass(frozen=True, slots=True)
class DataIdentifier:
    di: int
    name: str
    format: Format
    unit: str = ""
    known: bool = True

    @property
    def code(self) -> str:
        """Eight hex digits, DI3 first (``"00900200"``)."""
        return f"{self.di:08X}"

    def decode(self, data: bytes) -> Any:
        return self.format.decode(data)

    def encode(self, value: Any) -> bytes:
        return self.format.encode(value)


MONEY = Bcd(4, 2)  # XXXXXX.XX 元
ENERGY = Bcd(4, 2)  # XXXXXX.XX kWh
PRICE = Bcd(4, 4)  # XXXX.XXXX 元/kWh
YUAN = "yuan"
KWH = "kWh"
PRICE_UNIT = "yuan/kWh"

_EXPLICIT: dict[int, DataIdentifier] = {}


def _add(di: int, name: str, fmt: Format, unit: str = "") -> None:
    _EXPLICIT[di] = DataIdentifier(di, name, fmt, unit)


# --- prepaid registers (DI3 = 00, DI2 = 90) -------------------------------------------------
_add(0x00900100, "remaining_energy", ENERGY, KWH)
_add(0x00900101, "overdraft_energy", ENERGY, KWH)
_add(0x00900200, "remaining_amount", MONEY, YUAN)
_add(0x00900201, "overdraft_amount", MONEY, YUAN)

# --- variables (DI3 = 02, DI2 = 80) ---------------------------------------------------------
for _di, _name, _fmt, _unit in (
    (0x02800001, "neutral_current", Bcd(3, 3, signed=True), "A"),
    (0x02800002, "frequency", Bcd(2, 2), "Hz"),
    (0x02800003, "one_minute_average_active_power", Bcd(3, 4, signed=True), "kW"),
    (0x02800004, "active_demand", Bcd(3, 4, signed=True), "kW"),
    (0x02800005, "reactive_demand", Bcd(3, 4, signed=True), "kvar"),
    (0x02800006, "apparent_demand", Bcd(3, 4, signed=True), "kVA"),
    (0x02800007, "meter_temperature", Bcd(2, 1, signed=True), "°C"),
    (0x02800008, "clock_battery_voltage", Bcd(2, 2), "V"),
    (0x02800009, "reading_battery_voltage", Bcd(2, 2), "V"),
    (0x0280000A, "battery_working_time", Bcd(4), "min"),
    (0x0280000B, "current_ladder_price", PRICE, PRICE_UNIT),
    (0x02800020, "current_price", PRICE, PRICE_UNIT),
    (0x02800021, "current_tariff_price", PRICE, PRICE_UNIT),
):
    _add(_di, _name, _fmt, _unit)

# --- events ---------------------------------------------------------------------------------
_add(0x03300D00, "cover_open_count", Bcd(3))
_add(0x1D000001, "trip_count", Bcd(3))
_add(0x1E000001, "close_count", Bcd(3))  # [M]

# --- parameters (DI3 = 04) ------------------------------------------------------------------
_SWITCH = Timestamp(5)
for _di, _name, _fmt, _unit in (
    (0x04000101, "date", DateWeek(), ""),
    (0x04000102, "time", Clock(), ""),
    (0x04000103, "demand_period", Bcd(1), "min"),
    (0x04000104, "slip_time", Bcd(1), "min"),
    (0x04000106, "time_zone_set_switch_time", _SWITCH, ""),
    (0x04000107, "day_table_set_switch_time", _SWITCH, ""),
    (0x04000108, "tariff_price_set_switch_time", _SWITCH, ""),
    (0x04000109, "ladder_set_switch_time", _SWITCH, ""),
    (0x04000201, "year_time_zone_count", Bcd(1), ""),
    (0x04000202, "day_table_count", Bcd(1), ""),
    (0x04000203, "day_segment_count", Bcd(1), ""),
    (0x04000204, "tariff_count", Bcd(1), ""),
    (0x04000205, "holiday_count", Bcd(2), ""),
    (0x04000207, "ladder_count", Bcd(1), ""),
    (0x04000401, "comm_address", Digits(6), ""),
    (0x04000402, "meter_number", Digits(6), ""),
    (0x04000409, "active_constant", Bcd(3), "imp/kWh"),
    (0x0400040E, "customer_number", Digits(6), ""),
    (0x04000601, "active_combination_word", Binary(1), ""),
    (0x04000701, "ir_modulated_baud_word", Binary(1), ""),
    (0x04000702, "ir_contact_baud_word", Binary(1), ""),
    (0x04000703, "rs485_1_baud_word", Binary(1), ""),
    (0x04000704, "port_2_baud_word", Binary(1), ""),
    (0x04000705, "port_3_baud_word", Binary(1), ""),
    (0x04000E01, "forward_active_power_limit", Bcd(3, 4), "kW"),  # [M]
    (0x04000E02, "reverse_active_power_limit", Bcd(3, 4), "kW"),  # [M]
    (0x04000E03, "voltage_upper_limit", Bcd(2, 1), "V"),  # [M]
    (0x04000E04, "voltage_lower_limit", Bcd(2, 1), "V"),  # [M]
    (0x04000F01, "alarm_energy_1", ENERGY, KWH),
    (0x04000F02, "alarm_energy_2", ENERGY, KWH),
    (0x04000F03, "hoarding_energy_limit", ENERGY, KWH),
    (0x04000F04, "overdraft_energy_limit", ENERGY, KWH),
    (0x04001001, "alarm_amount_1", MONEY, YUAN),
    (0x04001002, "alarm_amount_2", MONEY, YUAN),
    (0x04001003, "overdraft_amount_limit", MONEY, YUAN),
    (0x04001004, "hoarding_amount_limit", MONEY, YUAN),
    (0x04001005, "close_allowed_amount_limit", MONEY, YUAN),
):
    _add(_di, _name, _fmt, _unit)

for _n, _flags in enumerate(STATUS_WORDS, start=1):
    _add(0x04000500 + _n, f"status_word_{_n}", StatusWord(_flags))
_add(
    0x040005FF,
    "status_words",
    Composite(tuple((f"status_word_{n}", StatusWord(f)) for n, f in enumerate(STATUS_WORDS, 1))),
)
for _level in range(10):
    _add(0x04000C01 + _level, f"password_level_{_level}", Raw(4))

_ZONE = Repeat(Fields(("month", "day", "day_table")))  # 14 × MMDDNN
_SEGMENT = Repeat(Fields(("hour", "minute", "tariff")))  # 14 × hhmmNN
for _set, _base in ((1, 0x04010000), (2, 0x04020000)):
    _add(_base, f"time_zone_table_set_{_set}", _ZONE)
    for _table in range(1, 9):
        _add(_base + _table, f"day_table_{_table}_set_{_set}", _SEGMENT)

_LADDER = Composite(
    (
        ("ladder_values", Repeat(ENERGY, 6)),
        ("ladder_prices", Repeat(PRICE, 7)),
        ("settlement_dates", Repeat(Fields(("month", "day", "hour")))),
    )
)
_add(0x04060AFF, "ladder_table", _LADDER)
_add(0x04060BFF, "backup_ladder_table", _LADDER)

# --- families -------------------------------------------------------------------------------

_ENERGY_KINDS: dict[int, tuple[str, str, bool]] = {
    0x00: ("combined_active", "kWh", True),
    0x01: ("forward_active", "kWh", False),
    0x02: ("reverse_active", "kWh", False),
    0x03: ("combined_reactive_1", "kvarh", True),
    0x04: ("combined_reactive_2", "kvarh", True),
    0x05: ("quadrant_1_reactive", "kvarh", False),
    0x06: ("quadrant_2_reactive", "kvarh", False),
    0x07: ("quadrant_3_reactive", "kvarh", False),
    0x08: ("quadrant_4_reactive", "kvarh", False),
    0x09: ("forward_apparent", "kVAh", False),
    0x0A: ("reverse_apparent", "kVAh", False),
}
# kind → (name, format of one item, unit, phases-only)
_VARIABLE_KINDS: dict[int, tuple[str, Bcd, str, bool]] = {
    0x01: ("voltage", Bcd(2, 1), "V", True),
    0x02: ("current", Bcd(3, 3, signed=True), "A", True),
    0x03: ("active_power", Bcd(3, 4, signed=True), "kW", False),
    0x04: ("reactive_power", Bcd(3, 4, signed=True), "kvar", False),
    0x05: ("apparent_power", Bcd(3, 4, signed=True), "kVA", False),
    0x06: ("power_factor", Bcd(2, 3, signed=True), "", False),
    0x07: ("phase_angle", Bcd(2, 1), "°", True),
}
_PURCHASE_ITEMS: dict[int, tuple[str, Format, str, str]] = {
    # item → (money-type name, format, unit, energy-type unit)
    0x01: ("purchase_time", Timestamp(5), "", ""),  # [M]
    0x02: ("purchase_count", Bcd(2), "", ""),
    0x03: ("purchase", MONEY, YUAN, KWH),  # [M]
    0x04: ("remaining_before_purchase", MONEY, YUAN, KWH),  # [M]
    0x05: ("remaining_after_purchase", MONEY, YUAN, KWH),  # [M]
    0x06: ("cumulative_purchase", MONEY, YUAN, KWH),
}
_PHASES = {0x00: "total", 0x01: "a", 0x02: "b", 0x03: "c"}


def _energy(di2: int, di1: int, di0: int) -> DataIdentifier | None:
    kind = _ENERGY_KINDS.get(di2)
    if kind is None or not (di1 <= 0x3F or di1 == 0xFF) or not (di0 <= 0x0C or di0 == 0xFF):
        return None
    if di1 == 0xFF and di0 == 0xFF:
        return None
    name, unit, signed = kind
    tariff = "block" if di1 == 0xFF else ("total" if di1 == 0 else f"t{di1}")
    period = "" if di0 == 0 else ("_all_settlements" if di0 == 0xFF else f"_previous_{di0}")
    item = Bcd(4, 2, signed=signed)
    fmt: Format = item
    if di1 == 0xFF:
        fmt = Repeat(item)  # total + one item per tariff the meter has
    elif di0 == 0xFF:
        fmt = Repeat(item, 13)
    return DataIdentifier(0, f"{name}_energy_{tariff}{period}", fmt, unit)


def _variable(di2: int, di1: int, di0: int) -> DataIdentifier | None:
    kind = _VARIABLE_KINDS.get(di2)
    if kind is None or di0 != 0:
        return None
    name, item, unit, phases_only = kind
    if di1 == 0xFF:
        return DataIdentifier(0, f"{name}_block", Repeat(item, 3 if phases_only else 4), unit)
    if di1 not in _PHASES or (phases_only and di1 == 0):
        return None
    return DataIdentifier(0, f"{name}_{_PHASES[di1]}", item, unit)


def _purchase(di2: int, di1: int, di0: int) -> DataIdentifier | None:
    spec = _PURCHASE_ITEMS.get(di1)
    if di2 not in (0x32, 0x33) or spec is None or not (1 <= di0 <= 0x0A or di0 == 0xFF):
        return None
    name, fmt, unit, energy_unit = spec
    if di2 == 0x32:  # energy-type prepaid
        name, unit = f"energy_{name}", energy_unit
    elif di1 in (0x03, 0x04, 0x05, 0x06):
        name = f"{name}_amount"
    if di0 == 0xFF:
        return DataIdentifier(0, f"{name}_last_10", Repeat(fmt, 10), unit)
    return DataIdentifier(0, f"{name}_last_{di0}", fmt, unit)


@lru_cache(maxsize=4096)
def lookup(di: int) -> DataIdentifier:
    """The table entry of ``di`` (DI3 in the high byte), or an unknown entry with raw bytes."""
    found = _EXPLICIT.get(di)
    if found is not None:
        return found
    di3, di2, di1, di0 = di.to_bytes(4, "big")
    rule: DataIdentifier | None = None
    if di3 == 0x00:
        rule = _energy(di2, di1, di0)
    elif di3 == 0x02:
        rule = _variable(di2, di1, di0)
    elif di3 == 0x03:
        rule = _purchase(di2, di1, di0)
    elif di3 == 0x04 and di2 == 0x05 and di1 in (1, 2) and (1 <= di0 <= 0x3F or di0 == 0xFF):
        prefix = "tariff_price" if di1 == 1 else "backup_tariff_price"
        fmt: Format = Repeat(PRICE) if di0 == 0xFF else PRICE
        rule = DataIdentifier(0, f"{prefix}_{'block' if di0 == 0xFF else di0}", fmt, PRICE_UNIT)
    elif di3 == 0x05 and di2 == 0x06 and di1 == 0x00 and 1 <= di0 <= 0x3E:
        rule = DataIdentifier(0, f"daily_freeze_time_last_{di0}", Timestamp(5))
    if rule is None:
        return DataIdentifier(di, f"unknown_{di:08X}", Raw(), known=False)
    return DataIdentifier(di, rule.name, rule.format, rule.unit)


def known_identifiers() -> tuple[DataIdentifier, ...]:
    """The explicitly listed entries (families are generated by :func:`lookup`)."""
    return tuple(_EXPLICIT.values())
