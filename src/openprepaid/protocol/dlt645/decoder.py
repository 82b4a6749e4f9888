"""The streaming DL/T 645 frame decoder (sans-IO, after h11's ``receive_data``/``next_event``).

Feed it whatever the line delivered with :meth:`Decoder.receive_data`, then call
:meth:`Decoder.next_event` until it returns :data:`NEED_DATA`. Events are:

* :class:`~openprepaid.protocol.dlt645.frame.Frame` — a valid frame;
* :class:`Garbage` — bytes that were dropped, with the reason. Wake-up FE bytes are not garbage
  and are skipped silently; anything else before a frame is reported, and so is a candidate
  frame that failed its checks (bad second 68, non-BCD address, bad checksum or end byte): the
  decoder then drops the bytes up to the next 68 *after the bad start* and resynchronises there;
* :data:`NEED_DATA` — nothing more until more bytes arrive.

Bounds: after ``next_event`` returns ``NEED_DATA`` the buffer holds at most one incomplete
frame (fewer than :data:`~openprepaid.protocol.dlt645.frame.MAX_FRAME` bytes). The decoder never
raises; a misbehaving line only produces ``Garbage`` events. :attr:`Decoder.dropped` counts the
bytes dropped as garbage since construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from openprepaid.protocol.dlt645.frame import (
    HEADER_SIZE,
    START,
    Frame,
    check_frame,
    header_problem,
)
from openprepaid.protocol.errors import RemoteProtocolError


class Sentinel(Enum):
    NEED_DATA = "need_data"


NEED_DATA = Sentinel.NEED_DATA


@dataclass(frozen=True, slots=True)
class Garbage:
    """Bytes the decoder dropped, and why (the text of a :class:`RemoteProtocolError`)."""

    data: bytes
    reason: str

    @property
    def error(self) -> RemoteProtocolError:
        return RemoteProtocolError(f"dropped {len(self.data)} bytes: {self.reason}")


Event = Frame | Garbage | Sentinel


class Decoder:
    """Turns a byte stream into frames; one instance per line (or per request/response turn)."""

    __slots__ = ("_buffer", "dropped")

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.dropped = 0

    @property
    def buffered(self) -> int:
        """How many received bytes wait for the rest of a frame."""
        return len(self._buffer)

    def receive_data(self, data: bytes) -> None:
        self._buffer += data

    def clear(self) -> bytes:
        """Forget the buffered bytes (after a timeout, say) and return them."""
        rest = bytes(self._buffer)
        self._buffer.clear()
        return rest

    def next_event(self) -> Event:
        buffer = self._buffer
        start = buffer.find(START)
        if start < 0:
            if not buffer:
                return NEED_DATA
            return self._drop(len(buffer), "no 68 start byte", before_start=True)
        if start:
            return self._drop(start, "bytes before the 68 start byte", before_start=True)
        if len(buffer) < HEADER_SIZE or len(buffer) < HEADER_SIZE + buffer[9] + 2:
            # Incomplete: reject a false start early if its header already shows it.
            problem = header_problem(buffer, 0)
            return self._resync(problem) if problem else NEED_DATA
        result = check_frame(buffer, 0)
        if isinstance(result, str):
            return self._resync(result)
        frame, end = result
        del buffer[:end]
        return frame

    def _resync(self, reason: str) -> Event:
        """Drop the bad start and everything up to the next 68 after it."""
        following = self._buffer.find(START, 1)
        return self._drop(len(self._buffer) if following < 0 else following, reason)

    def _drop(self, count: int, reason: str, *, before_start: bool = False) -> Event:
        if before_start:
            # Wake-up FE bytes right before a frame are preamble, not garbage.
            noise = len(bytes(self._buffer[:count]).rstrip(b"\xfe"))
            if not noise:
                del self._buffer[:count]
                return self.next_event()
            count = noise
        dropped = bytes(self._buffer[:count])
        del self._buffer[:count]
        self.dropped += count
        return Garbage(dropped, reason)
