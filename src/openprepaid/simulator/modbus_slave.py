"""How a simulated Acrel-profile meter answers a Modbus request PDU.

Register maps: ``acrel.DDSY1352`` (single phase) and ``acrel.DTSY1352`` (three phase). FC03 and
FC04 read the same registers. A read must start and end on mapped words; unmapped words inside
read 0, write-only registers read 0. FC06 writes one UINT16 register, FC 0x10 whole registers;
a write that touches a read-only or unmapped word is ``ILLEGAL_DATA_ADDRESS``, a value the meter
does not take ``ILLEGAL_DATA_VALUE``. The recharge block 1030H..1035H must be written in one
FC 0x10 (amount, purchase count, MAC); the MAC is checked with
:func:`openprepaid.protocol.security.modbus.verify_modbus_recharge_mac`, then the purchase-count
rule (count = stored + 1; a replay is refused and leaves the meter unchanged) and the hoarding
limit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from openprepaid.protocol.dlt645.codes import ControlCommand
from openprepaid.protocol.modbus import acrel
from openprepaid.protocol.modbus.acrel import Access, Register, RegisterMap, RegisterType
from openprepaid.protocol.modbus.pdu import (
    ExceptionCode,
    ExceptionResponse,
    ReadHoldingRegistersRequest,
    ReadHoldingRegistersResponse,
    ReadInputRegistersRequest,
    ReadInputRegistersResponse,
    WriteMultipleRegistersRequest,
    WriteMultipleRegistersResponse,
    WriteSingleRegisterRequest,
    WriteSingleRegisterResponse,
)
from openprepaid.protocol.security.modbus import verify_modbus_recharge_mac
from openprepaid.simulator.sitespec import LOCAL, REMOTE

if TYPE_CHECKING:
    from openprepaid.simulator.meter import SimMeter

_ADDRESS = ExceptionCode.ILLEGAL_DATA_ADDRESS
_VALUE = ExceptionCode.ILLEGAL_DATA_VALUE
_RECHARGE = tuple(r.name for r in acrel.SIM_RECHARGE)
_SIGNED = (RegisterType.INT16, RegisterType.INT32)
_THRESHOLDS = {
    "alarm_threshold_1": "alarm_1",
    "alarm_threshold_2": "alarm_2",
    "overdraft_limit": "overdraft_limit",
    "close_allowed_limit": "close_allowed_limit",
}
_PRICES = {"price_sharp": 1, "price_peak": 2, "price_flat": 3, "price_valley": 4}


def register_map(meter: SimMeter) -> RegisterMap:
    return acrel.DTSY1352 if meter.spec.phases == 3 else acrel.DDSY1352


@cache
def _index(register_map: RegisterMap) -> dict[int, tuple[Register, int]]:
    """Every mapped word → (its register, the word's offset in it)."""
    index: dict[int, tuple[Register, int]] = {}
    for register in register_map.registers:
        for offset in range(register.count):
            index[register.address + offset] = (register, offset)
    return index


def handle_pdu(meter: SimMeter, pdu: Any, now: dt.datetime) -> Any:
    """The response PDU (or ``ExceptionResponse``) of ``meter`` to the request ``pdu``."""
    if isinstance(pdu, ReadHoldingRegistersRequest | ReadInputRegistersRequest):
        words = _read(meter, pdu.address, pdu.count, now)
        if isinstance(words, ExceptionCode):
            return ExceptionResponse(pdu.function_code, words)
        if isinstance(pdu, ReadHoldingRegistersRequest):
            return ReadHoldingRegistersResponse(words)
        return ReadInputRegistersResponse(words)
    if isinstance(pdu, WriteSingleRegisterRequest):
        error = _write(meter, pdu.address, (pdu.value,), now, single=True)
        if error is not None:
            return ExceptionResponse(pdu.function_code, error)
        return WriteSingleRegisterResponse(pdu.address, pdu.value)
    if isinstance(pdu, WriteMultipleRegistersRequest):
        error = _write(meter, pdu.address, pdu.values, now, single=False)
        if error is not None:
            return ExceptionResponse(pdu.function_code, error)
        return WriteMultipleRegistersResponse(pdu.address, len(pdu.values))
    return ExceptionResponse(pdu.function_code, ExceptionCode.ILLEGAL_FUNCTION)


# --- reads ----------------------------------------------------------------------------------


def raw_values(meter: SimMeter, now: dt.datetime) -> dict[str, int]:
    """Every readable register's raw integer (value / scale) at ``now``."""
    meter.advance(now)
    instant = meter.instant(now)
    total, sharp, peak, flat, valley = meter.energy_ticks(1)
    balance = meter.balance_fen
    level = meter.alarm_level
    status = acrel.RelayStatus(0)
    if meter.relay_open:
        status |= acrel.RelayStatus.TRIPPED
    if meter.keep_power:
        status |= acrel.RelayStatus.KEEP_POWER
    if level >= 1:
        status |= acrel.RelayStatus.ALARM_1
    if level >= 2:
        status |= acrel.RelayStatus.ALARM_2
    if level >= 3:
        status |= acrel.RelayStatus.ARREARS
    high, mid, low = acrel.meter_number_words(meter.spec.meter_number)
    prices = meter.prices
    return {
        "energy_total": total,
        "energy_sharp": sharp,
        "energy_peak": peak,
        "energy_flat": flat,
        "energy_valley": valley,
        "code": meter.code,
        "voltage": instant.voltage_dv[0],
        "current": abs(instant.current_ma[0]) // 10,
        "active_power": instant.power_w,
        "apparent_power": instant.apparent_va,
        "power_factor": instant.power_factor,
        "ct_ratio": meter.ct_ratio,
        "remaining_money": max(balance, 0),
        "overdraft_money": max(-balance, 0),
        "purchase_count": meter.security.purchase_count,
        "relay_status": int(status),
        "keep_power": 1 if meter.keep_power else 0,
        "cost_control_mode": 1 if meter.cost_control == LOCAL else 0,
        "alarm_threshold_1": meter.thresholds["alarm_1"],
        "alarm_threshold_2": meter.thresholds["alarm_2"],
        "overdraft_limit": meter.thresholds["overdraft_limit"],
        "close_allowed_limit": meter.thresholds["close_allowed_limit"],
        "price_sharp": prices[0],
        "price_peak": prices[1],
        "price_flat": prices[2],
        "price_valley": prices[3],
        "meter_number_high": high,
        "meter_number_mid": mid,
        "meter_number_low": low,
        "energy_reverse": sum(meter.reverse),
        "cover_open_count": meter.cover_open_count,
    }


def _words(register: Register, raw: int) -> tuple[int, ...]:
    bits = 16 * register.count
    if register.type in _SIGNED:
        top = (1 << (bits - 1)) - 1
        raw = max(-top - 1, min(top, raw))
    else:
        raw = max(0, min((1 << bits) - 1, raw))
    raw &= (1 << bits) - 1
    return tuple((raw >> (16 * i)) & 0xFFFF for i in reversed(range(register.count)))


_IMAGE_KEY = -1  # the word image's slot in the meter's read cache (DIs are never negative)


def _image(meter: SimMeter, now: dt.datetime) -> dict[int, int]:
    """Every mapped word's value, recomputed only when the meter has changed."""
    meter.advance(now)
    cached = meter.read_cache.get(_IMAGE_KEY)
    if cached is not None and cached[0] == meter.version:
        return cached[1]
    values = raw_values(meter, now)
    image: dict[int, int] = {}
    for register in register_map(meter).registers:
        if register.access is Access.W:
            words = (0,) * register.count
        else:
            words = _words(register, values[register.name])
        for offset, word in enumerate(words):
            image[register.address + offset] = word
    meter.read_cache[_IMAGE_KEY] = (meter.version, image)
    return image


def _read(meter: SimMeter, start: int, count: int, now: dt.datetime) -> Any:
    index = _index(register_map(meter))
    if start not in index or start + count - 1 not in index:
        return _ADDRESS
    image = _image(meter, now)
    return tuple(image.get(address, 0) for address in range(start, start + count))


# --- writes ---------------------------------------------------------------------------------


def _write(
    meter: SimMeter, start: int, values: tuple[int, ...], now: dt.datetime, *, single: bool
) -> ExceptionCode | None:
    index = _index(register_map(meter))
    writes: list[tuple[Register, int]] = []
    position = 0
    while position < len(values):
        found = index.get(start + position)
        if found is None or found[1] != 0:
            return _ADDRESS
        register = found[0]
        if register.access is Access.R or position + register.count > len(values):
            return _ADDRESS
        if single and register.count != 1:
            return _ADDRESS
        raw = 0
        for word in values[position : position + register.count]:
            raw = raw << 16 | word
        writes.append((register, raw))
        position += register.count
    names = [register.name for register, _ in writes]
    if any(name in _RECHARGE for name in names):
        if tuple(names) != _RECHARGE:
            return _ADDRESS
        return _recharge(meter, [raw for _, raw in writes], now)
    actions: list[Callable[[], None]] = []
    for register, raw in writes:
        action = _setter(meter, register.name, raw, now)
        if action is None:
            return _VALUE
        actions.append(action)
    for action in actions:
        action()
    return None


def _setter(meter: SimMeter, name: str, raw: int, now: dt.datetime) -> Callable[[], None] | None:
    """What writing ``raw`` to ``name`` does, or ``None`` when the meter refuses the value."""
    if name == "relay_control":
        words = (raw >> 16, raw & 0xFFFF)
        if words == acrel.RELAY_TRIP_WORDS:
            return lambda: meter.command(ControlCommand.TRIP, now)
        if words == acrel.RELAY_CLOSE_WORDS:
            return lambda: meter.command(ControlCommand.DIRECT_CLOSE, now)
        return None
    if name == "keep_power" and raw in (0, 1):
        command = ControlCommand.KEEP_POWER if raw else ControlCommand.KEEP_POWER_RELEASE
        return lambda: meter.command(command, now)
    if name == "cost_control_mode" and raw in (0, 1):
        return lambda: meter.set_cost_control(LOCAL if raw else REMOTE, now)
    if name == "code" and raw <= 9999:
        return lambda: meter.set_code(raw, now)
    if name == "ct_ratio" and raw >= 1:
        return lambda: meter.set_ct_ratio(raw, now)
    if name in _THRESHOLDS:
        return lambda: meter.set_threshold(_THRESHOLDS[name], raw, now)
    if name in _PRICES:
        return lambda: meter.set_price(_PRICES[name], raw, now)
    return None


def _recharge(meter: SimMeter, raws: list[int], now: dt.datetime) -> ExceptionCode | None:
    amount_fen, purchase_count, mac = raws
    if not verify_modbus_recharge_mac(
        meter.meter_key,
        amount_fen=amount_fen,
        purchase_count=purchase_count,
        mac=mac.to_bytes(4, "big"),
    ):
        return _VALUE
    refusal = meter.credit(amount_fen, purchase_count, now)
    return _VALUE if refusal is not None else None
