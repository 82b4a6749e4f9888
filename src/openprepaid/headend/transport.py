"""Links to gateway lines: a TCP socket (transparent or Modbus-TCP gateway) or a local serial
port, each carrying exactly one request at a time.

:meth:`Link.exchange` writes a request and feeds what comes back to a stateful ``accept``
callable until it returns a result (a matched reply) or the timeout passes. Bytes left over
from an earlier, timed-out request are thrown away before each new request, so a late reply
is never taken for the answer to the next one. :class:`Backoff` paces reconnects.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any, TypeVar

from openprepaid.headend.model import LineConfig

T = TypeVar("T")

#: The serial dependency, imported only when a serial line is opened.
SERIAL_PACKAGE = "pyserial-asyncio"


class LinkLost(ConnectionError):
    """The connection to the gateway failed or closed: reconnect before the next request."""


class ReplyTimeout(TimeoutError):
    """No (matching) reply within the timeout; ``garbled`` if bytes came that matched nothing."""

    def __init__(self, message: str, *, garbled: bool = False) -> None:
        super().__init__(message)
        self.garbled = garbled


class _LineProtocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = bytearray()
        self.waiter: asyncio.Future[None] | None = None
        self.lost: BaseException | None = None
        self.transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._wake()

    def connection_lost(self, exc: BaseException | None) -> None:
        self.lost = exc or LinkLost("the gateway closed the connection")
        self._wake()

    def eof_received(self) -> bool:
        return False  # close our side too

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)


class Link:
    """One open connection to a line. Not safe for concurrent requests: the line worker sends
    one at a time."""

    def __init__(self, transport: asyncio.Transport, protocol: _LineProtocol) -> None:
        self._transport = transport
        self._protocol = protocol

    @property
    def closed(self) -> bool:
        return self._protocol.lost is not None or self._transport.is_closing()

    def close(self) -> None:
        self._transport.close()

    def _check(self) -> None:
        if self._protocol.lost is not None:
            raise LinkLost(str(self._protocol.lost) or "connection lost")
        if self._transport.is_closing():
            raise LinkLost("connection closed")

    def send(self, data: bytes) -> None:
        """Write ``data`` expecting no reply (a broadcast)."""
        self._check()
        self._protocol.buffer.clear()
        self._transport.write(data)

    async def exchange(self, data: bytes, accept: Callable[[bytes], T | None], timeout: float) -> T:
        """Send ``data`` and return what ``accept`` makes of the reply bytes."""
        self._check()
        protocol = self._protocol
        protocol.buffer.clear()  # the tail of a late reply to an earlier request
        self._transport.write(data)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        received = 0
        while True:
            if protocol.buffer:
                chunk = bytes(protocol.buffer)
                protocol.buffer.clear()
                received += len(chunk)
                result = accept(chunk)
                if result is not None:
                    return result
            self._check()
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise ReplyTimeout(
                    f"no valid reply in {timeout:.2f} s ({received} bytes received)",
                    garbled=received > 0,
                )
            protocol.waiter = loop.create_future()
            try:
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation
                # that arrives as the reply does, and the line worker would never stop.
                async with asyncio.timeout(remaining):
                    await protocol.waiter
            except TimeoutError:
                pass
            finally:
                protocol.waiter = None


async def open_link(line: LineConfig, *, timeout: float = 5.0) -> Link:
    """Connect to ``line``'s gateway (TCP) or open its serial port; ``LinkLost`` on failure."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):  # not wait_for: see Link.exchange
            if line.transport == "serial":
                transport, protocol = await _open_serial(line)
            else:
                transport, protocol = await loop.create_connection(
                    _LineProtocol, line.host, line.port
                )
    except (OSError, TimeoutError) as exc:
        raise LinkLost(f"cannot connect to {line.name}: {exc or type(exc).__name__}") from exc
    return Link(transport, protocol)  # type: ignore[arg-type]


async def _open_serial(line: LineConfig) -> tuple[Any, _LineProtocol]:
    try:
        import serial_asyncio
    except ImportError as exc:
        raise LinkLost(f"serial lines need the {SERIAL_PACKAGE} package") from exc
    loop = asyncio.get_running_loop()
    return await serial_asyncio.create_serial_connection(
        loop,
        _LineProtocol,
        line.serial_device,
        baudrate=line.baud_rate,
        parity=line.parity,
        bytesize=8,
        stopbits=1,
    )


class Backoff:
    """Exponential backoff with full jitter: ``initial``, ×2 per failure, capped at ``cap``."""

    def __init__(self, initial: float = 0.5, cap: float = 30.0, rng: random.Random | None = None):
        self.initial = initial
        self.cap = cap
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not secrets
        self.failures = 0

    def reset(self) -> None:
        self.failures = 0

    def next_delay(self) -> float:
        """The delay before the next attempt: uniform in [ceiling/2, ceiling]."""
        ceiling = min(self.cap, self.initial * 2**self.failures)
        self.failures += 1
        return ceiling / 2 + self.rng.random() * ceiling / 2


def frame_seconds(size: int, line: LineConfig) -> float:
    """How long ``size`` bytes take on ``line``'s bus (11 bits a byte with parity, else 10)."""
    bits = 10 if line.parity == "N" else 11
    return size * bits / line.baud_rate
