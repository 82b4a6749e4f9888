"""Small DATA fields the commands share: DI, password, operator code, deadlines."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from openprepaid.protocol.dlt645.formats import Timestamp
from openprepaid.protocol.errors import LocalProtocolError, RemoteProtocolError

TIMESTAMP_6 = Timestamp(6)  # ss mm hh DD MM YY on the wire


def check_di(di: int) -> None:
    if not isinstance(di, int) or not 0 <= di <= 0xFFFFFFFF:
        raise LocalProtocolError(f"a data identifier is 4 bytes, not {di!r}")


def di_to_wire(di: int) -> bytes:
    """DI3 DI2 DI1 DI0 → sent DI0 first."""
    return di.to_bytes(4, "little")


def di_from_wire(data: bytes) -> int:
    return int.from_bytes(data[:4], "little")


def di_text(di: int) -> str:
    return f"{di:08X}"


@dataclass(frozen=True, slots=True)
class Password:
    """``PA P0 P1 P2``: the level byte (00–09 plain; 98/99 State-Grid cipher/MAC levels, written
    as hex 0x98/0x99) and six password digits, sent as written (``"123456"`` → ``12 34 56``)."""

    level: int = 0x02
    code: str = "000000"

    def __post_init__(self) -> None:
        if not isinstance(self.level, int) or not 0 <= self.level <= 0xFF:
            raise LocalProtocolError(f"the password level is one byte, not {self.level!r}")
        if not _is_hex(self.code, 6):
            raise LocalProtocolError("a password is 6 hex (normally decimal) digits")

    def __repr__(self) -> str:  # never print the password itself
        return f"Password(level=0x{self.level:02X}, code='******')"

    def to_bytes(self) -> bytes:
        return bytes((self.level,)) + bytes.fromhex(self.code)

    @classmethod
    def from_bytes(cls, data: bytes) -> Password:
        return cls(data[0], data[1:4].hex().upper())


def operator_to_bytes(operator: str) -> bytes:
    """The operator code ``C0..C3``: 8 hex digits, sent as written."""
    if not _is_hex(operator, 8):
        raise LocalProtocolError("an operator code is 8 hex digits")
    return bytes.fromhex(operator)


def operator_from_bytes(data: bytes) -> str:
    return data.hex().upper()


def check_operator(operator: str) -> None:
    operator_to_bytes(operator)


def deadline_to_bytes(moment: dt.datetime) -> bytes:
    return TIMESTAMP_6.encode(moment.replace(microsecond=0))


def deadline_from_bytes(data: bytes) -> dt.datetime:
    moment = TIMESTAMP_6.decode(data)
    if moment is None:
        raise RemoteProtocolError(f"{data[::-1].hex()} is not a YYMMDDhhmmss time")
    return moment


def _is_hex(text: object, length: int) -> bool:
    """Exactly ``length`` upper-case hex digits."""
    return isinstance(text, str) and re.fullmatch(f"[0-9A-F]{{{length}}}", text) is not None
