"""The buffering half shared by the RTU and TCP stream decoders (h11-style, sans-IO).

``receive_data(chunk)`` appends bytes; ``next_event()`` (in the subclasses) returns one frame or
:data:`NEED_DATA`. The buffer is bounded: a caller that receives more than ``max_buffer`` bytes
without draining the decoder with ``next_event()`` gets :class:`RemoteProtocolError` and the chunk
is refused. Bytes skipped while hunting for the next frame are counted in ``discarded`` and
reported to the trace hook, as are accepted frames (raw bytes, for hex logging at DEBUG).
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import LocalProtocolError, RemoteProtocolError
from .common import Direction, TraceKind

Trace = Callable[[TraceKind, bytes], None]
DEFAULT_MAX_BUFFER = 4096


class StreamDecoder:
    """Base of :class:`RtuDecoder` and :class:`TcpDecoder`."""

    def __init__(
        self,
        direction: Direction | str,
        *,
        max_buffer: int = DEFAULT_MAX_BUFFER,
        trace: Trace | None = None,
    ) -> None:
        try:
            self.direction = Direction(direction)
        except ValueError:
            raise LocalProtocolError(
                f"direction must be request or response: {direction!r}"
            ) from None
        if max_buffer < 512:
            raise LocalProtocolError("max_buffer must be at least 512 bytes")
        self.max_buffer = max_buffer
        self.trace = trace
        self.discarded = 0
        self._buf = bytearray()
        self._garbage = bytearray()

    @property
    def buffered(self) -> int:
        """Bytes received and not yet consumed."""
        return len(self._buf)

    def receive_data(self, data: bytes | bytearray | memoryview) -> None:
        """Feed received bytes (any chunking). Drain with ``next_event()`` until NEED_DATA."""
        if len(self._buf) + len(data) > self.max_buffer:
            raise RemoteProtocolError(
                f"receive buffer would exceed {self.max_buffer} bytes; drain next_event() first"
            )
        self._buf += data

    def discard_partial(self) -> int:
        """Throw away everything buffered (call it on line silence or a timeout): returns how
        many bytes were dropped."""
        n = len(self._buf)
        self._garbage += self._buf
        self._buf.clear()
        self._flush_garbage()
        return n

    def _slide(self, n: int = 1) -> None:
        self._garbage += self._buf[:n]
        del self._buf[:n]

    def _flush_garbage(self) -> None:
        if self._garbage:
            self.discarded += len(self._garbage)
            if self.trace is not None:
                self.trace(TraceKind.DISCARDED, bytes(self._garbage))
            self._garbage.clear()

    def _take(self, n: int) -> bytes:
        self._flush_garbage()
        raw = bytes(self._buf[:n])
        del self._buf[:n]
        if self.trace is not None:
            self.trace(TraceKind.FRAME, raw)
        return raw
