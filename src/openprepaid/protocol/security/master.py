"""The server's side: authenticate to a meter, then build protected payloads for it.

Randomness comes from an injected ``rng(n) -> bytes`` (``os.urandom`` by default) and times are
passed in, so the same inputs always give the same bytes.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from openprepaid.protocol.errors import LocalProtocolError, RemoteProtocolError
from openprepaid.protocol.security.crypto import ecb_encrypt
from openprepaid.protocol.security.envelope import seal
from openprepaid.protocol.security.keys import (
    RANDOM1_LENGTH,
    RANDOM2_LENGTH,
    MasterKey,
    MeterKey,
    SessionKeys,
    derive_session_keys,
)
from openprepaid.protocol.security.messages import (
    DI_IDENTITY_AUTHENTICATION,
    MAX_U32,
    REMOTE_CONTROL_COMMAND_ID,
    ControlCommand,
    RemoteOrder,
    WalletCommand,
    WalletOrder,
    yuan_to_fen,
)

ESAM_SERIAL_LENGTH = 8
AUTH_REPLY_LENGTH = RANDOM2_LENGTH + ESAM_SERIAL_LENGTH
DEFAULT_SESSION_VALIDITY = timedelta(minutes=5)

Rng = Callable[[int], bytes]


@dataclass(frozen=True)
class AuthenticationRequest:
    """An identity authentication in flight. :attr:`payload` goes after DI 070000FF + operator:
    ``cipher1 (8) ‖ R1 (8) ‖ diversification factor (8)``."""

    meter_key: MeterKey
    random1: bytes
    payload: bytes
    di: int = DI_IDENTITY_AUTHENTICATION


@dataclass(eq=False)
class MasterSession:
    """An authenticated session with one meter: builds its protected payloads.

    Not frozen: :meth:`remote_control` advances the command counter.
    """

    address: str
    esam_serial: bytes
    established_at: datetime
    expires_at: datetime
    keys: SessionKeys = field(repr=False)
    next_counter: int = 1

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    def open_account(self, *, customer_number: str, amount: Decimal, purchase_count: int) -> bytes:
        """Payload (20 bytes) for DI 070101FF: the amount in yuan converts exactly to fen."""
        return self._wallet(WalletCommand.OPEN_ACCOUNT, customer_number, amount, purchase_count)

    def recharge(self, *, customer_number: str, amount: Decimal, purchase_count: int) -> bytes:
        """Payload (20 bytes) for DI 070102FF; ``purchase_count`` is the meter's count + 1."""
        return self._wallet(WalletCommand.RECHARGE, customer_number, amount, purchase_count)

    def remote_control(self, action: ControlCommand, *, deadline: datetime) -> bytes:
        """The 20 bytes after ``98 00 00 00 ‖ C0..C3`` of a level-98 1C command.

        ``deadline`` is the meter wall-clock time (naive) after which the meter must ignore it.
        """
        if self.next_counter > MAX_U32:
            raise LocalProtocolError("command counter exhausted: authenticate again")
        order = RemoteOrder(action=action, deadline=deadline, counter=self.next_counter)
        payload = seal(self.keys, REMOTE_CONTROL_COMMAND_ID, self.address, order.encode())
        self.next_counter += 1
        return payload

    def _wallet(
        self, command: WalletCommand, customer_number: str, amount: Decimal, purchase_count: int
    ) -> bytes:
        order = WalletOrder(
            amount_fen=yuan_to_fen(amount),
            purchase_count=purchase_count,
            customer_number=customer_number,
        )
        return seal(self.keys, command.di_bytes, self.address, order.encode())


class MasterSecurity:
    """The server's security module for one site: holds the master key, derives meter keys."""

    def __init__(self, master_key: MasterKey, *, rng: Rng = os.urandom) -> None:
        self._master_key = master_key
        self._rng = rng

    def __repr__(self) -> str:
        return "MasterSecurity(<master key redacted>)"

    def meter_key(self, address: str) -> MeterKey:
        """The per-meter key, to provision a meter (or the simulator) with."""
        return MeterKey.derive(self._master_key, address)

    def begin_authentication(
        self, address: str, *, random1: bytes | None = None
    ) -> AuthenticationRequest:
        """Start identity authentication: ``cipher1 = 3DES-ECB(K_meter, R1)``."""
        meter_key = self.meter_key(address)
        r1 = self._rng(RANDOM1_LENGTH) if random1 is None else random1
        if not isinstance(r1, bytes) or len(r1) != RANDOM1_LENGTH:
            raise LocalProtocolError("random1 must be 8 bytes")
        cipher1 = ecb_encrypt(meter_key.secret, r1)
        return AuthenticationRequest(meter_key, r1, cipher1 + r1 + meter_key.factor)

    def complete_authentication(
        self,
        request: AuthenticationRequest,
        reply: bytes,
        *,
        now: datetime,
        validity: timedelta = DEFAULT_SESSION_VALIDITY,
    ) -> MasterSession:
        """Read the meter's ``83`` payload ``R2 (4) ‖ ESAM serial (8)`` and open the session."""
        if len(reply) != AUTH_REPLY_LENGTH:
            raise RemoteProtocolError(
                f"identity-authentication reply is {len(reply)} bytes, not {AUTH_REPLY_LENGTH}"
            )
        random2, serial = reply[:RANDOM2_LENGTH], reply[RANDOM2_LENGTH:]
        return MasterSession(
            address=request.meter_key.address,
            esam_serial=serial,
            established_at=now,
            expires_at=now + validity,
            keys=derive_session_keys(request.meter_key, request.random1, random2),
        )
