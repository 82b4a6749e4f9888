"""Key hierarchy: site master key → per-meter key → session keys.

* **Site master key** (:class:`MasterKey`): 16 or 24 bytes of 3DES key, held by the server only.
* **Diversification factor** of a meter: ``00 00`` ‖ the 12-digit nameplate address as 6 packed
  BCD bytes in printed order (address ``000012345678`` → ``00 00 00 00 12 34 56 78``). This is
  the 8-byte "dispersion factor" (分散因子) the State-Grid identity authentication carries.
* **Per-meter key** (:class:`MeterKey`, 16 bytes, two-key 3DES), the classic two-half
  diversification of banking/ESAM card keys:
  ``K_meter = 3DES-ECB(MK, F) ‖ 3DES-ECB(MK, F ⊕ FF FF FF FF FF FF FF FF)``.
  The simulated meter is provisioned with its own ``K_meter`` only, never with the master key.
* **Session keys** (:class:`SessionKeys`): derived from ``K_meter`` and the two challenges of
  identity authentication; see :func:`derive_session_keys`.

Key objects never show their bytes: ``repr``/``str`` print the class, the meter address where
there is one and the key length, nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from openprepaid.protocol.errors import LocalProtocolError
from openprepaid.protocol.security.crypto import BLOCK, TDES_KEY_LENGTHS, cbc_encrypt, ecb_encrypt

ADDRESS_DIGITS = 12
FACTOR_PREFIX = b"\x00\x00"
INVERT = b"\xff" * BLOCK
RANDOM1_LENGTH = 8
RANDOM2_LENGTH = 4
SESSION_ENCRYPTION = 0x01
SESSION_MAC = 0x02

#: The site master key of the simulator and the demo ONLY (16 bytes, two-key 3DES, written as
#: 32 hex digits). It is public — it is in this source file — so it protects nothing: a real site
#: sets its own master key (``OPENPREPAID_MASTER_KEY``) and its meters are provisioned with keys
#: derived from that one. The simulator's meters and the demo site share this key so that the
#: headend can talk to the simulated meters out of the box.
DEMO_MASTER_KEY_HEX = "0123456789ABCDEFFEDCBA9876543210"


def bcd_digits(digits: str, length: int, what: str) -> bytes:
    """Pack a string of decimal digits (exactly ``2 * length`` of them) into BCD, printed order."""
    if len(digits) != 2 * length or not digits.isascii() or not digits.isdigit():
        raise LocalProtocolError(f"{what} must be {2 * length} decimal digits, got {digits!r}")
    return bytes.fromhex(digits)


def address_bytes(address: str) -> bytes:
    """The 12-digit nameplate address as 6 BCD bytes in printed order (not wire order)."""
    return bcd_digits(address, ADDRESS_DIGITS // 2, "meter address")


def diversification_factor(address: str) -> bytes:
    """The 8-byte diversification (dispersion) factor: ``00 00`` ‖ BCD(address)."""
    return FACTOR_PREFIX + address_bytes(address)


def _check_3des_key(key: bytes, what: str) -> None:
    if not isinstance(key, bytes) or len(key) not in TDES_KEY_LENGTHS:
        raise LocalProtocolError(f"{what} must be 16 or 24 bytes")
    halves = [key[i : i + BLOCK] for i in range(0, len(key), BLOCK)]
    if halves[0] == halves[1] or halves[-1] == halves[-2]:
        # K1 = K2 (or K2 = K3) makes EDE collapse to single DES.
        raise LocalProtocolError(f"{what} has equal adjacent halves (degenerates to single DES)")


@dataclass(frozen=True, eq=False)
class MasterKey:
    """The site master key (16 or 24 bytes). Its bytes never appear in ``repr``/``str``."""

    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        _check_3des_key(self.secret, "master key")

    def __repr__(self) -> str:
        return f"MasterKey(<{len(self.secret)} bytes, redacted>)"

    __str__ = __repr__

    @classmethod
    def from_hex(cls, text: str) -> MasterKey:
        """Read a key written as hex (spaces allowed); the message on failure omits the text."""
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raise LocalProtocolError("master key is not valid hex") from None
        return cls(raw)


@dataclass(frozen=True, eq=False)
class MeterKey:
    """One meter's 16-byte key, bound to its address. Its bytes never appear in ``repr``/``str``."""

    address: str
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        address_bytes(self.address)
        if not isinstance(self.secret, bytes) or len(self.secret) != 2 * BLOCK:
            raise LocalProtocolError("meter key must be 16 bytes")

    def __repr__(self) -> str:
        return f"MeterKey(address={self.address!r}, <16 bytes, redacted>)"

    __str__ = __repr__

    @property
    def factor(self) -> bytes:
        return diversification_factor(self.address)

    @classmethod
    def derive(cls, master: MasterKey, address: str) -> MeterKey:
        """``3DES-ECB(MK, F) ‖ 3DES-ECB(MK, F ⊕ FF…FF)`` with F the diversification factor."""
        factor = diversification_factor(address)
        inverted = bytes(b ^ 0xFF for b in factor)
        return cls(address, ecb_encrypt(master.secret, factor + inverted))


@dataclass(frozen=True, eq=False)
class SessionKeys:
    """The two 16-byte session keys of one authenticated session (never printed)."""

    encryption: bytes = field(repr=False)
    mac: bytes = field(repr=False)

    def __repr__(self) -> str:
        return "SessionKeys(<redacted>)"

    __str__ = __repr__


def _session_half(meter_key: MeterKey, random1: bytes, random2: bytes, purpose: int, half: int):
    block = random1 + random2 + bytes((purpose, half, 0, 0))
    return cbc_encrypt(meter_key.secret, block)[-BLOCK:]


def derive_session_keys(meter_key: MeterKey, random1: bytes, random2: bytes) -> SessionKeys:
    """Session keys from the master's ``R1`` (8 bytes) and the meter's ``R2`` (4 bytes).

    Each 8-byte half is the last block of ``3DES-CBC(K_meter, IV = 0)`` over the 16 bytes
    ``R1 ‖ R2 ‖ purpose ‖ half ‖ 00 00``, with purpose ``01`` (encryption) or ``02`` (MAC) and
    half ``01`` (left) or ``02`` (right).
    """
    if len(random1) != RANDOM1_LENGTH or len(random2) != RANDOM2_LENGTH:
        raise LocalProtocolError("session derivation needs an 8-byte R1 and a 4-byte R2")

    def key(purpose: int) -> bytes:
        return b"".join(
            _session_half(meter_key, random1, random2, purpose, half) for half in (1, 2)
        )

    return SessionKeys(encryption=key(SESSION_ENCRYPTION), mac=key(SESSION_MAC))
