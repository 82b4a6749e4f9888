"""The simulated gateways: asyncio TCP servers in front of a :class:`~.bus.Bus`.

* :class:`TransparentGateway` forwards raw bus bytes both ways. Its bus may carry DL/T 645 and
  Modbus-RTU meters together; :class:`BusFrameSplitter` finds the request frames in what a
  client sends, as the meters on a real bus would. Each reply goes back to the connection whose
  request caused it.
* :class:`ModbusTcpGateway` unwraps MBAP, puts the request on its bus as an RTU frame and wraps
  the reply in MBAP with the request's transaction id. A unit id with no meter, a meter that
  does not answer, or a reply that arrives corrupted (bad CRC) gets exception 0x0B (gateway
  target device failed to respond) once the gateway's ``timeout`` has passed (at once with bus
  timing off). Pipelined requests are answered in the order they came.

Gateway faults (see :mod:`.faults`) are followed by watching the :class:`~.faults.FaultBook`:
the gateway re-reads its faults whenever they change (:meth:`apply_gateway_faults`), when it
accepts a connection and when a request arrives. ``refuse`` without a count closes the
listening socket (a client's connect is refused) and re-opens it on the same port when the
fault is cleared; ``refuse`` with a count accepts and resets that many connections. ``refuse``
leaves open connections alone: add ``drop`` to cut them. ``drop`` closes every open connection,
and every new one while it lasts, once it has carried ``after`` more requests (the next request
after those is not served); ``after`` = 0 closes them at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from functools import partial
from typing import Any

from openprepaid.protocol.dlt645.frame import HEADER_SIZE, Frame, check_frame, header_problem
from openprepaid.protocol.errors import RemoteProtocolError
from openprepaid.protocol.modbus.common import NEED_DATA, Direction
from openprepaid.protocol.modbus.crc import crc16_modbus
from openprepaid.protocol.modbus.pdu import (
    ExceptionCode,
    ExceptionResponse,
    decode_request_pdu,
    pdu_length,
)
from openprepaid.protocol.modbus.rtu import MAX_UNIT_ID, RtuFrame
from openprepaid.protocol.modbus.tcp import TcpDecoder, TcpFrame, encode_tcp

from .bus import Bus
from .faults import FaultBook, FaultKind
from .sitespec import MODBUS_TCP, GatewaySpec

log = logging.getLogger(__name__)

DLT645_FRAME = "dlt645"
RTU_FRAME = "modbus_rtu"
DEFAULT_TIMEOUT = 1.0
MIN_SILENCE = 0.05
_WAIT = 0
_BAD = 1
_MAX_BUFFER = 1024


class BusFrameSplitter:
    """Finds request frames in the raw bytes a master puts on a mixed bus.

    A bus has no framing, so at each position (after skipping FE wake-up bytes): a complete
    DL/T 645 frame (``68 … 16``, valid CS) is taken; else a complete Modbus-RTU request with a
    valid CRC is taken (if the bytes could also still become a DL/T 645 frame, a unit id 0x68,
    the RTU reading wins only when it ends exactly where the received bytes end); else, if
    either reading needs more bytes, it waits; else one byte is garbage and dropped (the
    decoders' resynchronisation). Bytes left incomplete for longer than ``silence`` seconds are
    discarded when the next bytes arrive (inter-frame silence).

    :meth:`feed` returns ``(kind, frame, raw_len)`` tuples: ``kind`` is :data:`DLT645_FRAME`
    with a :class:`Frame`, or :data:`RTU_FRAME` with an :class:`RtuFrame`; ``raw_len`` counts
    the bytes the frame took on the line, FE bytes before it included.
    """

    __slots__ = ("_buf", "_last", "dropped", "silence")

    def __init__(self, silence: float = MIN_SILENCE) -> None:
        self._buf = bytearray()
        self._last = 0.0
        self.silence = silence
        self.dropped = 0

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def feed(self, data: bytes, now: float) -> list[tuple[str, Any, int]]:
        buf = self._buf
        if buf and now - self._last > self.silence:
            self.dropped += len(buf)
            buf.clear()
        self._last = now
        buf += data
        out: list[tuple[str, Any, int]] = []
        n = len(buf)
        pos = 0
        while pos < n:
            start = pos
            while pos < n and buf[pos] == 0xFE:
                pos += 1
            if pos >= n:
                pos = start  # only wake-up bytes so far: keep them for the frame they precede
                break
            dlt = _dlt645_at(buf, pos, n) if buf[pos] == 0x68 else _BAD
            if type(dlt) is tuple:
                out.append((DLT645_FRAME, dlt[0], dlt[1] - start))
                pos = dlt[1]
                continue
            rtu = _rtu_at(buf, pos, n)
            if type(rtu) is tuple and (dlt == _BAD or rtu[1] == n):
                if rtu[0] is None:  # right CRC, impossible content: no meter acts on it
                    self.dropped += rtu[1] - start
                else:
                    out.append((RTU_FRAME, rtu[0], rtu[1] - start))
                pos = rtu[1]
                continue
            if dlt == _WAIT or rtu == _WAIT or type(rtu) is tuple:
                pos = start
                break
            self.dropped += pos + 1 - start
            pos += 1
        if pos:
            del buf[:pos]
        if len(buf) > _MAX_BUFFER:
            self.dropped += len(buf)
            buf.clear()
        return out

    def clear(self) -> int:
        """Forget buffered bytes; returns how many."""
        count = len(self._buf)
        self.dropped += count
        self._buf.clear()
        return count


def _dlt645_at(buf: bytearray, pos: int, n: int) -> tuple[Frame, int] | int:
    avail = n - pos
    if avail < HEADER_SIZE or avail < HEADER_SIZE + buf[pos + 9] + 2:
        return _BAD if header_problem(buf, pos) else _WAIT
    result = check_frame(buf, pos)
    return _BAD if isinstance(result, str) else result


def _rtu_at(buf: bytearray, pos: int, n: int) -> tuple[RtuFrame | None, int] | int:
    unit_id = buf[pos]
    if unit_id > MAX_UNIT_ID:
        return _BAD
    if n - pos < 2:
        return _WAIT
    plen = pdu_length(buf, pos + 1, Direction.REQUEST)
    if plen < 0:
        return _BAD
    if plen == 0:
        return _WAIT
    end = pos + plen + 3
    if end > n:
        return _WAIT
    if crc16_modbus(bytes(buf[pos : end - 2])) != buf[end - 2] | buf[end - 1] << 8:
        return _BAD
    try:
        pdu = decode_request_pdu(bytes(buf[pos + 1 : end - 2]))
    except RemoteProtocolError:
        return None, end
    return RtuFrame(unit_id, pdu), end


class _Link(asyncio.Protocol):
    """One client connection (base of both gateways' protocols)."""

    def __init__(self, gateway: _Gateway) -> None:
        self.gateway = gateway
        self.transport: asyncio.Transport | None = None
        self.budget: int | None = None  # requests left before a drop fault closes it

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.gateway._accepted(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.gateway._links.discard(self)

    def write(self, data: bytes | None) -> None:
        transport = self.transport
        if data is not None and transport is not None and not transport.is_closing():
            transport.write(data)


class _TransparentLink(_Link):
    def __init__(self, gateway: TransparentGateway) -> None:
        super().__init__(gateway)
        self.splitter = BusFrameSplitter(gateway.silence)

    def data_received(self, data: bytes) -> None:
        gateway = self.gateway
        bus = gateway.bus
        for kind, frame, raw_len in self.splitter.feed(data, gateway._loop.time()):
            if self.budget is not None and not gateway._count_request(self):
                return
            if kind == DLT645_FRAME:
                bus.request_dlt645(frame, raw_len, self.write)
            else:
                bus.request_modbus(frame.unit_id, frame.pdu, raw_len, self.write)


class _ModbusTcpLink(_Link):
    def __init__(self, gateway: ModbusTcpGateway) -> None:
        super().__init__(gateway)
        self.decoder = TcpDecoder(Direction.REQUEST)
        self.pending: deque[_Slot] = deque()

    def data_received(self, data: bytes) -> None:
        decoder = self.decoder
        for offset in range(0, len(data), 2048):
            decoder.receive_data(data[offset : offset + 2048])
            while True:
                try:
                    event = decoder.next_event()
                except RemoteProtocolError as exc:  # a sound header with an impossible PDU
                    log.debug("gateway %s: dropped a request: %s", self.gateway.name, exc)
                    continue
                if event is NEED_DATA:
                    break
                if self.budget is not None and not self.gateway._count_request(self):
                    return
                self._request(event)  # type: ignore[arg-type]

    def _request(self, frame: TcpFrame) -> None:
        gateway: ModbusTcpGateway = self.gateway  # type: ignore[assignment]
        unit_id, pdu = frame.unit_id, frame.pdu
        slot = _Slot(frame.transaction_id, unit_id, pdu.function_code)
        self.pending.append(slot)
        raw_len = len(pdu.encode()) + 3 if gateway.bus.timing else 0  # unit id + PDU + CRC
        if unit_id > MAX_UNIT_ID:
            self._done(slot, self._exception(slot, ExceptionCode.GATEWAY_PATH_UNAVAILABLE))
        elif unit_id == 0:  # broadcast: every meter acts, nobody answers
            gateway.bus.request_modbus(0, pdu, raw_len, partial(self._silent, slot))
        else:
            gateway.bus.request_modbus(
                unit_id, pdu, raw_len, partial(self._reply, slot), timeout=gateway.timeout
            )

    def _silent(self, slot: _Slot, _reply: bytes | None) -> None:
        self._done(slot, None)

    def _reply(self, slot: _Slot, rtu: bytes | None) -> None:
        if (
            rtu is None
            or len(rtu) < 4
            or rtu[0] != slot.unit_id
            or crc16_modbus(rtu[:-2]) != rtu[-2] | rtu[-1] << 8
        ):
            self.gateway.failed += 1
            self._done(slot, self._exception(slot, ExceptionCode.GATEWAY_TARGET_FAILED_TO_RESPOND))
            return
        body = rtu[1:-2]
        tid = slot.transaction_id
        mbap = bytes((tid >> 8, tid & 0xFF, 0, 0, 0, len(body) + 1))
        self._done(slot, mbap + rtu[:1] + body)

    @staticmethod
    def _exception(slot: _Slot, code: ExceptionCode) -> bytes:
        pdu = ExceptionResponse(slot.function_code & 0x7F, code)
        return encode_tcp(slot.transaction_id, slot.unit_id, pdu)

    def _done(self, slot: _Slot, data: bytes | None) -> None:
        slot.data = data
        slot.done = True
        pending = self.pending
        while pending and pending[0].done:
            self.write(pending.popleft().data)


class _Slot:
    """A Modbus-TCP request waiting for its answer, in arrival order."""

    __slots__ = ("data", "done", "function_code", "transaction_id", "unit_id")

    def __init__(self, transaction_id: int, unit_id: int, function_code: int) -> None:
        self.transaction_id = transaction_id
        self.unit_id = unit_id
        self.function_code = function_code
        self.data: bytes | None = None
        self.done = False


class _Gateway:
    """What both gateways share: the server, its connections and the gateway faults."""

    _link_class: type[_Link] = _Link

    def __init__(
        self,
        spec: GatewaySpec,
        bus: Bus,
        faults: FaultBook,
        *,
        host: str | None = None,
        port: int | None = None,
    ) -> None:
        self.spec = spec
        self.name = spec.name
        self.bus = bus
        self.faults = faults
        self.host = spec.host if host is None else host
        self._port = spec.port if port is None else port
        self._server: asyncio.Server | None = None
        self._links: set[_Link] = set()
        self._started = False
        self._reopening: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop = None  # type: ignore[assignment]
        self.accepted = 0
        self.refused = 0
        self.dropped = 0
        self.failed = 0

    @property
    def port(self) -> int:
        """The listening port (the real one once started, when the spec said 0)."""
        return self._port

    @property
    def listening(self) -> bool:
        return self._server is not None

    @property
    def connections(self) -> int:
        return len(self._links)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._started = True
        self.faults.watch(self.name, self.apply_gateway_faults)
        if not self._refusing():
            await self._open()
        self.apply_gateway_faults()

    async def stop(self) -> None:
        self._started = False
        self.faults.unwatch(self.name, self.apply_gateway_faults)
        if self._reopening is not None:
            self._reopening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reopening
            self._reopening = None
        server, self._server = self._server, None
        if server is not None:
            server.close()
        self.drop_connections(count=False)
        self.bus.cancel_pending()
        if server is not None:
            await server.wait_closed()

    def drop_connections(self, *, count: bool = True) -> int:
        """Close every open connection now; returns how many."""
        links = list(self._links)
        for link in links:
            self._close(link)
        if count:
            self.dropped += len(links)
        return len(links)

    def stats(self) -> dict:
        return {
            "port": self._port,
            "listening": self.listening,
            "connections": len(self._links),
            "accepted": self.accepted,
            "refused": self.refused,
            "dropped": self.dropped,
            "failed": self.failed,
            "bus": self.bus.stats(),
        }

    # --- faults ------------------------------------------------------------------------------

    def apply_gateway_faults(self) -> None:
        """Bring the server in line with the gateway's faults in the book (the book calls it
        on every change of them)."""
        if not self._started:
            return
        if self._refusing():
            server, self._server = self._server, None
            if server is not None:
                server.close()  # the listening socket goes now; connects are refused
        elif self._server is None and (self._reopening is None or self._reopening.done()):
            self._reopening = self._loop.create_task(self._reopen())
        for link in list(self._links):
            drop = self.faults.gateway_fault(self.name, FaultKind.DROP)
            if drop is None:
                link.budget = None
                continue
            if link.budget is None:
                link.budget = drop.after
            if link.budget <= 0:
                self._drop(link)

    def _refusing(self) -> bool:
        refuse = self.faults.gateway_fault(self.name, FaultKind.REFUSE)
        return refuse is not None and refuse.count is None

    async def _reopen(self) -> None:
        while self._started and self._server is None and not self._refusing():
            try:
                await self._open()
            except OSError as exc:
                log.warning("gateway %s: cannot listen again on %s: %s", self.name, self._port, exc)
                await asyncio.sleep(0.2)
        if self._server is not None and (not self._started or self._refusing()):
            server, self._server = self._server, None
            server.close()

    async def _open(self) -> None:
        link_class = self._link_class
        server = await self._loop.create_server(
            lambda: link_class(self), self.host, self._port, reuse_address=True
        )
        self._server = server
        self._port = server.sockets[0].getsockname()[1]

    def _accepted(self, link: _Link) -> None:
        transport = link.transport
        assert transport is not None
        if self.faults.gateway_fault(self.name, FaultKind.REFUSE) is not None:
            self.faults.consume_gateway(self.name, FaultKind.REFUSE)
            self.refused += 1
            transport.abort()
            return
        self.accepted += 1
        self._links.add(link)
        drop = self.faults.gateway_fault(self.name, FaultKind.DROP)
        if drop is not None:
            link.budget = drop.after
            if drop.after <= 0:
                self._drop(link)

    def _count_request(self, link: _Link) -> bool:
        """A request arrived on a connection under a drop fault: serve it, or close."""
        budget = link.budget
        if budget is None:
            return True
        if budget <= 0:
            self._drop(link)
            return False
        link.budget = budget - 1
        return True

    def _drop(self, link: _Link) -> None:
        self.dropped += 1
        self._close(link)
        self.faults.consume_gateway(self.name, FaultKind.DROP)

    def _close(self, link: _Link) -> None:
        self._links.discard(link)
        link.budget = None
        if link.transport is not None:
            link.transport.close()


class TransparentGateway(_Gateway):
    """Raw bus bytes over TCP, both directions; several clients may share the bus."""

    _link_class = _TransparentLink

    def __init__(
        self,
        spec: GatewaySpec,
        bus: Bus,
        faults: FaultBook,
        *,
        host: str | None = None,
        port: int | None = None,
    ) -> None:
        super().__init__(spec, bus, faults, host=host, port=port)
        self.silence = max(3.5 * bus.byte_time, MIN_SILENCE)


class ModbusTcpGateway(_Gateway):
    """Modbus-TCP in front of a Modbus-RTU bus; ``timeout`` is how long it waits for a meter
    (with bus timing off it answers at once)."""

    _link_class = _ModbusTcpLink

    def __init__(
        self,
        spec: GatewaySpec,
        bus: Bus,
        faults: FaultBook,
        *,
        host: str | None = None,
        port: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        super().__init__(spec, bus, faults, host=host, port=port)
        if timeout <= 0:
            raise ValueError("the gateway timeout must be more than 0 seconds")
        self.timeout = timeout


def make_gateway(
    spec: GatewaySpec, bus: Bus, faults: FaultBook, **options: Any
) -> TransparentGateway | ModbusTcpGateway:
    """The gateway class the spec's transport calls for."""
    if spec.transport == MODBUS_TCP:
        return ModbusTcpGateway(spec, bus, faults, **options)
    options.pop("timeout", None)
    return TransparentGateway(spec, bus, faults, **options)
