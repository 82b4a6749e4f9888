"""Modbus-TCP framing: the 7-byte MBAP header, then the PDU.

``transaction id (2) | protocol id = 0 (2) | length (2) = 1 + PDU length | unit id (1) | PDU``,
all big-endian, no CRC. The length field delimits the frame, so a frame whose header is sound but
whose PDU is not (unsupported function, wrong size) is consumed and raised as
:class:`RemoteProtocolError`; a header that is not sound (protocol id ≠ 0, impossible length) is
garbage and the decoder slides one byte, exactly as the RTU decoder hunts.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import LocalProtocolError, RemoteProtocolError
from .common import NEED_DATA, Direction, NeedData
from .pdu import Pdu, decode_pdu, pdu_length
from .stream import StreamDecoder

MBAP_LENGTH = 7
MAX_PDU = 253


@dataclass(frozen=True, slots=True)
class TcpFrame:
    """One decoded Modbus-TCP frame (ADU)."""

    transaction_id: int
    unit_id: int
    pdu: Pdu

    @property
    def direction(self) -> Direction:
        return self.pdu.direction


def encode_tcp(transaction_id: int, unit_id: int, pdu: Pdu) -> bytes:
    """The Modbus-TCP ADU for ``pdu``. A gateway maps ``unit_id`` to the meter's RTU address."""
    if not isinstance(transaction_id, int) or not 0 <= transaction_id <= 0xFFFF:
        raise LocalProtocolError(f"transaction id must be 0..65535: {transaction_id!r}")
    if not isinstance(unit_id, int) or not 0 <= unit_id <= 0xFF:
        raise LocalProtocolError(f"unit id must be 0..255: {unit_id!r}")
    body = pdu.encode()
    if len(body) > MAX_PDU:
        raise LocalProtocolError(f"PDU of {len(body)} bytes exceeds {MAX_PDU}")
    return (
        transaction_id.to_bytes(2, "big")
        + b"\x00\x00"
        + (len(body) + 1).to_bytes(2, "big")
        + bytes((unit_id,))
        + body
    )


def _header_ok(buf: bytes | bytearray) -> int:
    """The ADU length if the MBAP header at ``buf[0:7]`` is plausible, else 0."""
    if buf[2] or buf[3]:
        return 0
    length = buf[4] << 8 | buf[5]
    if not 2 <= length <= MAX_PDU + 1:
        return 0
    return 6 + length


def _decode_adu(raw: bytes, direction: Direction) -> TcpFrame:
    expected = pdu_length(raw, MBAP_LENGTH, direction)
    actual = len(raw) - MBAP_LENGTH
    if expected != actual:
        what = "unsupported function code" if expected < 0 else f"PDU length {actual}"
        raise RemoteProtocolError(f"{what} (function 0x{raw[7]:02X}) in a Modbus-TCP {direction}")
    pdu = decode_pdu(raw[MBAP_LENGTH:], direction)
    return TcpFrame(raw[0] << 8 | raw[1], raw[6], pdu)


def decode_tcp_frame(data: bytes | bytearray | memoryview, direction: Direction | str) -> TcpFrame:
    """Decode exactly one Modbus-TCP ADU or raise :class:`RemoteProtocolError`."""
    direction = Direction(direction)
    data = bytes(data)
    if len(data) < MBAP_LENGTH + 1:
        raise RemoteProtocolError(f"a Modbus-TCP frame is at least 8 bytes, got {len(data)}")
    size = _header_ok(data)
    if size != len(data):
        raise RemoteProtocolError("MBAP header invalid or its length disagrees with the frame")
    return _decode_adu(data, direction)


class TcpDecoder(StreamDecoder):
    """Streaming Modbus-TCP decoder for one direction; same contract as the RTU decoder."""

    def next_event(self) -> TcpFrame | NeedData:
        buf = self._buf
        while True:
            if len(buf) < MBAP_LENGTH + 1:
                self._flush_garbage()
                return NEED_DATA
            size = _header_ok(buf)
            if not size:
                self._slide()
                continue
            if len(buf) < size:
                self._flush_garbage()
                return NEED_DATA
            return _decode_adu(self._take(size), self.direction)
