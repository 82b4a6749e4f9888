"""Register map of an Acrel-style prepaid meter (DDSY1352 / DTSY1352) over Modbus-RTU.

Two parts, kept apart on purpose:

* **Acrel's published registers** (FACTS.md §9): energies at 0000H..0009H, the ``code`` register
  000AH, U/I/P/S/PF at 000BH..0010H (DDSY1352 manual §8.1), and the relay CONTROL register 0057H
  (2 registers, FC 0x10: ``0001 0001`` trip, ``0001 0000`` close; from the EMS4J Acrel plugin, not
  checked against Acrel's own documentation), CT ratio 0038H (EMS4J).
* **OpenPrepaid's simulator prepaid block**, from 1000H. Acrel's prepaid registers (balance,
  purchase count, prices, thresholds, recharge) are not public. This block is **OpenPrepaid's
  own map for its simulator**, marked ``vendor=False``; replace it with the vendor's map when it
  is obtained (Acrel "DDSY1352 通讯协议").

Word order: a 32-bit value occupies two registers, **high word first** (big-endian words of
big-endian bytes), as in the published energy registers (``0001 E240`` = 123456 = 1234.56 kWh).
All values are ``Decimal``; a value that is not a whole multiple of its register's scale is
refused rather than rounded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum, IntFlag, StrEnum

from ..errors import LocalProtocolError, RemoteProtocolError
from .pdu import WriteMultipleRegistersRequest, WriteSingleRegisterRequest


class RegisterType(StrEnum):
    UINT16 = "uint16"
    INT16 = "int16"
    UINT32 = "uint32"
    INT32 = "int32"


class Access(StrEnum):
    R = "r"
    W = "w"
    RW = "rw"


_WORDS = {
    RegisterType.UINT16: 1,
    RegisterType.INT16: 1,
    RegisterType.UINT32: 2,
    RegisterType.INT32: 2,
}
_SIGNED = {RegisterType.INT16, RegisterType.INT32}


@dataclass(frozen=True, slots=True)
class Register:
    name: str
    address: int
    type: RegisterType
    scale: Decimal
    unit: str
    access: Access
    vendor: bool  # True: Acrel's published map; False: OpenPrepaid's simulator block
    description: str = ""

    @property
    def count(self) -> int:
        return _WORDS[self.type]

    @property
    def end(self) -> int:
        return self.address + self.count

    def to_raw(self, words: Sequence[int]) -> int:
        raw = 0
        for word in words:
            raw = raw << 16 | word
        bits = 16 * self.count
        if self.type in _SIGNED and raw >> (bits - 1):
            raw -= 1 << bits
        return raw

    def decode(self, words: Sequence[int]) -> Decimal:
        """The value of this register from its ``count`` words (high word first)."""
        if len(words) != self.count:
            raise RemoteProtocolError(f"{self.name}: expected {self.count} words")
        return self.to_raw(words) * self.scale

    def encode(self, value: Decimal | int) -> tuple[int, ...]:
        """The words for ``value``; LocalProtocolError if it is out of range or not a multiple
        of the scale."""
        if isinstance(value, float) or not isinstance(value, Decimal | int):
            raise LocalProtocolError(f"{self.name}: give a Decimal, not {type(value).__name__}")
        raw_d = Decimal(value) / self.scale
        if not raw_d.is_finite() or raw_d != raw_d.to_integral_value():
            raise LocalProtocolError(f"{self.name}: {value} is not a multiple of {self.scale}")
        raw = int(raw_d)
        bits = 16 * self.count
        low, high = (
            (-(1 << (bits - 1)), (1 << (bits - 1)) - 1)
            if self.type in _SIGNED
            else (0, (1 << bits) - 1)
        )
        if not low <= raw <= high:
            raise LocalProtocolError(f"{self.name}: {value} {self.unit} is out of range")
        raw &= (1 << bits) - 1
        return tuple((raw >> (16 * i)) & 0xFFFF for i in reversed(range(self.count)))


def _r(name, address, type_, scale, unit, access, vendor, description=""):
    return Register(
        name,
        address,
        RegisterType(type_),
        Decimal(scale),
        unit,
        Access(access),
        vendor,
        description,
    )


KWH, MONEY, PRICE = "0.01", "0.01", "0.0001"

# Acrel's published registers (FACTS.md §9).
ENERGY_AND_INSTANT = (
    _r("energy_total", 0x0000, "uint32", KWH, "kWh", "r", True, "current total energy"),
    _r("energy_sharp", 0x0002, "uint32", KWH, "kWh", "r", True),
    _r("energy_peak", 0x0004, "uint32", KWH, "kWh", "r", True),
    _r("energy_flat", 0x0006, "uint32", KWH, "kWh", "r", True),
    _r("energy_valley", 0x0008, "uint32", KWH, "kWh", "r", True),
    _r("code", 0x000A, "uint16", "1", "", "rw", True, "'code' register, 0..9999"),
    _r("voltage", 0x000B, "uint16", "0.1", "V", "r", True),
    _r("current", 0x000C, "uint16", "0.01", "A", "r", True),
    _r("active_power", 0x000D, "int16", "0.001", "kW", "r", True),
    _r("apparent_power", 0x000F, "uint16", "0.001", "kVA", "r", True),
    _r("power_factor", 0x0010, "int16", "0.001", "", "r", True, "-1.000..1.000"),
)
CT_RATIO = _r("ct_ratio", 0x0038, "uint16", "1", "", "rw", True, "CT ratio (EMS4J)")
RELAY_CONTROL = _r(
    "relay_control",
    0x0057,
    "uint32",
    "1",
    "",
    "w",
    True,
    "relay CONTROL (EMS4J): 0001 0001 trip, 0001 0000 close, via FC 0x10",
)
RELAY_TRIP_WORDS = (0x0001, 0x0001)
RELAY_CLOSE_WORDS = (0x0001, 0x0000)

# OpenPrepaid's own simulator prepaid block: NOT Acrel's map (which is not public).
SIM_PREPAID_BASE = 0x1000
SIM_STATUS = (
    _r("remaining_money", 0x1000, "uint32", MONEY, "CNY", "r", False),
    _r("overdraft_money", 0x1002, "uint32", MONEY, "CNY", "r", False),
    _r("purchase_count", 0x1004, "uint32", "1", "", "r", False),
    _r("relay_status", 0x1006, "uint16", "1", "", "r", False, "RelayStatus bits"),
    _r("keep_power", 0x1007, "uint16", "1", "", "rw", False, "1 keep power, 0 prepaid"),
    _r("cost_control_mode", 0x1008, "uint16", "1", "", "rw", False, "0 remote, 1 local"),
)
SIM_THRESHOLDS = (
    _r("alarm_threshold_1", 0x1010, "uint32", MONEY, "CNY", "rw", False),
    _r("alarm_threshold_2", 0x1012, "uint32", MONEY, "CNY", "rw", False),
    _r("overdraft_limit", 0x1014, "uint32", MONEY, "CNY", "rw", False),
    _r("close_allowed_limit", 0x1016, "uint32", MONEY, "CNY", "rw", False),
)
SIM_PRICES = (
    _r("price_sharp", 0x1020, "uint32", PRICE, "CNY/kWh", "rw", False),
    _r("price_peak", 0x1022, "uint32", PRICE, "CNY/kWh", "rw", False),
    _r("price_flat", 0x1024, "uint32", PRICE, "CNY/kWh", "rw", False),
    _r("price_valley", 0x1026, "uint32", PRICE, "CNY/kWh", "rw", False),
)
SIM_RECHARGE = (
    _r("recharge_amount", 0x1030, "uint32", MONEY, "CNY", "w", False),
    _r(
        "recharge_purchase_count",
        0x1032,
        "uint32",
        "1",
        "",
        "w",
        False,
        "must be the meter's purchase_count + 1",
    ),
    _r(
        "recharge_mac",
        0x1034,
        "uint32",
        "1",
        "",
        "w",
        False,
        "4-byte MAC over amount and count (security module)",
    ),
)


class CostControlMode(IntEnum):
    REMOTE = 0
    LOCAL = 1


class RelayStatus(IntFlag):
    """Bits of the simulator's ``relay_status`` word (OpenPrepaid's own definition)."""

    TRIPPED = 0x0001  # relay open
    KEEP_POWER = 0x0002
    ALARM_1 = 0x0004
    ALARM_2 = 0x0008
    ARREARS = 0x0010  # running on overdraft
    CLOSE_PENDING = 0x0020  # close allowed, waiting for the tenant's button


@dataclass(frozen=True, slots=True)
class RegisterMap:
    """A meter model's registers, plus the reads that make up one reading."""

    registers: tuple[Register, ...]
    reading_blocks: tuple[tuple[int, int], ...]  # (start, count) per FC03 request

    def by_name(self, name: str) -> Register:
        for register in self.registers:
            if register.name == name:
                return register
        raise LocalProtocolError(f"no register named {name!r}")

    def decode_block(self, start: int, words: Sequence[int]) -> dict[str, Decimal]:
        """Values of every readable register lying wholly inside ``words`` read from
        ``start`` (e.g. the 17 words of an FC03 read at 0000H)."""
        end = start + len(words)
        return {
            r.name: r.decode(words[r.address - start : r.end - start])
            for r in self.registers
            if r.access is not Access.W and start <= r.address and r.end <= end
        }


