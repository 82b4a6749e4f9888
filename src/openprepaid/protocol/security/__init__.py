"""Meter security module: an ESAM-style scheme on 3DES, shared by the server and the simulator.

Modelled on the State-Grid 2013 ESAM flows (identity authentication by challenge, session keys,
protected open-account / recharge / remote control, the purchase-count rule) but *not* the
State-Grid algorithm, which is SM1 inside a vendor ESAM. A real deployment replaces this scheme
with the vendor's. The whole scheme is written down in ``docs/security.md``.

* :class:`MasterSecurity` / :class:`MasterSession` — the server side;
* :class:`MeterSecurityModule` — the meter side;
* :mod:`.crypto` — 3DES and the retail MAC, from the ``cryptography`` library.

``SecurityErrorFlags`` (SERR) and ``ControlCommand`` (1C N1) are re-exported from the DL/T 645
codec, which owns them.
"""

from openprepaid.protocol.dlt645.codes import ControlCommand, SecurityErrorFlags
from openprepaid.protocol.security.keys import MasterKey, MeterKey, SessionKeys
from openprepaid.protocol.security.master import (
    AuthenticationRequest,
    MasterSecurity,
    MasterSession,
)
from openprepaid.protocol.security.messages import (
    DI_IDENTITY_AUTHENTICATION,
    DI_OPEN_ACCOUNT,
    DI_RECHARGE,
    AuthenticationAccepted,
    RemoteControlAccepted,
    SecurityRefusal,
    WalletAccepted,
    WalletCommand,
    fen_to_yuan,
    yuan_to_fen,
)
from openprepaid.protocol.security.meter import MeterSecurityModule, Wallet
from openprepaid.protocol.security.modbus import (
    modbus_recharge_mac,
    modbus_recharge_request,
    verify_modbus_recharge_mac,
)

__all__ = [
    "DI_IDENTITY_AUTHENTICATION",
    "DI_OPEN_ACCOUNT",
    "DI_RECHARGE",
    "AuthenticationAccepted",
    "AuthenticationRequest",
    "ControlCommand",
    "MasterKey",
    "MasterSecurity",
    "MasterSession",
    "MeterKey",
    "MeterSecurityModule",
    "RemoteControlAccepted",
    "SecurityErrorFlags",
    "SecurityRefusal",
    "SessionKeys",
    "Wallet",
    "WalletAccepted",
    "WalletCommand",
    "fen_to_yuan",
    "modbus_recharge_mac",
    "modbus_recharge_request",
    "verify_modbus_recharge_mac",
    "yuan_to_fen",
]
