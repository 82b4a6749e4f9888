"""One request at a time on a line: framing, reply matching, timeouts, the inter-frame gap and
round-trip statistics.

:class:`LineBus` turns a DL/T 645 request or a Modbus PDU into bytes for the line's transport
(DL/T 645 and Modbus-RTU as they are on a transparent gateway, Modbus-TCP with MBAP and
transaction ids on a Modbus-TCP gateway), waits for the matching reply and returns it typed.
Abnormal replies (a meter's "no") are returned, not raised; no reply raises
:class:`~openprepaid.headend.transport.ReplyTimeout`, a dead connection
:class:`~openprepaid.headend.transport.LinkLost`.

The timeout of a request is the time its frame and the expected reply take on the bus at the
line's baud rate, plus the meter's turnaround allowance and the network slack; requests are
spaced by the inter-frame gap (character times at the line's baud rate).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from openprepaid.headend.model import LineConfig
from openprepaid.headend.options import HeadendOptions
from openprepaid.headend.transport import Link, frame_seconds
from openprepaid.protocol.dlt645 import NEED_DATA as DLT_NEED_DATA
from openprepaid.protocol.dlt645 import Decoder, Frame, Reply, encode_request, parse_reply
from openprepaid.protocol.dlt645.requests import BroadcastTimeRequest, ReadRequest
from openprepaid.protocol.dlt645.requests import Request as DltRequest
from openprepaid.protocol.errors import RemoteProtocolError
from openprepaid.protocol.modbus import (
    NEED_DATA,
    Direction,
    ReadHoldingRegistersRequest,
    RtuDecoder,
    TcpDecoder,
    encode_rtu,
    encode_tcp,
)
from openprepaid.protocol.modbus import Request as ModbusRequest
from openprepaid.protocol.modbus import Response as ModbusResponse

DLT_READ_REPLY_MAX = 4 + 16 + 24  # preamble + header/DI/CS/16 + the longest reading item
DLT_ACK_REPLY = 12


@dataclass(slots=True)
class BusStats:
    requests: int = 0
    failures: int = 0
    rtt_total: float = 0.0
    rtt_count: int = 0
    rtt_max: float = 0.0

    def take(self) -> BusStats:
        """The counts since the last take, and reset."""
        taken = BusStats(self.requests, self.failures, self.rtt_total, self.rtt_count, self.rtt_max)
        self.requests = self.failures = self.rtt_count = 0
        self.rtt_total = self.rtt_max = 0.0
        return taken


class LineBus:
    def __init__(
        self,
        link: Link,
        line: LineConfig,
        options: HeadendOptions,
        *,
        stats: BusStats | None = None,
        totals: BusStats | None = None,
    ) -> None:
        self.link = link
        self.line = line
        self.options = options
        self.gap = frame_seconds(1, line) * options.inter_frame_chars
        self.stats = stats or BusStats()  # since the last gateway report
        self.totals = totals or BusStats()  # since the start (the status page)
        self._free_at = 0.0
        self._tid = 0

    def timeout_for(self, request_size: int, reply_size: int) -> float:
        return (
            frame_seconds(request_size + reply_size, self.line)
            + self.options.turnaround
            + self.options.network_slack
        )

    async def _gap(self) -> None:
        wait = self._free_at - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)

    async def _exchange(self, data: bytes, accept, reply_size: int):
        await self._gap()
        timeout = self.timeout_for(len(data), reply_size)
        start = time.monotonic()
        for stats in (self.stats, self.totals):
            stats.requests += 1
        try:
            result = await self.link.exchange(data, accept, timeout)
        except Exception:
            for stats in (self.stats, self.totals):
                stats.failures += 1
            raise
        finally:
            self._free_at = time.monotonic() + self.gap
        rtt = time.monotonic() - start
        for stats in (self.stats, self.totals):
            stats.rtt_total += rtt
            stats.rtt_count += 1
            stats.rtt_max = max(stats.rtt_max, rtt)
        return result

    # --- DL/T 645 --------------------------------------------------------------------------

    async def dlt645(self, request: DltRequest) -> Reply:
        """Send a DL/T 645 request and return the meter's reply (normal or abnormal)."""
        data = encode_request(request)
        decoder = Decoder()
        address = request.address
        function = int(request.function)

        def accept(chunk: bytes) -> Reply | None:
            decoder.receive_data(chunk)
            while True:
                event = decoder.next_event()
                if event is DLT_NEED_DATA:
                    return None
                if not isinstance(event, Frame):
                    continue  # garbage: keep hunting until the timeout
                if event.address != address or event.control & 0x1F != function:
                    continue  # not the answer to this request (an echo, another meter)
                try:
                    return parse_reply(event)
                except RemoteProtocolError:
                    continue

        reply_size = DLT_READ_REPLY_MAX if isinstance(request, ReadRequest) else DLT_ACK_REPLY
        return await self._exchange(data, accept, reply_size)

    async def broadcast_time(self, request: BroadcastTimeRequest) -> None:
        """Send a broadcast time sync (never answered) and hold the bus while it is on the line."""
        await self._gap()
        data = encode_request(request)
        self.link.send(data)
        self._free_at = time.monotonic() + frame_seconds(len(data), self.line) + self.gap

    # --- Modbus ----------------------------------------------------------------------------

    async def modbus(self, unit: int, request: ModbusRequest) -> ModbusResponse:
        """Send a Modbus request to ``unit`` and return its response (maybe an exception)."""
        pdu_reply = 2 + 2 * request.count if isinstance(request, ReadHoldingRegistersRequest) else 5
        if self.line.transport == "modbus_tcp":
            self._tid = (self._tid + 1) & 0xFFFF
            tid = self._tid
            data = encode_tcp(tid, unit, request)
            tcp = TcpDecoder(Direction.RESPONSE)

            def accept(chunk: bytes) -> ModbusResponse | None:
                tcp.receive_data(chunk)
                while True:
                    try:
                        event = tcp.next_event()
                    except RemoteProtocolError:
                        continue
                    if event is NEED_DATA:
                        return None
                    if event.transaction_id == tid and event.unit_id == unit:
                        return event.pdu

            # The serial side is behind the gateway: its bus time counts as the RTU frames'.
            reply_size = pdu_reply + 3
            return await self._exchange(data, accept, reply_size)
        data = encode_rtu(unit, request)
        rtu = RtuDecoder(Direction.RESPONSE)
        rtu.expect(unit, request)

        def accept_rtu(chunk: bytes) -> ModbusResponse | None:
            rtu.receive_data(chunk)
            while True:
                try:
                    event = rtu.next_event()
                except RemoteProtocolError:
                    rtu.expect(unit, request)
                    continue
                if event is NEED_DATA:
                    return None
                return event.pdu

        return await self._exchange(data, accept_rtu, pdu_reply + 3)
