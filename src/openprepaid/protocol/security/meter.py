"""The meter's side (what the simulator embeds): the ESAM-like module of one meter.

It holds the meter's own key (never the site master key), the wallet the ESAM keeps (customer
number, purchase count, remaining money in fen) and the current session. Every method takes the
payload after ``DI ‖ operator code`` and the current time, and returns a typed outcome; nothing
returns ``None`` and nothing raises for a refusal.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from openprepaid.protocol.errors import LocalProtocolError, RemoteProtocolError
from openprepaid.protocol.security.crypto import ecb_encrypt, same_bytes
from openprepaid.protocol.security.envelope import unseal
from openprepaid.protocol.security.keys import (
    RANDOM2_LENGTH,
    MeterKey,
    SessionKeys,
    derive_session_keys,
)
from openprepaid.protocol.security.master import (
    DEFAULT_SESSION_VALIDITY,
    ESAM_SERIAL_LENGTH,
    Rng,
)
from openprepaid.protocol.security.messages import (
    DI_IDENTITY_AUTHENTICATION,
    MAX_U32,
    REMOTE_CONTROL_COMMAND_ID,
    AuthenticationAccepted,
    RemoteControlAccepted,
    RemoteOrder,
    SecurityErrorFlags,
    SecurityRefusal,
    WalletAccepted,
    WalletCommand,
    WalletOrder,
    normalise_customer_number,
)

AUTH_REQUEST_LENGTH = 24
SERR = SecurityErrorFlags


@dataclass(eq=False)
class _Session:
    keys: SessionKeys = field(repr=False)
    expires_at: datetime
    last_counter: int = 0


@dataclass(frozen=True)
class Wallet:
    """What the ESAM's wallet file holds."""

    customer_number: str | None
    purchase_count: int
    balance_fen: int


