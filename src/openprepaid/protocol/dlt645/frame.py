"""The DL/T 645-2007 link-layer frame and its one-shot codec.

Wire format (FACTS §1)::

    [FE × n]  68  A0 … A5  68  C  L  DATA + 33H  CS  16

``A0`` is the least significant BCD byte of the 12-digit nameplate address; ``CS`` is the sum
mod 256 of every byte from the first 68 through the last (scrambled) data byte. :class:`Frame`
holds the address as printed on the meter and the data *un*-scrambled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from openprepaid.protocol.dlt645.codes import (
    ABNORMAL_BIT,
    DIRECTION_BIT,
    FOLLOW_UP_BIT,
    FUNCTION_MASK,
    Function,
)
from openprepaid.protocol.errors import LocalProtocolError, RemoteProtocolError

START = 0x68
END = 0x16
PREAMBLE_BYTE = 0xFE
HEADER_SIZE = 10  # 68 A0..A5 68 C L
MAX_DATA = 255
MAX_FRAME = HEADER_SIZE + MAX_DATA + 2  # + CS 16
BROADCAST_ADDRESS = "999999999999"
WILDCARD_ADDRESS = "AAAAAAAAAAAA"

# Each address byte is two BCD digits, or AA (the wildcard/shortened-address pad).
_ADDRESS_RE = re.compile(r"(?:[0-9]{2}|AA){6}")
_FUNCTIONS = {int(f): f for f in Function}
_ADDRESS_BYTES = bytes(b for b in range(256) if b == 0xAA or (b & 0x0F < 10 and b >> 4 < 10))
_SCRAMBLE = bytes((i + 0x33) & 0xFF for i in range(256))
_UNSCRAMBLE = bytes((i - 0x33) & 0xFF for i in range(256))
_set = object.__setattr__


def is_byte(value: object) -> bool:
    return isinstance(value, int) and 0 <= value <= 0xFF


def scramble(data: bytes) -> bytes:
    """Add 33H to every byte (what the sender does to DATA)."""
    return data.translate(_SCRAMBLE)


def unscramble(data: bytes) -> bytes:
    """Subtract 33H from every byte (what the receiver does to DATA)."""
    return data.translate(_UNSCRAMBLE)


@dataclass(frozen=True, slots=True)
class Frame:
    """One link-layer frame.

    ``address`` is the 12-character nameplate address (digits, or ``AA`` pads for the wildcard
    forms); ``control`` is the control byte; ``data`` is DATA with the 33H offset removed.
    """

    address: str
    control: int
    data: bytes = b""

    def __post_init__(self) -> None:
        wire_address(self.address)
        if not is_byte(self.control):
            raise LocalProtocolError(f"control byte out of range: {self.control!r}")
        if isinstance(self.data, bytearray | memoryview):
            object.__setattr__(self, "data", bytes(self.data))
        elif not isinstance(self.data, bytes):
            raise LocalProtocolError(f"DATA is bytes, not {type(self.data).__name__}")
        if len(self.data) > MAX_DATA:
            raise LocalProtocolError(f"DATA is {len(self.data)} bytes; at most {MAX_DATA}")

    @property
    def is_response(self) -> bool:
        """D7: the frame goes from slave to master."""
        return bool(self.control & DIRECTION_BIT)

    @property
    def abnormal(self) -> bool:
        """D6: the slave's abnormal (refusal) reply."""
        return bool(self.control & ABNORMAL_BIT)

    @property
    def follow_up(self) -> bool:
        """D5: more frames follow."""
        return bool(self.control & FOLLOW_UP_BIT)

    @property
    def function_code(self) -> int:
        return self.control & FUNCTION_MASK

    @property
    def function(self) -> Function | None:
        """The function as an enum, or ``None`` for a code the standard does not define."""
        return _FUNCTIONS.get(self.control & FUNCTION_MASK)

    @classmethod
    def _trusted(cls, address: str, control: int, data: bytes) -> Frame:
        """Build without re-validating (the decoder has checked every field)."""
        frame = object.__new__(cls)
        _set(frame, "address", address)
        _set(frame, "control", control)
        _set(frame, "data", data)
        return frame


def address_to_wire(address: str) -> bytes:
    """``"123456789012"`` → ``12 90 78 56 34 12`` (low byte first)."""
    return bytes.fromhex(address)[::-1]


def address_from_wire(wire: bytes) -> str:
    """The inverse of :func:`address_to_wire`; the caller validates the result."""
    return wire[::-1].hex().upper()