DDSY1352 = RegisterMap(
    registers=(
        *ENERGY_AND_INSTANT,
        CT_RATIO,
        RELAY_CONTROL,
        *SIM_STATUS,
        *SIM_THRESHOLDS,
        *SIM_PRICES,
        *SIM_RECHARGE,
    ),
    reading_blocks=((0x0000, 0x11), (0x1000, 9)),
)
# Three-phase: only the energies and the relay are known to match (FACTS.md §9: the DTSY's other
# addresses differ and are not public).
DTSY1352 = RegisterMap(
    registers=(
        *ENERGY_AND_INSTANT[:5],
        RELAY_CONTROL,
        *SIM_STATUS,
        *SIM_THRESHOLDS,
        *SIM_PRICES,
        *SIM_RECHARGE,
    ),
    reading_blocks=((0x0000, 0x0A), (0x1000, 9)),
)


def _write(registers: Sequence[Register], values: Sequence[Decimal | int]):
    if len(registers) != len(values):
        raise LocalProtocolError(f"expected {len(registers)} values, got {len(values)}")
    words: list[int] = []
    for register, value in zip(registers, values, strict=True):
        words += register.encode(value)
    return WriteMultipleRegistersRequest(registers[0].address, tuple(words))


def trip_request() -> WriteMultipleRegistersRequest:
    return WriteMultipleRegistersRequest(RELAY_CONTROL.address, RELAY_TRIP_WORDS)


