"""Modbus side of the meter profiles: which registers make up a reading on each Modbus model
and how trip, close, keep power, prices, thresholds and recharge are expressed there.

Keyed by the :data:`openprepaid.protocol.profiles.PROFILES` codes; this module extends those
profiles without editing them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from ..errors import LocalProtocolError
from ..profiles import PROFILES, MeterProfile, Protocol
from . import acrel
from .pdu import ReadHoldingRegistersRequest, Request


@dataclass(frozen=True, slots=True)
class ModbusProfile:
    profile: MeterProfile
    register_map: acrel.RegisterMap
    trip: Callable[[], Request]
    close: Callable[[], Request]
    keep_power: Callable[[bool], Request]
    push_prices: Callable[[Decimal, Decimal, Decimal, Decimal], Request]
    push_thresholds: Callable[[Decimal, Decimal, Decimal, Decimal], Request]
    recharge: Callable[[Decimal, int, bytes], Request]

    def reading_requests(self) -> tuple[ReadHoldingRegistersRequest, ...]:
        """The FC03 reads that together make up one reading."""
        return tuple(
            ReadHoldingRegistersRequest(start, count)
            for start, count in self.register_map.reading_blocks
        )


def _acrel(code: str, register_map: acrel.RegisterMap) -> ModbusProfile:
    return ModbusProfile(
        profile=PROFILES[code],
        register_map=register_map,
        trip=acrel.trip_request,
        close=acrel.close_request,
        keep_power=acrel.keep_power_request,
        push_prices=acrel.prices_request,
        push_thresholds=acrel.thresholds_request,
        recharge=acrel.recharge_request,
    )


MODBUS_PROFILES: dict[str, ModbusProfile] = {
    "acrel-ddsy1352": _acrel("acrel-ddsy1352", acrel.DDSY1352),
    "acrel-dtsy1352": _acrel("acrel-dtsy1352", acrel.DTSY1352),
}


def modbus_profile(code: str) -> ModbusProfile:
    """The Modbus profile for a meter profile code; LocalProtocolError if it has none."""
    try:
        found = MODBUS_PROFILES[code]
    except KeyError:
        raise LocalProtocolError(f"no Modbus profile for {code!r}") from None
    assert found.profile.protocol is Protocol.MODBUS_RTU
    return found
