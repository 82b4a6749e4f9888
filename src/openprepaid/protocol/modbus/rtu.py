"""Modbus-RTU framing: ``unit id | PDU | CRC-16/MODBUS (low byte first)``.

RTU frames carry no length and no start marker, so the decoder works out each frame's length
from the function code and the direction (a request for FC03 is 8 bytes, its response
``5 + byte count``), checks the CRC, and on anything that does not fit — unknown function code,
reserved unit id, bad CRC — slides one byte and tries again: it resynchronises onto the next
valid frame after garbage. A master can say what it asked with :meth:`RtuDecoder.expect`; the
decoder then accepts only that unit's answer of the right size, which makes hunting exact.

Inter-frame silence (t3.5) is the transport's business: it calls ``discard_partial()`` when the
line has been idle with a partial frame buffered.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import LocalProtocolError, RemoteProtocolError
from .common import NEED_DATA, Direction, NeedData
from .crc import crc16_modbus, crc_bytes
from .pdu import Pdu, Request, decode_pdu, pdu_length
from .stream import StreamDecoder

MAX_RTU_FRAME = 256  # unit id + PDU (≤ 253) + CRC
MAX_UNIT_ID = 247  # 0 is broadcast (requests only); 248..255 are reserved


@dataclass(frozen=True, slots=True)
class RtuFrame:
    """One decoded RTU frame: the unit id (slave address) and its PDU."""

    unit_id: int
    pdu: Pdu

    @property
    def direction(self) -> Direction:
        return self.pdu.direction


def encode_rtu(unit_id: int, pdu: Pdu) -> bytes:
    """The RTU frame for ``pdu`` addressed to (or sent by) ``unit_id``, CRC appended."""
    if not isinstance(unit_id, int) or not 0 <= unit_id <= MAX_UNIT_ID:
        raise LocalProtocolError(f"unit id must be 0..{MAX_UNIT_ID}: {unit_id!r}")
    if unit_id == 0 and pdu.direction is Direction.RESPONSE:
        raise LocalProtocolError("no response is ever sent from the broadcast address 0")
    body = bytes((unit_id,)) + pdu.encode()
    if len(body) + 2 > MAX_RTU_FRAME:
        raise LocalProtocolError(f"RTU frame of {len(body) + 2} bytes exceeds {MAX_RTU_FRAME}")
    return body + crc_bytes(body)


def _unit_ok(unit_id: int, direction: Direction) -> bool:
    return unit_id <= MAX_UNIT_ID and (unit_id != 0 or direction is Direction.REQUEST)


def decode_frame(data: bytes | bytearray | memoryview, direction: Direction | str) -> RtuFrame:
    """Decode exactly one RTU frame (no leading or trailing bytes) or raise
    :class:`RemoteProtocolError` saying why not."""
    direction = Direction(direction)
    data = bytes(data)
    if len(data) < 4:
        raise RemoteProtocolError(f"an RTU frame is at least 4 bytes, got {len(data)}")
    if not _unit_ok(data[0], direction):
        raise RemoteProtocolError(f"unit id {data[0]} is not valid in a {direction}")
    if crc16_modbus(data[:-2]) != int.from_bytes(data[-2:], "little"):
        raise RemoteProtocolError(
            f"CRC mismatch: frame says {data[-2:].hex().upper()}, "
            f"computed {crc_bytes(data[:-2]).hex().upper()}"
        )
    return RtuFrame(data[0], decode_pdu(data[1:-2], direction))


class RtuDecoder(StreamDecoder):
    """Streaming RTU decoder for one direction: ``Direction.REQUEST`` on a slave (simulator),
    ``Direction.RESPONSE`` on a master.

    ``next_event()`` returns an :class:`RtuFrame` or :data:`NEED_DATA`. A frame whose CRC is
    right but whose content is invalid (odd byte count, quantity 0 …) is consumed and raised as
    :class:`RemoteProtocolError`; the decoder stays usable. It raises nothing else.
    """

    _expect_unit: int | None = None
    _expect_fc: int = 0
    _expect_len: int = 0

    def expect(self, unit_id: int | None, request: Request | None = None) -> None:
        """Master side: accept only ``unit_id``'s answer to ``request`` (normal reply of the
        exact size, or an exception reply) until one arrives; ``None`` accepts anything."""
        if self.direction is not Direction.RESPONSE:
            raise LocalProtocolError("only a response decoder can expect an answer")
        if unit_id is None or request is None:
            self._expect_unit = None
            return
        if unit_id == 0:
            raise LocalProtocolError("a broadcast request gets no answer")
        self._expect_unit = unit_id
        self._expect_fc = request.function_code
        self._expect_len = _response_pdu_length(request)

    def next_event(self) -> RtuFrame | NeedData:
        buf = self._buf
        direction = self.direction
        while True:
            if len(buf) < 4:
                self._flush_garbage()
                return NEED_DATA
            unit_id = buf[0]
            if not _unit_ok(unit_id, direction):
                self._slide()
                continue
            expect_unit = self._expect_unit
            if expect_unit is not None:
                fc = buf[1]
                if unit_id != expect_unit or fc not in (self._expect_fc, self._expect_fc | 0x80):
                    self._slide()
                    continue
                plen = self._expect_len if fc == self._expect_fc else 2
                if pdu_length(buf, 1, direction) not in (0, plen):
                    self._slide()
                    continue
            else:
                plen = pdu_length(buf, 1, direction)
                if plen < 0:
                    self._slide()
                    continue
                if plen == 0:
                    self._flush_garbage()
                    return NEED_DATA
            total = plen + 3
            if total > MAX_RTU_FRAME:
                self._slide()
                continue
            if len(buf) < total:
                self._flush_garbage()
                return NEED_DATA
            if crc16_modbus(memoryview(buf)[: total - 2]) != buf[total - 2] | buf[total - 1] << 8:
                self._slide()
                continue
            raw = self._take(total)
            self._expect_unit = None
            return RtuFrame(unit_id, decode_pdu(raw[1:-2], direction))


def _response_pdu_length(request: Request) -> int:
    fc = request.function_code
    if fc in (0x03, 0x04):
        return 2 + 2 * request.count  # type: ignore[union-attr]
    if fc == 0x01:
        return 2 + (request.count + 7) // 8  # type: ignore[union-attr]
    return 5


__all__ = [
    "MAX_RTU_FRAME",
    "NEED_DATA",
    "RtuDecoder",
    "RtuFrame",
    "decode_frame",
    "encode_rtu",
]
