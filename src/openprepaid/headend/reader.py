"""Polling one meter: the requests of a full reading or a status sweep, sent one at a time, and
the :class:`~openprepaid.headend.model.Reading` built from the replies.

A meter's refusal of one identifier (an abnormal reply, a Modbus exception) leaves that value
``None``; no reply or only garbage makes the whole poll a failure (:class:`PollError`).
Energies, power and current are the primary values: the register times the CT ratio.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from openprepaid.headend.bus import LineBus
from openprepaid.headend.model import MeterTarget, Reading
from openprepaid.headend.transport import ReplyTimeout
from openprepaid.protocol.dlt645 import AbnormalReply, ReadReply, ReadRequest
from openprepaid.protocol.dlt645 import profile as dlt
from openprepaid.protocol.dlt645.formats import MeterDate
from openprepaid.protocol.dlt645.status import StatusWord3
from openprepaid.protocol.errors import RemoteProtocolError
from openprepaid.protocol.modbus import (
    ExceptionCode,
    ExceptionResponse,
    ReadHoldingRegistersRequest,
    acrel,
)
from openprepaid.protocol.modbus.profile import modbus_profile

FULL, STATUS = "full", "status"
#: What a money command decides on: purchase count, balance, overdraft and (DL/T 645) status
#: word 3 for "account opened". Stored as a status reading.
MONEY = "money"
DI_STATUS_WORD_1 = 0x04000501
#: A full DL/T 645 reading: the profile's identifiers plus status word 1.
EXTRA_FULL_DIS = (DI_STATUS_WORD_1,)
MONEY_DIS = (
    dlt.DI_STATUS_WORD_3,
    dlt.DI_REMAINING_AMOUNT,
    dlt.DI_OVERDRAFT_AMOUNT,
    dlt.DI_PURCHASE_COUNT,
)
STATUS_BLOCK = (acrel.SIM_PREPAID_BASE, 9)  # remaining … cost control mode
_GATEWAY_NO_ANSWER = (
    ExceptionCode.GATEWAY_TARGET_FAILED_TO_RESPOND,
    ExceptionCode.GATEWAY_PATH_UNAVAILABLE,
)


class PollError(Exception):
    """The meter did not answer (``reason`` ``"timeout"``) or answered garbage (``"garbled"``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def is_modbus(meter: MeterTarget) -> bool:
    return meter.protocol == "modbus_rtu"


async def poll(
    bus: LineBus, meter: MeterTarget, kind: str, now: Callable[[], dt.datetime]
) -> Reading:
    """One full reading, status sweep or money read of ``meter``; ``PollError`` if it did not
    answer. A money read comes back as a status reading (the Modbus status block already holds
    the purchase count)."""
    stored = FULL if kind == FULL else STATUS
    if is_modbus(meter):
        values = await _modbus_values(bus, meter, kind)
        return modbus_reading(meter, stored, now(), values)
    values = await _dlt645_values(bus, meter, kind)
    return dlt645_reading(meter, stored, now(), values)


# --- DL/T 645 ------------------------------------------------------------------------------


def dlt645_requests(meter: MeterTarget, kind: str) -> tuple[ReadRequest, ...]:
    profile = dlt.dlt645_profile(meter.profile)
    if kind == FULL:
        extra = tuple(ReadRequest(meter.address, di) for di in EXTRA_FULL_DIS)
        return profile.reading_requests(meter.address) + extra
    if kind == MONEY:
        return tuple(ReadRequest(meter.address, di) for di in MONEY_DIS)
    return profile.status_requests(meter.address)


async def _dlt645_values(bus: LineBus, meter: MeterTarget, kind: str) -> dict[int, Any]:
    values: dict[int, Any] = {}
    for request in dlt645_requests(meter, kind):
        try:
            reply = await bus.dlt645(request)
        except ReplyTimeout as exc:
            raise PollError("garbled" if exc.garbled else "timeout") from None
        if isinstance(reply, AbnormalReply):
            values[request.di] = None
            continue
        if not isinstance(reply, ReadReply) or reply.di != request.di:
            raise PollError("garbled")
        try:
            values[request.di] = reply.value
        except RemoteProtocolError:
            raise PollError("garbled") from None
    return values


def _scaled(value: Decimal | None, ct: int) -> Decimal | None:
    return None if value is None else value * ct


def dlt645_reading(
    meter: MeterTarget, kind: str, at: dt.datetime, values: dict[int, Any]
) -> Reading:
    ct = meter.ct_ratio
    fields: dict[str, Any] = {}
    energy = values.get(dlt.DI_FORWARD_ACTIVE_BLOCK)
    if energy:
        names = ("energy_total", "energy_sharp", "energy_peak", "energy_flat", "energy_valley")
        for name, value in zip(names, energy, strict=False):
            fields[name] = value * ct
    fields["remaining"] = values.get(dlt.DI_REMAINING_AMOUNT)
    fields["overdraft"] = values.get(dlt.DI_OVERDRAFT_AMOUNT)
    count = values.get(dlt.DI_PURCHASE_COUNT)
    fields["purchase_count"] = None if count is None else int(count)
    word3 = values.get(dlt.DI_STATUS_WORD_3)
    if word3 is not None:
        word3 = StatusWord3(word3)
        not_opened = (
            StatusWord3.LOCAL_ACCOUNT_NOT_OPENED
            if meter.cost_control == "local"
            else StatusWord3.REMOTE_ACCOUNT_NOT_OPENED
        )
        fields.update(
            relay_open=StatusWord3.RELAY_OPEN in word3,
            relay_commanded_trip=StatusWord3.RELAY_TRIP_COMMANDED in word3,
            keep_power=StatusWord3.KEEP_POWER in word3,
            account_opened=not_opened not in word3,
            status_word_3=word3.value,
        )
    word1 = values.get(DI_STATUS_WORD_1)
    if word1 is not None:
        fields["status_word_1"] = int(getattr(word1, "value", word1))
    voltage = values.get(dlt.DI_VOLTAGE_BLOCK, values.get(dlt.DI_VOLTAGE_A))
    if voltage is not None:
        fields["voltage"] = tuple(voltage) if isinstance(voltage, tuple | list) else (voltage,)
    current = values.get(dlt.DI_CURRENT_BLOCK, values.get(dlt.DI_CURRENT_A))
    if current is not None:
        items = tuple(current) if isinstance(current, tuple | list) else (current,)
        fields["current"] = tuple(c * ct for c in items)
    power = values.get(dlt.DI_ACTIVE_POWER_BLOCK, values.get(dlt.DI_ACTIVE_POWER_TOTAL))
    if power is not None:
        total = power[0] if isinstance(power, tuple | list) else power
        fields["power_kw"] = total * ct
    date, clock = values.get(dlt.DI_DATE), values.get(dlt.DI_TIME)
    if isinstance(date, MeterDate) and isinstance(clock, dt.time):
        fields["meter_time"] = dt.datetime.combine(date.date, clock)
    return Reading(meter_id=meter.meter_id, read_at=at, kind=kind, **fields)


# --- Modbus --------------------------------------------------------------------------------


def modbus_requests(meter: MeterTarget, kind: str) -> tuple[ReadHoldingRegistersRequest, ...]:
    if kind == FULL:
        return modbus_profile(meter.profile).reading_requests()
    return (ReadHoldingRegistersRequest(*STATUS_BLOCK),)


async def modbus_read(
    bus: LineBus, meter: MeterTarget, request: ReadHoldingRegistersRequest
) -> tuple[int, ...] | None:
    """The registers read, ``None`` if the meter refused; ``PollError`` without an answer."""
    try:
        response = await bus.modbus(int(meter.address), request)
    except ReplyTimeout as exc:
        raise PollError("garbled" if exc.garbled else "timeout") from None
    if isinstance(response, ExceptionResponse):
        if response.exception in _GATEWAY_NO_ANSWER:
            raise PollError("timeout")
        return None
    registers = getattr(response, "registers", None)
    if registers is None or len(registers) != request.count:
        raise PollError("garbled")
    return registers


async def _modbus_values(bus: LineBus, meter: MeterTarget, kind: str) -> dict[str, Decimal]:
    register_map = modbus_profile(meter.profile).register_map
    blocks: dict[int, tuple[int, ...]] = {}
    for request in modbus_requests(meter, kind):
        registers = await modbus_read(bus, meter, request)
        if registers is not None:
            blocks[request.address] = registers
    try:
        return acrel.decode_values(register_map, blocks)
    except RemoteProtocolError:
        raise PollError("garbled") from None


def modbus_reading(
    meter: MeterTarget, kind: str, at: dt.datetime, values: dict[str, Decimal]
) -> Reading:
    ct = meter.ct_ratio
    fields: dict[str, Any] = {}
    for name in ("energy_total", "energy_sharp", "energy_peak", "energy_flat", "energy_valley"):
        fields[name] = _scaled(values.get(name), ct)
    fields["remaining"] = values.get("remaining_money")
    fields["overdraft"] = values.get("overdraft_money")
    if "purchase_count" in values:
        fields["purchase_count"] = int(values["purchase_count"])
    if "relay_status" in values:
        status = acrel.RelayStatus(int(values["relay_status"]))
        fields["relay_open"] = acrel.RelayStatus.TRIPPED in status
        fields["keep_power"] = acrel.RelayStatus.KEEP_POWER in status
    if "voltage" in values:
        fields["voltage"] = (values["voltage"],)
    if "current" in values:
        fields["current"] = (values["current"] * ct,)
    fields["power_kw"] = _scaled(values.get("active_power"), ct)
    return Reading(meter_id=meter.meter_id, read_at=at, kind=kind, **fields)
