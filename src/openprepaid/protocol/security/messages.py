"""What travels: data identifiers, the SERR error word, plaintext layouts and typed outcomes.

Plaintext layouts (before padding and encryption; integers big-endian unsigned):

* wallet command (open account, recharge), 14 bytes:
  ``amount in fen (4) ‖ purchase count (4) ‖ customer number (6, BCD, 12 digits)``
* remote control (1C under password level 98), 12 bytes:
  ``N1 (1) ‖ N2 = 00 (1) ‖ N3..N8 deadline ss mm hh DD MM YY (6, BCD) ‖ command counter (4)``

Both are padded (ISO/IEC 7816-4) to 16 bytes, so a protected payload is always
``ciphertext (16) ‖ MAC (4)`` = 20 bytes; see :mod:`.envelope` for how it is sealed.

The SERR word (:class:`SecurityErrorFlags`) and N1 (:class:`ControlCommand`) are the DL/T 645
codec's own, so a refusal built here is the flag set the codec encodes and decodes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from openprepaid.protocol.dlt645.codes import ControlCommand, SecurityErrorFlags
from openprepaid.protocol.errors import LocalProtocolError, RemoteProtocolError
from openprepaid.protocol.security.keys import bcd_digits

# Data identifiers of the 03 (security) commands, as DI3 DI2 DI1 DI0 integers.
DI_IDENTITY_AUTHENTICATION = 0x070000FF
DI_OPEN_ACCOUNT = 0x070101FF
DI_RECHARGE = 0x070102FF
# The 4-byte "command id" the MAC covers for remote control (1C has no DI): 1C, level 98, 00 00.
REMOTE_CONTROL_COMMAND_ID = b"\x1c\x98\x00\x00"

MAX_U32 = 0xFFFF_FFFF
CUSTOMER_DIGITS = 12
WALLET_PLAINTEXT_LENGTH = 14
REMOTE_PLAINTEXT_LENGTH = 12
CIPHERTEXT_LENGTH = 16
MAC_LENGTH = 4
PROTECTED_LENGTH = CIPHERTEXT_LENGTH + MAC_LENGTH
FEN_PER_YUAN = 100


class WalletCommand(enum.Enum):
    OPEN_ACCOUNT = DI_OPEN_ACCOUNT
    RECHARGE = DI_RECHARGE

    @property
    def di_bytes(self) -> bytes:
        """The DI in natural order (DI3 first), as the MAC covers it."""
        return self.value.to_bytes(4, "big")


def yuan_to_fen(amount: Decimal) -> int:
    """Exact conversion of a yuan ``Decimal`` to integer fen; sub-fen amounts are refused.

    Works on the decimal digits themselves, so no context precision or rounding is involved.
    """
    if not isinstance(amount, Decimal):
        raise LocalProtocolError(f"amount must be a Decimal in yuan, got {type(amount).__name__}")
    if not amount.is_finite():
        raise LocalProtocolError(f"amount {amount} is not a finite number")
    sign, digits, exponent = amount.as_tuple()
    assert isinstance(exponent, int)  # finite
    coefficient = int("".join(map(str, digits)) or "0")
    shift = exponent + 2  # fen = coefficient * 10**shift
    if coefficient and shift > 10:
        raise LocalProtocolError(f"amount {amount} yuan is outside 0..{MAX_U32} fen")
    if shift >= 0:
        value = coefficient * 10**shift
    else:
        # coefficient < 10**len(digits): a longer shift leaves it all as residue (no huge powers)
        small = -shift <= len(digits)
        value, residue = divmod(coefficient, 10**-shift) if small else (0, coefficient)
        if residue:
            raise LocalProtocolError(f"amount {amount} yuan is not a whole number of fen")
    if sign and value:
        raise LocalProtocolError(f"amount {amount} yuan is negative")
    if value > MAX_U32:
        raise LocalProtocolError(f"amount {amount} yuan is outside 0..{MAX_U32} fen")
    return value


def fen_to_yuan(fen: int) -> Decimal:
    return (Decimal(fen) / FEN_PER_YUAN).quantize(Decimal("0.01"))


def normalise_customer_number(customer_number: str) -> str:
    """Customer numbers are 1 to 12 digits, carried zero-filled to 12 (6 BCD bytes)."""
    if (
        not isinstance(customer_number, str)
        or not 1 <= len(customer_number) <= CUSTOMER_DIGITS
        or not customer_number.isascii()
        or not customer_number.isdigit()
    ):
        raise LocalProtocolError(f"customer number must be 1-12 digits, got {customer_number!r}")
    return customer_number.zfill(CUSTOMER_DIGITS)


def _u32(value: int, what: str) -> bytes:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_U32:
        raise LocalProtocolError(f"{what} must be an integer in 0..{MAX_U32}, got {value!r}")
    return value.to_bytes(4, "big")


@dataclass(frozen=True)
class WalletOrder:
    """The plaintext of an open-account or recharge command."""

    amount_fen: int
    purchase_count: int
    customer_number: str

    def encode(self) -> bytes:
        customer = normalise_customer_number(self.customer_number)
        return (
            _u32(self.amount_fen, "amount in fen")
            + _u32(self.purchase_count, "purchase count")
            + bcd_digits(customer, CUSTOMER_DIGITS // 2, "customer number")
        )

    @classmethod
    def decode(cls, plaintext: bytes) -> WalletOrder:
        if len(plaintext) != WALLET_PLAINTEXT_LENGTH:
            raise RemoteProtocolError(f"wallet plaintext is {len(plaintext)} bytes, not 14")
        customer = plaintext[8:14].hex()
        if not customer.isdigit():
            raise RemoteProtocolError("customer number is not BCD")
        return cls(
            amount_fen=int.from_bytes(plaintext[0:4], "big"),
            purchase_count=int.from_bytes(plaintext[4:8], "big"),
            customer_number=customer,
        )


def _deadline_bytes(deadline: datetime) -> bytes:
    if deadline.tzinfo is not None:
        raise LocalProtocolError("the 1C deadline is meter wall-clock time: pass a naive datetime")
    if not 2000 <= deadline.year <= 2099:
        raise LocalProtocolError("the 1C deadline year must be 2000..2099")
    fields = (
        deadline.second,
        deadline.minute,
        deadline.hour,
        deadline.day,
        deadline.month,
        deadline.year % 100,
    )
    return bytes.fromhex("".join(f"{v:02d}" for v in fields))


def _deadline_from(data: bytes) -> datetime:
    text = data.hex()
    if not text.isdigit():
        raise RemoteProtocolError("1C deadline is not BCD")
    ss, mm, hh, dd, mo, yy = (int(text[i : i + 2]) for i in range(0, 12, 2))
    try:
        # Meter wall-clock time: DL/T 645 clocks carry no zone.
        return datetime(2000 + yy, mo, dd, hh, mm, ss)  # noqa: DTZ001
    except ValueError:
        raise RemoteProtocolError("1C deadline is not a valid date and time") from None


@dataclass(frozen=True)
class RemoteOrder:
    """The plaintext of a remote-control (1C) command: N1, deadline N3..N8 and the counter."""

    action: ControlCommand
    deadline: datetime
    counter: int

    def encode(self) -> bytes:
        if not isinstance(self.action, ControlCommand):
            raise LocalProtocolError(f"unknown remote action {self.action!r}")
        return (
            bytes((self.action.value, 0x00))
            + _deadline_bytes(self.deadline)
            + _u32(self.counter, "command counter")
        )

    @classmethod
    def decode(cls, plaintext: bytes) -> RemoteOrder:
        if len(plaintext) != REMOTE_PLAINTEXT_LENGTH:
            raise RemoteProtocolError(f"1C plaintext is {len(plaintext)} bytes, not 12")
        try:
            action = ControlCommand(plaintext[0])
        except ValueError:
            raise RemoteProtocolError(f"unknown N1 {plaintext[0]:#04x}") from None
        if plaintext[1] != 0:
            raise RemoteProtocolError("N2 must be 00")
        return cls(
            action=action,
            deadline=_deadline_from(plaintext[2:8]),
            counter=int.from_bytes(plaintext[8:12], "big"),
        )


# --- outcomes of the meter side ------------------------------------------------------------


@dataclass(frozen=True)
class SecurityRefusal:
    """The meter refuses: reply ``C3`` + :attr:`flags` (for 1C the caller answers ``DC``)."""

    flags: SecurityErrorFlags
    reason: str


@dataclass(frozen=True)
class AuthenticationAccepted:
    """Identity authentication passed; :attr:`reply` is the ``83`` payload R2 (4) ‖ serial (8)."""

    reply: bytes
    expires_at: datetime


@dataclass(frozen=True)
class WalletAccepted:
    """Open account or recharge applied; the reply is ``83`` with the DI and no payload."""

    command: WalletCommand
    amount_fen: int
    purchase_count: int
    customer_number: str
    balance_fen: int


@dataclass(frozen=True)
class RemoteControlAccepted:
    """A genuine 1C command: the caller checks :attr:`deadline` against its clock and acts."""

    action: ControlCommand
    deadline: datetime
    counter: int