def wire_address(address: object) -> bytes:
    """The validated wire bytes of a nameplate address; ``LocalProtocolError`` if invalid."""
    if not isinstance(address, str):
        raise LocalProtocolError(
            f"a DL/T 645 address is 12 BCD digits (or AA pads), not {address!r}"
        )
    return _checked_wire_address(address)


@lru_cache(maxsize=4096)
def _checked_wire_address(address: str) -> bytes:
    if not _ADDRESS_RE.fullmatch(address):
        raise LocalProtocolError(
            f"a DL/T 645 address is 12 BCD digits (or AA pads), not {address!r}"
        )
    return bytes.fromhex(address)[::-1]


def encode_frame(frame: Frame, preamble: int = 4) -> bytes:
    """The wire bytes of ``frame``, preceded by ``preamble`` wake-up FE bytes."""
    return _encode(_checked_wire_address(frame.address), frame.control, frame.data, preamble)


def encode_parts(address: str, control: int, data: bytes, preamble: int = 4) -> bytes:
    """``encode_frame(Frame(address, control, data), preamble)`` without building the
    :class:`Frame` (the encoders' fast path); the same checks, the same errors."""
    wire = _checked_wire_address(address) if type(address) is str else wire_address(address)
    if not (isinstance(control, int) and 0 <= control <= 0xFF):  # is_byte(), inlined
        raise LocalProtocolError(f"control byte out of range: {control!r}")
    if type(data) is not bytes:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise LocalProtocolError(f"DATA is bytes, not {type(data).__name__}")
        data = bytes(data)
    if len(data) > MAX_DATA:
        raise LocalProtocolError(f"DATA is {len(data)} bytes; at most {MAX_DATA}")
    return _encode(wire, control, data, preamble)


def _encode(wire: bytes, control: int, data: bytes, preamble: int) -> bytes:
    if preamble < 0:
        raise LocalProtocolError("the preamble count cannot be negative")
    body = b"\x68" + wire + bytes((START, control, len(data))) + data.translate(_SCRAMBLE)
    return b"\xfe" * preamble + body + bytes((sum(body) & 0xFF, END))


def check_frame(buffer: bytes | bytearray, start: int) -> tuple[Frame, int] | str:
    """Validate the complete candidate frame at ``buffer[start]`` (a 68 byte).

    Returns the frame and the index just past it, or a string saying why it is invalid. The
    caller has checked that the buffer holds the whole frame (``start + 12 + L`` bytes).
    """
    length = buffer[start + 9]
    end = start + HEADER_SIZE + length
    if buffer[start + 7] != START:
        return "second start byte 68 missing"
    if buffer[end + 1] != END:
        return f"end byte is {buffer[end + 1]:02X}, not 16"
    checksum = sum(buffer[start:end]) & 0xFF
    if buffer[end] != checksum:
        return f"checksum is {buffer[end]:02X}, expected {checksum:02X}"
    address = buffer[start + 6 : start : -1].hex()
    if not address.isdigit():
        address = address.upper()
        if not _ADDRESS_RE.fullmatch(address):
            return f"address {address} is not BCD"
    data = buffer[start + HEADER_SIZE : end].translate(_UNSCRAMBLE)
    if type(data) is not bytes:
        data = bytes(data)
    return Frame._trusted(address, buffer[start + 8], data), end + 2


def header_problem(buffer: bytes | bytearray, start: int) -> str | None:
    """Why the (possibly incomplete) header at ``buffer[start]`` cannot start a frame, if known."""
    available = len(buffer) - start
    if available >= 8 and buffer[start + 7] != START:
        return "second start byte 68 missing"
    bad = bytes(buffer[start + 1 : start + min(available, 7)]).translate(None, _ADDRESS_BYTES)
    return f"address byte {bad[0]:02X} is not BCD" if bad else None


def decode_frame(data: bytes) -> Frame:
    """Decode exactly one frame (any number of leading FE allowed); ``RemoteProtocolError``
    says what is wrong otherwise."""
    start = len(data) - len(data.lstrip(b"\xfe"))
    if start >= len(data) or data[start] != START:
        raise RemoteProtocolError("a DL/T 645 frame starts with 68 (after optional FE bytes)")
    if len(data) - start < HEADER_SIZE + 2:
        raise RemoteProtocolError(f"frame truncated: {len(data) - start} bytes, at least 12")
    if data[start + 7] != START:
        raise RemoteProtocolError("second start byte 68 missing")
    expected = HEADER_SIZE + data[start + 9] + 2
    if len(data) - start != expected:
        raise RemoteProtocolError(
            f"L = {data[start + 9]} needs a {expected}-byte frame, got {len(data) - start} bytes"
        )
    result = check_frame(data, start)
    if isinstance(result, str):
        raise RemoteProtocolError(result)
    return result[0]