def close_request() -> WriteMultipleRegistersRequest:
    return WriteMultipleRegistersRequest(RELAY_CONTROL.address, RELAY_CLOSE_WORDS)


def keep_power_request(on: bool) -> WriteSingleRegisterRequest:
    """Keep power (``True``) or resume prepaid control (``False``) — simulator block."""
    return WriteSingleRegisterRequest(SIM_STATUS[4].address, 1 if on else 0)


def prices_request(
    sharp: Decimal, peak: Decimal, flat: Decimal, valley: Decimal
) -> WriteMultipleRegistersRequest:
    """Push the four time-of-use prices (yuan/kWh, 4 decimals) in one FC 0x10 write."""
    return _write(SIM_PRICES, (sharp, peak, flat, valley))


def thresholds_request(
    alarm_1: Decimal, alarm_2: Decimal, overdraft_limit: Decimal, close_allowed_limit: Decimal
) -> WriteMultipleRegistersRequest:
    """Push alarm levels 1 and 2, the overdraft limit and the close-allowed limit (yuan)."""
    return _write(SIM_THRESHOLDS, (alarm_1, alarm_2, overdraft_limit, close_allowed_limit))


def recharge_request(
    amount: Decimal, purchase_count: int, mac: bytes
) -> WriteMultipleRegistersRequest:
    """Recharge ``amount`` yuan as purchase number ``purchase_count`` with its 4-byte MAC."""
    if not isinstance(mac, bytes) or len(mac) != 4:
        raise LocalProtocolError("the recharge MAC is 4 bytes")
    return _write(SIM_RECHARGE, (amount, purchase_count, int.from_bytes(mac, "big")))


def decode_values(
    register_map: RegisterMap, blocks: Mapping[int, Sequence[int]]
) -> dict[str, Decimal]:
    """Merge several block reads ``{start: words}`` into one ``{name: value}``."""
    values: dict[str, Decimal] = {}
    for start, words in blocks.items():
        values.update(register_map.decode_block(start, words))
    return values


# --- OpenPrepaid simulator identity and tamper block (vendor=False, appended) ------------------
# The meter number a Modbus meter's security key is diversified by: 12 digits in three
# read-only UINT16 registers of 4 decimal digits each (0..9999), high group first.
SIM_IDENTITY = (
    _r("meter_number_high", 0x1040, "uint16", "1", "", "r", False, "meter number digits 1-4"),
    _r("meter_number_mid", 0x1041, "uint16", "1", "", "r", False, "meter number digits 5-8"),
    _r("meter_number_low", 0x1042, "uint16", "1", "", "r", False, "meter number digits 9-12"),
    _r("energy_reverse", 0x1044, "uint32", KWH, "kWh", "r", False, "reverse active energy"),
    _r("cover_open_count", 0x1046, "uint16", "1", "", "r", False, "terminal cover openings"),
)
DDSY1352 = RegisterMap(
    registers=(*DDSY1352.registers, *SIM_IDENTITY), reading_blocks=DDSY1352.reading_blocks
)
DTSY1352 = RegisterMap(
    registers=(*DTSY1352.registers, *SIM_IDENTITY), reading_blocks=DTSY1352.reading_blocks
)


def meter_number_words(meter_number: str) -> tuple[int, int, int]:
    """The three ``meter_number_*`` register values of a 12-digit meter number."""
    if len(meter_number) != 12 or not meter_number.isascii() or not meter_number.isdigit():
        raise LocalProtocolError(f"a meter number is 12 digits, not {meter_number!r}")
    return int(meter_number[0:4]), int(meter_number[4:8]), int(meter_number[8:12])


def meter_number_from_values(values: Mapping[str, Decimal]) -> str:
    """The 12-digit meter number from decoded ``meter_number_*`` values."""
    groups = (values[f"meter_number_{part}"] for part in ("high", "mid", "low"))
    return "".join(f"{int(group):04d}" for group in groups)
