"""The simulated RS-485 bus: dispatch, frame timing, queueing; measured over real sockets."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from openprepaid.protocol.dlt645 import decode_frame, encode_frame, parse_reply
from openprepaid.protocol.dlt645.frame import BROADCAST_ADDRESS, WILDCARD_ADDRESS, Frame
from openprepaid.protocol.dlt645.replies import ReadAddressReply, ReadReply
from openprepaid.protocol.dlt645.requests import (
    BroadcastTimeRequest,
    ReadAddressRequest,
    ReadRequest,
    encode_request,
)
from openprepaid.protocol.modbus import (
    Direction,
    ReadHoldingRegistersRequest,
    ReadHoldingRegistersResponse,
)
from openprepaid.protocol.modbus.rtu import decode_frame as decode_rtu
from openprepaid.protocol.security.keys import MasterKey, MeterKey
from openprepaid.simulator.bus import Bus
from openprepaid.simulator.clock import ManualClock
from openprepaid.simulator.faults import FaultBook
from openprepaid.simulator.gateway import TransparentGateway
from openprepaid.simulator.meter import SimMeter
from openprepaid.simulator.sitespec import DLT645, MODBUS, PROFILE, GatewaySpec, MeterSpec

START = datetime(2026, 3, 2, 10, 0)  # noqa: DTZ001 - meters keep naive local time
MASTER = MasterKey(bytes(range(1, 17)))
REMAINING = 0x00900200  # remaining amount: a short reply


class Device:
    """A minimal bus device honouring the SimMeter contract (answers reads with zeros)."""

    protocol = DLT645
    unit_id = None
    reply_preamble = 0

    def __init__(self, address: str, turnaround: float) -> None:
        self.address = address
        self.turnaround = turnaround
        self.heard: list[tuple[Frame, datetime]] = []

    def handle_dlt645(self, frame: Frame, now: datetime) -> Frame | None:
        self.heard.append((frame, now))
        if frame.address == BROADCAST_ADDRESS:
            return None
        di = int.from_bytes(frame.data[:4], "little")
        return ReadReply.of(self.address, di, Decimal("12.34")).to_frame()

    def handle_modbus(self, pdu: object, now: datetime) -> None:
        return None


def sim_meter(address: str, protocol: str = DLT645) -> SimMeter:
    spec = MeterSpec(address, protocol=protocol, profile=PROFILE[protocol, 1])
    key = MeterKey.derive(MASTER, spec.meter_number)
    return SimMeter(spec, seed=7, now=START, meter_key=key)


def make_bus(meters, *, baud_rate=2400, bits=11, timing=True, clock=None) -> Bus:
    return Bus(
        "GW1",
        baud_rate=baud_rate,
        bits_per_byte=bits,
        meters=meters,
        clock=clock or ManualClock(START),
        faults=FaultBook(),
        timing=timing,
    )


def read_frame(address: str, di: int = REMAINING) -> bytes:
    return encode_request(ReadRequest(address, di))


async def read_dlt645(reader: asyncio.StreamReader, timeout: float = 5.0) -> bytes:
    """The raw bytes of one complete DL/T 645 frame (FE preamble included)."""
    buf = b""
    while True:
        chunk = await asyncio.wait_for(reader.read(4096), timeout)
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
        body = buf.lstrip(b"\xfe")
        if len(body) >= 12 and len(body) >= 12 + body[9]:
            return buf


def test_frame_time_is_bytes_times_bits_over_baud():
    bus = make_bus([], baud_rate=2400, bits=11)
    assert bus.frame_time(20) == pytest.approx(20 * 11 / 2400)
    assert bus.frame_time(1) == pytest.approx(0.004583, abs=1e-6)
    assert make_bus([], baud_rate=9600, bits=10).frame_time(24) == pytest.approx(0.025)


def test_timing_off_dispatches_by_address_and_answers_at_once():
    meters = [sim_meter("300001000001"), sim_meter("300001000002"), sim_meter("7", MODBUS)]
    bus = make_bus(meters, timing=False)
    got: list[bytes | None] = []
    bus.request_dlt645(ReadRequest("300001000002", REMAINING).to_frame(), 16, got.append)
    reply = parse_reply(decode_frame(got[-1]))
    assert isinstance(reply, ReadReply)
    assert reply.address == "300001000002"
    assert reply.di == REMAINING
    # nobody at this address: no reply
    bus.request_dlt645(ReadRequest("300001000009", REMAINING).to_frame(), 16, got.append)
    assert got[-1] is None
    # Modbus by unit id; reply is an RTU frame from that unit
    bus.request_modbus(7, ReadHoldingRegistersRequest(0, 2), 8, got.append)
    rtu = decode_rtu(got[-1], Direction.RESPONSE)
    assert rtu.unit_id == 7
    assert isinstance(rtu.pdu, ReadHoldingRegistersResponse)
    assert len(rtu.pdu.registers) == 2
    bus.request_modbus(8, ReadHoldingRegistersRequest(0, 2), 8, got.append)
    assert got[-1] is None
    assert bus.requests == 4
    assert bus.replies == 2
    assert bus.silent == 2
    assert set(bus.meters) == {"300001000001", "300001000002", "7"}


def test_broadcast_reaches_every_meter_and_nobody_replies():
    devices = [Device(f"30000100000{n}", 0.01) for n in range(1, 4)]
    bus = make_bus(devices, timing=False)
    got: list[bytes | None] = []
    frame = BroadcastTimeRequest(START - timedelta(hours=1)).to_frame()
    bus.request_dlt645(frame, 22, got.append)
    assert got == [None]
    assert all(len(d.heard) == 1 and d.heard[0][0] == frame for d in devices)


def test_broadcast_time_sets_the_clocks_of_real_meters():
    meters = [sim_meter("300001000001"), sim_meter("300001000002")]
    clock = ManualClock(START)
    bus = make_bus(meters, timing=False, clock=clock)
    got: list[bytes | None] = []
    target = START - timedelta(minutes=30)
    bus.request_dlt645(BroadcastTimeRequest(target).to_frame(), 22, got.append)
    assert got == [None]
    for meter in meters:
        assert abs(meter.meter_time(START) - target) < timedelta(seconds=2)


def test_wildcard_address_is_answered_by_the_meter_on_the_bus():
    bus = make_bus([sim_meter("300001000042")], timing=False)
    got: list[bytes | None] = []
    bus.request_dlt645(ReadAddressRequest(WILDCARD_ADDRESS).to_frame(), 16, got.append)
    reply = parse_reply(decode_frame(got[0]))
    assert isinstance(reply, ReadAddressReply)
    assert reply.address == "300001000042"
    # a shortened address matches on its given digits only
    bus.request_dlt645(ReadRequest("AAAAAA000042", REMAINING).to_frame(), 16, got.append)
    assert parse_reply(decode_frame(got[1])).address == "300001000042"
    bus.request_dlt645(ReadRequest("AAAAAA000043", REMAINING).to_frame(), 16, got.append)
    assert got[2] is None


def test_modbus_broadcast_unit_zero_gets_no_reply():
    bus = make_bus([sim_meter("1", MODBUS), sim_meter("2", MODBUS)], timing=False)
    got: list[bytes | None] = []
    bus.request_modbus(0, ReadHoldingRegistersRequest(0, 1), 8, got.append)
    assert got == [None]


def test_timed_requests_queue_fifo_on_absolute_deadlines():
    devices = [Device("300001000001", 0.030), Device("300001000002", 0.050)]

    async def scenario():
        loop = asyncio.get_running_loop()
        bus = make_bus(devices, baud_rate=9600, bits=11)
        done: list[tuple[int, float, bytes | None]] = []
        t0 = loop.time()
        plan = [devices[0], devices[1], devices[0], devices[1]]
        for n, device in enumerate(plan):
            frame = ReadRequest(device.address, REMAINING).to_frame()
            bus.request_dlt645(frame, 20, lambda r, n=n: done.append((n, loop.time(), r)))
        assert bus.queued == 3
        while len(done) < len(plan):
            await asyncio.sleep(0.01)
        return bus, t0, done, plan

    bus, t0, done, plan = asyncio.run(scenario())
    assert [n for n, _, _ in done] == [0, 1, 2, 3]
    expected = t0
    for (_, at, reply), device in zip(done, plan, strict=True):
        assert reply is not None
        expected += bus.frame_time(20) + device.turnaround + bus.frame_time(len(reply))
        assert expected - 0.001 <= at <= expected + 0.03
    # each meter handled its request after the request frame and its turnaround
    assert bus.busy_seconds == pytest.approx(done[-1][1] - t0, abs=0.02)
    assert bus.requests == bus.replies == 4


def test_master_timeout_gives_none_and_holds_the_line():
    async def scenario():
        loop = asyncio.get_running_loop()
        bus = make_bus([], baud_rate=9600, bits=11)
        done: list[tuple[float, bytes | None]] = []
        t0 = loop.time()
        pdu = ReadHoldingRegistersRequest(0, 2)
        bus.request_modbus(9, pdu, 8, lambda r: done.append((loop.time(), r)), timeout=0.2)
        bus.request_modbus(9, pdu, 8, lambda r: done.append((loop.time(), r)), timeout=0.2)
        while len(done) < 2:
            await asyncio.sleep(0.01)
        return bus, t0, done

    bus, t0, done = asyncio.run(scenario())
    step = bus.frame_time(8) + 0.2
    assert done[0][1] is None
    assert done[1][1] is None
    assert t0 + step - 0.001 <= done[0][0] <= t0 + step + 0.015
    assert t0 + 2 * step - 0.001 <= done[1][0] <= t0 + 2 * step + 0.02


def _site(meters, *, baud_rate: int, timing: bool = True):
    spec = GatewaySpec("GW1", port=0, baud_rate=baud_rate, meters=tuple(m.spec for m in meters))
    faults = FaultBook()
    bus = Bus(
        "GW1",
        baud_rate=spec.baud_rate,
        bits_per_byte=spec.bits_per_byte,
        meters=meters,
        clock=ManualClock(START),
        faults=faults,
        timing=timing,
    )
    return TransparentGateway(spec, bus, faults), bus


def test_sweep_of_32_meters_at_2400_baud_takes_the_sum_of_frame_times():
    meters = [sim_meter(f"30000100{n:04d}") for n in range(1, 33)]

    async def sweep():
        gateway, bus = _site(meters, baud_rate=2400)
        await gateway.start()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
            expected = 0.0
            began = time.monotonic()
            for meter in meters:
                request = read_frame(meter.address)
                writer.write(request)
                raw = await read_dlt645(reader)
                assert parse_reply(decode_frame(raw)).address == meter.address
                expected += (
                    bus.frame_time(len(request)) + meter.turnaround + bus.frame_time(len(raw))
                )
            took = time.monotonic() - began
            writer.close()
            return expected, took
        finally:
            await gateway.stop()

    expected, took = asyncio.run(sweep())
    assert expected > 5.0  # 32 × (~90 ms out + 20..80 ms turnaround + ~90 ms back)
    assert expected - 0.005 <= took <= expected * 1.05


def test_two_clients_share_the_line_one_request_at_a_time():
    meters = [sim_meter(f"30000100{n:04d}") for n in range(1, 17)]

    async def client(port: int, mine, bus: Bus) -> float:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        total = 0.0
        for meter in mine:
            request = read_frame(meter.address)
            writer.write(request)
            raw = await read_dlt645(reader)
            assert parse_reply(decode_frame(raw)).address == meter.address
            total += bus.frame_time(len(request)) + meter.turnaround + bus.frame_time(len(raw))
        writer.close()
        return total

    async def scenario():
        gateway, bus = _site(meters, baud_rate=9600)
        await gateway.start()
        try:
            began = time.monotonic()
            sums = await asyncio.gather(
                client(gateway.port, meters[:8], bus), client(gateway.port, meters[8:], bus)
            )
            return sums, time.monotonic() - began
        finally:
            await gateway.stop()

    sums, took = asyncio.run(scenario())
    assert took >= sum(sums) * 0.97  # they waited for each other: the sum, not the max
    assert took <= sum(sums) * 1.05 + 0.02
    assert max(sums) < sum(sums) * 0.7


def test_timing_off_answers_many_pipelined_requests():
    meters = [sim_meter(f"30000100{n:04d}") for n in range(1, 33)]

    async def scenario():
        gateway, bus = _site(meters, baud_rate=2400, timing=False)
        await gateway.start()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
            order = [meters[n % 32].address for n in range(3000)]
            writer.write(b"".join(read_frame(a) for a in order))
            seen = []
            buf = b""
            while len(seen) < len(order):
                buf += await asyncio.wait_for(reader.read(65536), 10)
                while True:
                    body = buf.lstrip(b"\xfe")
                    if len(body) < 12 or len(body) < 12 + body[9]:
                        break
                    size = len(buf) - len(body) + 12 + body[9]
                    seen.append(parse_reply(decode_frame(buf[:size])).address)
                    buf = buf[size:]
            writer.close()
            return order, seen, bus
        finally:
            await gateway.stop()

    began = time.monotonic()
    order, seen, bus = asyncio.run(scenario())
    assert seen == order
    assert bus.requests == bus.replies == 3000
    assert bus.busy_seconds == 0.0
    assert time.monotonic() - began < 20  # 3000 timed reads would take ten minutes


def test_meter_failure_does_not_stop_the_line():
    class Broken(Device):
        def handle_dlt645(self, frame, now):
            raise RuntimeError("model bug")

    bus = make_bus([Broken("300001000001", 0.01), Device("300001000002", 0.01)], timing=False)
    got: list[bytes | None] = []
    bus.request_dlt645(ReadRequest("300001000001", REMAINING).to_frame(), 16, got.append)
    bus.request_dlt645(ReadRequest("300001000002", REMAINING).to_frame(), 16, got.append)
    assert got[0] is None
    assert decode_frame(got[1]).address == "300001000002"
    assert encode_frame(decode_frame(got[1]), 0) == got[1]
