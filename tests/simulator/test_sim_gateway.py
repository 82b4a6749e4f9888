"""Gateways: the bus frame splitter, a mixed transparent bus, the Modbus-TCP gateway."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

import pytest

from openprepaid.protocol.dlt645 import decode_frame, parse_reply
from openprepaid.protocol.dlt645.frame import Frame
from openprepaid.protocol.dlt645.replies import ReadReply
from openprepaid.protocol.dlt645.requests import ReadRequest, encode_request
from openprepaid.protocol.modbus import (
    Direction,
    ExceptionCode,
    ExceptionResponse,
    ReadHoldingRegistersRequest,
    ReadHoldingRegistersResponse,
    TcpDecoder,
    WriteMultipleRegistersRequest,
)
from openprepaid.protocol.modbus.common import NEED_DATA
from openprepaid.protocol.modbus.rtu import RtuFrame, encode_rtu
from openprepaid.protocol.modbus.rtu import decode_frame as decode_rtu
from openprepaid.protocol.modbus.tcp import TcpFrame, encode_tcp
from openprepaid.protocol.security.keys import MasterKey, MeterKey
from openprepaid.simulator.bus import Bus
from openprepaid.simulator.clock import ManualClock
from openprepaid.simulator.faults import Fault, FaultBook, FaultKind
from openprepaid.simulator.gateway import (
    DLT645_FRAME,
    RTU_FRAME,
    BusFrameSplitter,
    ModbusTcpGateway,
    TransparentGateway,
    make_gateway,
)
from openprepaid.simulator.meter import SimMeter
from openprepaid.simulator.sitespec import (
    DLT645,
    MODBUS,
    MODBUS_TCP,
    PROFILE,
    GatewaySpec,
    MeterSpec,
)

START = datetime(2026, 3, 2, 10, 0)  # noqa: DTZ001 - meters keep naive local time
MASTER = MasterKey(bytes(range(1, 17)))
REMAINING = 0x00900200


def sim_meter(address: str, protocol: str = DLT645) -> SimMeter:
    spec = MeterSpec(address, protocol=protocol, profile=PROFILE[protocol, 1])
    return SimMeter(spec, seed=3, now=START, meter_key=MeterKey.derive(MASTER, spec.meter_number))


def gateway_for(meters, *, transport="transparent_tcp", timing=True, baud_rate=9600, **kw):
    spec = GatewaySpec(
        "GW9",
        transport=transport,
        port=0,
        baud_rate=baud_rate,
        meters=tuple(m.spec for m in meters),
    )
    faults = FaultBook()
    bus = Bus(
        spec.name,
        baud_rate=spec.baud_rate,
        bits_per_byte=spec.bits_per_byte,
        meters=meters,
        clock=ManualClock(START),
        faults=faults,
        timing=timing,
    )
    return make_gateway(spec, bus, faults, **kw)


# --- the splitter --------------------------------------------------------------------------

DLT = encode_request(ReadRequest("300001000001", REMAINING))  # FE FE FE FE 68 … 16
RTU = encode_rtu(5, ReadHoldingRegistersRequest(0x0000, 0x11))


def feed_all(splitter: BusFrameSplitter, chunks, now: float = 1.0):
    out = []
    for chunk in chunks:
        out.extend(splitter.feed(chunk, now))
    return out


def test_splitter_takes_a_dlt645_frame_with_its_preamble():
    events = feed_all(BusFrameSplitter(), [DLT])
    assert len(events) == 1
    kind, frame, raw_len = events[0]
    assert kind == DLT645_FRAME
    assert isinstance(frame, Frame)
    assert frame.address == "300001000001"
    assert raw_len == len(DLT)


def test_splitter_takes_an_rtu_request():
    ((kind, frame, raw_len),) = feed_all(BusFrameSplitter(), [RTU])
    assert kind == RTU_FRAME
    assert frame == RtuFrame(5, ReadHoldingRegistersRequest(0, 0x11))
    assert raw_len == len(RTU)


def test_splitter_handles_bytes_one_at_a_time():
    splitter = BusFrameSplitter()
    stream = DLT + RTU + DLT
    events = feed_all(splitter, [bytes((b,)) for b in stream])
    assert [e[0] for e in events] == [DLT645_FRAME, RTU_FRAME, DLT645_FRAME]
    assert sum(e[2] for e in events) == len(stream)
    assert splitter.buffered == 0
    assert splitter.dropped == 0


def test_splitter_drops_garbage_before_frames():
    splitter = BusFrameSplitter()
    garbage = b"\x00\x11\x22\x68\x99\x01\x03\x33"
    events = feed_all(splitter, [garbage + DLT + b"\x42\x13" + RTU])
    assert [e[0] for e in events] == [DLT645_FRAME, RTU_FRAME]
    assert splitter.dropped == len(garbage) + 2
    assert splitter.buffered == 0


def test_splitter_resyncs_after_a_bad_checksum():
    bad = bytearray(DLT)
    bad[-2] ^= 0x01
    splitter = BusFrameSplitter()
    events = feed_all(splitter, [bytes(bad) + DLT])
    assert [e[0] for e in events] == [DLT645_FRAME]
    assert splitter.dropped == len(DLT)


def test_splitter_modbus_unit_0x68_edge():
    # unit id 0x68 starts like a DL/T 645 frame; its "address" bytes 03 00 01 00 02 are BCD
    rtu = encode_rtu(0x68, ReadHoldingRegistersRequest(0x0001, 0x0002))
    assert rtu[:6] == bytes.fromhex("680300010002")
    assert rtu[7] != 0x68
    for chunks in ([rtu], [bytes((b,)) for b in rtu], [rtu + DLT], [rtu[:5], rtu[5:] + DLT]):
        splitter = BusFrameSplitter()
        events = feed_all(splitter, chunks)
        assert events[0][0] == RTU_FRAME
        assert events[0][1].unit_id == 0x68
        assert [e[0] for e in events[1:]] == [DLT645_FRAME] * (len(events) - 1)
        assert splitter.dropped == 0


def test_splitter_unit_0x68_that_could_still_be_a_dlt645_frame():
    # a write-multiple request to unit 0x68 whose bytes read as a plausible DL/T 645 header
    rtu = encode_rtu(0x68, WriteMultipleRegistersRequest(0x0000, (0x6800,) * 3))
    assert rtu[7] == 0x68  # the second 68 of a DL/T 645 header is there too
    for chunks in ([rtu], [bytes((b,)) for b in rtu]):
        splitter = BusFrameSplitter()
        events = feed_all(splitter, chunks)
        assert [e[0] for e in events] == [RTU_FRAME]
        assert events[0][1].pdu.values == (0x6800,) * 3


def test_splitter_discards_a_partial_frame_after_line_silence():
    splitter = BusFrameSplitter(silence=0.05)
    assert splitter.feed(DLT[:10], now=1.0) == []
    assert splitter.buffered == 10
    # the rest arrives too late: the partial is thrown away, the new bytes stand alone
    assert splitter.feed(DLT[10:], now=1.2) == []
    assert splitter.feed(DLT, now=1.21)[0][0] == DLT645_FRAME
    assert splitter.dropped >= 10
    # in time, it completes
    splitter = BusFrameSplitter(silence=0.05)
    splitter.feed(DLT[:10], now=1.0)
    assert splitter.feed(DLT[10:], now=1.04)[0][1].address == "300001000001"


def test_splitter_keeps_lone_wake_up_bytes_for_the_next_frame():
    splitter = BusFrameSplitter()
    assert splitter.feed(b"\xfe\xfe", 1.0) == []
    (event,) = splitter.feed(DLT.lstrip(b"\xfe"), 1.0)
    assert event[2] == len(DLT.lstrip(b"\xfe")) + 2


# --- transparent gateway -------------------------------------------------------------------


async def read_some(reader: asyncio.StreamReader, size: int, timeout: float = 5.0) -> bytes:
    buf = b""
    while len(buf) < size:
        chunk = await asyncio.wait_for(reader.read(size - len(buf)), timeout)
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    return buf


def test_mixed_bus_answers_dlt645_and_modbus_rtu_meters():
    dlt = sim_meter("300001000001")
    rtu_meter = sim_meter("5", MODBUS)

    async def scenario():
        gateway = gateway_for([dlt, rtu_meter])
        assert isinstance(gateway, TransparentGateway)
        await gateway.start()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
            writer.write(DLT)
            reply = ReadReply.of("300001000001", REMAINING, 0)
            expected_len = len(reply.to_frame().data) + 12 + dlt.reply_preamble
            first = await read_some(reader, expected_len)
            writer.write(RTU)
            second = await read_some(reader, 5 + 2 * 0x11)
            writer.close()
            return first, second
        finally:
            await gateway.stop()

    first, second = asyncio.run(scenario())
    reply = parse_reply(decode_frame(first))
    assert reply.address == "300001000001"
    assert reply.di == REMAINING
    frame = decode_rtu(second, Direction.RESPONSE)
    assert frame.unit_id == 5
    assert isinstance(frame.pdu, ReadHoldingRegistersResponse)
    assert len(frame.pdu.registers) == 0x11


def test_gateway_reports_its_ephemeral_port_and_stop_closes_connections():
    async def scenario():
        gateway = gateway_for([sim_meter("300001000001")])
        await gateway.start()
        port = gateway.port
        assert port > 0
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        await asyncio.sleep(0.02)
        assert gateway.connections == 1
        await gateway.stop()
        eof = await asyncio.wait_for(reader.read(10), 2)
        writer.close()
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection("127.0.0.1", port)
        return eof

    assert asyncio.run(scenario()) == b""


# --- Modbus-TCP gateway --------------------------------------------------------------------


async def read_tcp(reader: asyncio.StreamReader, count: int, timeout: float = 5.0):
    decoder = TcpDecoder(Direction.RESPONSE)
    frames: list[TcpFrame] = []
    while len(frames) < count:
        chunk = await asyncio.wait_for(reader.read(4096), timeout)
        if not chunk:
            raise ConnectionError("closed")
        decoder.receive_data(chunk)
        while (event := decoder.next_event()) is not NEED_DATA:
            frames.append(event)
    return frames


def modbus_meters(*unit_ids: int):
    return [sim_meter(str(u), MODBUS) for u in unit_ids]


def test_modbus_tcp_echoes_the_transaction_id_and_unit():
    async def scenario():
        gateway = gateway_for(modbus_meters(1, 2), transport=MODBUS_TCP)
        assert isinstance(gateway, ModbusTcpGateway)
        await gateway.start()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
            writer.write(encode_tcp(0xBEEF, 2, ReadHoldingRegistersRequest(0, 4)))
            (frame,) = await read_tcp(reader, 1)
            writer.close()
            return frame
        finally:
            await gateway.stop()

    frame = asyncio.run(scenario())
    assert frame.transaction_id == 0xBEEF
    assert frame.unit_id == 2
    assert isinstance(frame.pdu, ReadHoldingRegistersResponse)
    assert len(frame.pdu.registers) == 4


@pytest.mark.parametrize("timing", [True, False])
def test_modbus_tcp_unknown_unit_gets_0x0b_after_the_timeout(timing):
    async def scenario():
        gateway = gateway_for(modbus_meters(1), transport=MODBUS_TCP, timing=timing, timeout=0.3)
        await gateway.start()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
            began = time.monotonic()
            writer.write(encode_tcp(7, 99, ReadHoldingRegistersRequest(0, 2)))
            (frame,) = await read_tcp(reader, 1)
            took = time.monotonic() - began
            writer.close()
            return frame, took
        finally:
            await gateway.stop()

    frame, took = asyncio.run(scenario())
    assert frame.transaction_id == 7
    assert frame.unit_id == 99
    assert frame.pdu == ExceptionResponse(0x03, ExceptionCode.GATEWAY_TARGET_FAILED_TO_RESPOND)
    if timing:
        assert 0.3 <= took < 0.5
    else:
        assert took < 0.25


def test_modbus_tcp_pipelined_requests_are_answered_in_order():
    async def scenario():
        gateway = gateway_for(modbus_meters(1, 2, 3), transport=MODBUS_TCP, timeout=0.1)
        await gateway.start()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
            plan = [(100, 3, 2), (101, 1, 5), (102, 42, 1), (103, 250, 1), (104, 2, 3)]
            writer.write(
                b"".join(encode_tcp(t, u, ReadHoldingRegistersRequest(0, n)) for t, u, n in plan)
            )
            frames = await read_tcp(reader, len(plan))
            writer.close()
            return plan, frames
        finally:
            await gateway.stop()

    plan, frames = asyncio.run(scenario())
    assert [f.transaction_id for f in frames] == [t for t, _, _ in plan]
    assert [f.unit_id for f in frames] == [u for _, u, _ in plan]
    assert len(frames[0].pdu.registers) == 2
    assert len(frames[1].pdu.registers) == 5
    assert frames[2].pdu.exception is ExceptionCode.GATEWAY_TARGET_FAILED_TO_RESPOND
    assert frames[3].pdu.exception is ExceptionCode.GATEWAY_PATH_UNAVAILABLE
    assert len(frames[4].pdu.registers) == 3


def test_modbus_tcp_bad_crc_from_the_meter_becomes_0x0b():
    async def scenario():
        gateway = gateway_for(modbus_meters(1), transport=MODBUS_TCP, timeout=0.2)
        await gateway.start()
        gateway.faults.add(Fault(FaultKind.BAD_CHECKSUM, "GW9", "1", count=1))
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
            writer.write(encode_tcp(1, 1, ReadHoldingRegistersRequest(0, 2)))
            writer.write(encode_tcp(2, 1, ReadHoldingRegistersRequest(0, 2)))
            frames = await read_tcp(reader, 2)
            writer.close()
            return frames, gateway.failed
        finally:
            await gateway.stop()

    frames, failed = asyncio.run(scenario())
    assert frames[0].pdu.exception is ExceptionCode.GATEWAY_TARGET_FAILED_TO_RESPOND
    assert isinstance(frames[1].pdu, ReadHoldingRegistersResponse)
    assert failed == 1