class MeterSecurityModule:
    """One meter's security module.

    ``hoarding_limit_fen`` (囤积限额), when set, refuses a purchase that would leave more than
    that much money in the meter. ``session_validity`` is how long an identity authentication
    stays good (State-Grid default: 5 minutes).
    """

    def __init__(
        self,
        meter_key: MeterKey,
        *,
        esam_serial: bytes,
        rng: Rng = os.urandom,
        session_validity: timedelta = DEFAULT_SESSION_VALIDITY,
        hoarding_limit_fen: int | None = None,
        customer_number: str | None = None,
        purchase_count: int = 0,
        balance_fen: int = 0,
    ) -> None:
        if len(esam_serial) != ESAM_SERIAL_LENGTH:
            raise LocalProtocolError("ESAM serial must be 8 bytes")
        if not 0 <= purchase_count <= MAX_U32:
            raise LocalProtocolError(f"purchase count must be in 0..{MAX_U32}")
        self._key = meter_key
        self._rng = rng
        self.esam_serial = esam_serial
        self.session_validity = session_validity
        self.hoarding_limit_fen = hoarding_limit_fen
        self.customer_number = (
            None if customer_number is None else normalise_customer_number(customer_number)
        )
        self.purchase_count = purchase_count
        self.balance_fen = balance_fen
        self._session: _Session | None = None

    def __repr__(self) -> str:
        return f"MeterSecurityModule(address={self.address!r}, <key redacted>)"

    @property
    def address(self) -> str:
        return self._key.address

    @property
    def wallet(self) -> Wallet:
        return Wallet(self.customer_number, self.purchase_count, self.balance_fen)

    def has_session(self, now: datetime) -> bool:
        return self._current(now) is not None

    def invalidate_session(self) -> None:
        """DI 070002FF (invalidate identity authentication), or a power cycle."""
        self._session = None

    def deduct(self, fen: int) -> int:
        """Local cost control: consumption takes money out of the wallet (may go negative in
        overdraft). Returns the new balance."""
        if fen < 0:
            raise LocalProtocolError("a deduction cannot be negative")
        self.balance_fen -= fen
        return self.balance_fen

    # --- commands ----------------------------------------------------------------------------

    def handle(
        self, di: int, payload: bytes, *, now: datetime
    ) -> AuthenticationAccepted | WalletAccepted | SecurityRefusal:
        """Dispatch a control-code 03 request by its DI (DI3 DI2 DI1 DI0 as an integer)."""
        if di == DI_IDENTITY_AUTHENTICATION:
            return self.authenticate(payload, now=now)
        if di == WalletCommand.OPEN_ACCOUNT.value:
            return self.open_account(payload, now=now)
        if di == WalletCommand.RECHARGE.value:
            return self.recharge(payload, now=now)
        return SecurityRefusal(SERR.OTHER, f"unsupported security DI {di:08X}")

    def authenticate(
        self, payload: bytes, *, now: datetime
    ) -> AuthenticationAccepted | SecurityRefusal:
        """Identity authentication: ``cipher1 (8) ‖ R1 (8) ‖ factor (8)``.

        The factor must be this meter's and ``3DES-ECB(K_meter, R1)`` must equal cipher1; then a
        fresh R2 is drawn and the session keys derived. Any failure also drops the old session.
        """
        self._session = None
        if len(payload) != AUTH_REQUEST_LENGTH:
            return SecurityRefusal(SERR.AUTHENTICATION_FAILED, "request is not 24 bytes")
        cipher1, random1, factor = payload[:8], payload[8:16], payload[16:24]
        if not same_bytes(factor, self._key.factor):
            return SecurityRefusal(SERR.AUTHENTICATION_FAILED, "factor is not this meter's")
        if not same_bytes(cipher1, ecb_encrypt(self._key.secret, random1)):
            return SecurityRefusal(SERR.AUTHENTICATION_FAILED, "cipher1 does not match R1")
        random2 = self._rng(RANDOM2_LENGTH)
        if len(random2) != RANDOM2_LENGTH:
            raise LocalProtocolError("rng returned the wrong number of bytes")
        expires_at = now + self.session_validity
        self._session = _Session(derive_session_keys(self._key, random1, random2), expires_at)
        return AuthenticationAccepted(reply=random2 + self.esam_serial, expires_at=expires_at)

    def open_account(self, payload: bytes, *, now: datetime) -> WalletAccepted | SecurityRefusal:
        """开户: sets the customer number on a meter without one (else it must match), then
        credits like a recharge under the same purchase-count rule."""
        return self._wallet(WalletCommand.OPEN_ACCOUNT, payload, now)

    def recharge(self, payload: bytes, *, now: datetime) -> WalletAccepted | SecurityRefusal:
        """充值: the customer number must match the one set at open account."""
        return self._wallet(WalletCommand.RECHARGE, payload, now)

    def remote_control(
        self, payload: bytes, *, now: datetime
    ) -> RemoteControlAccepted | SecurityRefusal:
        """1C under level 98: the 20 bytes after ``98 00 00 00 ‖ C0..C3``.

        The counter must be above the last one accepted in this session, so a replayed 1C is
        refused. The deadline is returned for the caller to check against the meter clock.
        """
        session = self._current(now)
        if session is None:
            return SecurityRefusal(SERR.AUTHENTICATION_FAILED, "no valid identity authentication")
        try:
            plaintext = unseal(session.keys, REMOTE_CONTROL_COMMAND_ID, self.address, payload)
            order = RemoteOrder.decode(plaintext)
        except RemoteProtocolError as exc:
            return SecurityRefusal(SERR.ESAM_VERIFICATION_FAILED, str(exc))
        if order.counter <= session.last_counter:
            return SecurityRefusal(SERR.ESAM_VERIFICATION_FAILED, "replayed command counter")
        session.last_counter = order.counter
        return RemoteControlAccepted(order.action, order.deadline, order.counter)

    # --- internals ---------------------------------------------------------------------------

    def _current(self, now: datetime) -> _Session | None:
        if self._session is not None and now >= self._session.expires_at:
            self._session = None
        return self._session

    def _wallet(
        self, command: WalletCommand, payload: bytes, now: datetime
    ) -> WalletAccepted | SecurityRefusal:
        session = self._current(now)
        if session is None:
            return SecurityRefusal(SERR.AUTHENTICATION_FAILED, "no valid identity authentication")
        try:
            plaintext = unseal(session.keys, command.di_bytes, self.address, payload)
            order = WalletOrder.decode(plaintext)
        except RemoteProtocolError as exc:
            return SecurityRefusal(SERR.ESAM_VERIFICATION_FAILED, str(exc))
        opening = command is WalletCommand.OPEN_ACCOUNT and self.customer_number is None
        if not opening and order.customer_number != self.customer_number:
            reason = "meter has no account" if self.customer_number is None else "other customer"
            return SecurityRefusal(SERR.CUSTOMER_NUMBER_MISMATCH, reason)
        if order.purchase_count == self.purchase_count:
            return SecurityRefusal(SERR.REPEATED_RECHARGE, "purchase count already applied")
        if order.purchase_count != self.purchase_count + 1:
            return SecurityRefusal(SERR.RECHARGE_COUNT_ERROR, "purchase count is not stored + 1")
        balance = self.balance_fen + order.amount_fen
        if self.hoarding_limit_fen is not None and balance > self.hoarding_limit_fen:
            return SecurityRefusal(
                SERR.PURCHASE_EXCEEDS_HOARDING_LIMIT, "balance would exceed the limit"
            )
        self.customer_number = order.customer_number
        self.purchase_count = order.purchase_count
        self.balance_fen = balance
        return WalletAccepted(
            command=command,
            amount_fen=order.amount_fen,
            purchase_count=order.purchase_count,
            customer_number=order.customer_number,
            balance_fen=balance,
        )
