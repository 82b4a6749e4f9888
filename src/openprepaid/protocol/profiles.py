"""Meter model profiles: which protocol a meter model speaks and how it is wired.

Each supported model is one :class:`MeterProfile` in :data:`PROFILES`, an explicit registry.
The protocol core extends a profile with the identifiers or registers that make up a reading and
with how trip, close, keep power, prices, thresholds and recharge are expressed on that meter.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Protocol(StrEnum):
    DLT645_2007 = "dlt645_2007"
    MODBUS_RTU = "modbus_rtu"


@dataclass(frozen=True, slots=True)
class MeterProfile:
    code: str
    name: str
    protocol: Protocol
    phases: frozenset[int]
    local_cost_control: bool  # the meter can hold the wallet and trip by itself
    remote_cost_control: bool  # the relay follows the server's commands


PROFILES: dict[str, MeterProfile] = {
    p.code: p
    for p in (
        MeterProfile(
            code="dlt645-prepaid-1p",
            name="DL/T 645-2007 prepaid meter, single-phase (2013 cost-control additions)",
            protocol=Protocol.DLT645_2007,
            phases=frozenset({1}),
            local_cost_control=True,
            remote_cost_control=True,
        ),
        MeterProfile(
            code="dlt645-prepaid-3p",
            name="DL/T 645-2007 prepaid meter, three-phase (2013 cost-control additions)",
            protocol=Protocol.DLT645_2007,
            phases=frozenset({3}),
            local_cost_control=True,
            remote_cost_control=True,
        ),
        MeterProfile(
            code="acrel-ddsy1352",
            name="Acrel DDSY1352-NK single-phase prepaid meter, Modbus-RTU",
            protocol=Protocol.MODBUS_RTU,
            phases=frozenset({1}),
            local_cost_control=True,
            remote_cost_control=True,
        ),
        MeterProfile(
            code="acrel-dtsy1352",
            name="Acrel DTSY1352-NK three-phase prepaid meter, Modbus-RTU",
            protocol=Protocol.MODBUS_RTU,
            phases=frozenset({3}),
            local_cost_control=True,
            remote_cost_control=True,
        ),
    )
}


def normalize_address(protocol: Protocol | str, raw: str) -> str:
    """The canonical text of a meter's bus address, or ``ValueError`` saying what is wrong.

    DL/T 645-2007: up to 12 decimal digits, padded with zeros at the high end to 12
    (``"12"`` → ``"000000000012"``). Modbus-RTU: a unit id 1–247 without leading zeros.
    """
    text = str(raw).strip()
    if Protocol(protocol) is Protocol.DLT645_2007:
        if not text.isdigit() or not text.isascii() or len(text) > 12:
            raise ValueError("a DL/T 645 address is 1 to 12 decimal digits")
        if set(text) == {"9"} and len(text) == 12:
            raise ValueError("999999999999 is the broadcast address")
        return text.zfill(12)
    if not text.isdigit() or not text.isascii():
        raise ValueError("a Modbus unit id is a whole number from 1 to 247")
    unit = int(text)
    if not 1 <= unit <= 247:
        raise ValueError("a Modbus unit id is a whole number from 1 to 247")
    return str(unit)
