"""The protocol half of a meter profile: readings and commands, whatever the meter speaks.

:func:`describe_profile` maps a :data:`openprepaid.protocol.profiles.PROFILES` code to its
:class:`~openprepaid.protocol.dlt645.profile.Dlt645Profile` or
:class:`~openprepaid.protocol.modbus.profile.ModbusProfile`.
"""

from __future__ import annotations

from openprepaid.protocol.dlt645.profile import Dlt645Profile, dlt645_profile
from openprepaid.protocol.errors import LocalProtocolError
from openprepaid.protocol.modbus.profile import ModbusProfile, modbus_profile
from openprepaid.protocol.profiles import PROFILES, Protocol

ProtocolProfile = Dlt645Profile | ModbusProfile


def describe_profile(code: str) -> ProtocolProfile:
    """The reading and command description of profile ``code``; LocalProtocolError if unknown."""
    profile = PROFILES.get(code)
    if profile is None:
        raise LocalProtocolError(f"no meter profile {code!r}")
    if profile.protocol is Protocol.DLT645_2007:
        return dlt645_profile(code)
    return modbus_profile(code)
