"""Communication faults: the fault book, reply mangling, and each fault seen over a socket."""

from __future__ import annotations

import asyncio
import random
import time
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from openprepaid.protocol.dlt645 import decode_frame, parse_reply
from openprepaid.protocol.dlt645.fields import Password
from openprepaid.protocol.dlt645.replies import Ack, ReadReply
from openprepaid.protocol.dlt645.requests import ReadRequest, WriteRequest, encode_request
from openprepaid.protocol.errors import RemoteProtocolError
from openprepaid.protocol.modbus import Direction, ReadHoldingRegistersRequest
from openprepaid.protocol.modbus.rtu import decode_frame as decode_rtu
from openprepaid.protocol.modbus.rtu import encode_rtu
from openprepaid.protocol.security.keys import MasterKey, MeterKey
from openprepaid.simulator.bus import Bus
from openprepaid.simulator.clock import ManualClock
from openprepaid.simulator.faults import (
    Fault,
    FaultBook,
    FaultKind,
    bad_dlt645_checksum,
    bad_modbus_crc,
    extra_fe,
    garble,
)
from openprepaid.simulator.gateway import TransparentGateway
from openprepaid.simulator.meter import SimMeter
from openprepaid.simulator.sitespec import DLT645, MODBUS, PROFILE, GatewaySpec, MeterSpec

START = datetime(2026, 3, 2, 10, 0)  # noqa: DTZ001 - meters keep naive local time
MASTER = MasterKey(bytes(range(1, 17)))
REMAINING = 0x00900200
A, B = "300001000001", "300001000002"
GW = "GW5"


# --- the fault book ------------------------------------------------------------------------


def test_fault_validation_messages():
    with pytest.raises(ValueError, match="meter fault; name the meter"):
        Fault(FaultKind.NO_REPLY, GW)
    with pytest.raises(ValueError, match="gateway fault; it does not take a meter"):
        Fault(FaultKind.DROP, GW, A)
    with pytest.raises(ValueError, match="late_reply needs a delay"):
        Fault(FaultKind.LATE_REPLY, GW, A)
    with pytest.raises(ValueError, match="count must be"):
        Fault(FaultKind.GARBLED, GW, A, count=0)
    with pytest.raises(ValueError, match="unknown fault kind 'fire'"):
        Fault("fire", GW, A)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="fe must be"):
        Fault(FaultKind.EXTRA_FE, GW, A, fe=0)
    with pytest.raises(ValueError, match="after must be"):
        Fault(FaultKind.DROP, GW, after=-1)
    assert Fault("no_reply", GW, A).kind is FaultKind.NO_REPLY  # type: ignore[arg-type]


def test_meter_conditions_are_not_comm_faults():
    assert not FaultKind.CLOCK_DRIFT.comm
    assert not FaultKind.COVER_OPEN.comm
    assert not FaultKind.REVERSE_ENERGY.comm
    assert FaultKind.LOST_REPLY.comm
    assert FaultKind.REFUSE.per_gateway
    assert not FaultKind.OFFLINE.per_gateway
    with pytest.raises(ValueError, match="meter condition"):
        FaultBook().add(Fault(FaultKind.COVER_OPEN, GW, A))


def test_book_lookup_consumes_counts_and_clear_filters():
    book = FaultBook()
    assert book.for_meter(GW, A) == ()
    book.add(Fault(FaultKind.NO_REPLY, GW, A, count=2))
    book.add(Fault(FaultKind.GARBLED, GW, A))
    book.add(Fault(FaultKind.EXTRA_FE, GW, B, fe=3))
    book.add(Fault(FaultKind.REFUSE, "GW6"))
    assert len(book.active()) == 4
    assert {f.kind for f in book.for_meter(GW, A)} == {FaultKind.NO_REPLY, FaultKind.GARBLED}
    assert [f.count for f in book.active() if f.kind is FaultKind.NO_REPLY] == [1]
    assert len(book.for_meter(GW, A)) == 2
    assert [f.kind for f in book.for_meter(GW, A)] == [FaultKind.GARBLED]  # no_reply used up
    assert book.for_meter("GW6", A) == ()
    assert book.clear(kind=FaultKind.GARBLED) == 1
    assert book.for_meter(GW, A) == ()
    assert book.clear(gateway="GW6") == 1
    assert [f.describe() for f in book.active()] == [
        {"kind": "extra_fe", "gateway": GW, "meter": B, "fe": 3}
    ]
    assert book.clear() == 1
    assert book.active() == []


def test_watchers_hear_gateway_fault_changes():
    book = FaultBook()
    heard: list[str] = []
    book.watch(GW, lambda: heard.append("x"))
    book.add(Fault(FaultKind.NO_REPLY, GW, A))
    assert heard == []
    book.add(Fault(FaultKind.DROP, GW, count=1))
    assert heard == ["x"]
    book.consume_gateway(GW, FaultKind.DROP)
    assert heard == ["x", "x"]
    assert book.gateway_fault(GW, FaultKind.DROP) is None


def test_mangling_helpers():
    frame = encode_request(ReadRequest(A, REMAINING))
    assert garble(frame, random.Random(1), skip=4) == garble(frame, random.Random(1), skip=4)
    garbled = garble(frame, random.Random(1), skip=4)
    assert garbled != frame
    assert garbled[:4] == frame[:4]
    bad = bad_dlt645_checksum(frame)
    assert bad[-2] != frame[-2]
    assert bad[:-2] == frame[:-2]
    assert bad[-1] == 0x16
    with pytest.raises(RemoteProtocolError, match="checksum"):
        decode_frame(bad)
    rtu = encode_rtu(3, ReadHoldingRegistersRequest(0, 1))
    with pytest.raises(RemoteProtocolError, match="CRC"):
        decode_rtu(bad_modbus_crc(rtu), Direction.REQUEST)
    assert extra_fe(b"\x68", 2) == b"\xfe\xfe\x68"


# --- faults seen by a client of a transparent gateway ----------------------------------------


def sim_meter(address: str, protocol: str = DLT645) -> SimMeter:
    spec = MeterSpec(address, protocol=protocol, profile=PROFILE[protocol, 1])
    return SimMeter(spec, seed=5, now=START, meter_key=MeterKey.derive(MASTER, spec.meter_number))


class Site:
    def __init__(self, *, timing: bool, modbus: bool = False) -> None:
        self.meters = [sim_meter(A), sim_meter(B)]
        if modbus:
            self.meters.append(sim_meter("9", MODBUS))
        spec = GatewaySpec(GW, port=0, baud_rate=9600, meters=tuple(m.spec for m in self.meters))
        self.faults = FaultBook()
        self.clock = ManualClock(START)
        self.bus = Bus(
            GW,
            baud_rate=9600,
            bits_per_byte=11,
            meters=self.meters,
            clock=self.clock,
            faults=self.faults,
            timing=timing,
            seed=11,
        )
        self.gateway = TransparentGateway(spec, self.bus, self.faults)

    async def __aenter__(self) -> Site:
        await self.gateway.start()
        self.reader, self.writer = await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.writer.close()
        await self.gateway.stop()

    async def connect(self):
        return await asyncio.open_connection("127.0.0.1", self.gateway.port)

    def send(self, address: str, di: int = REMAINING) -> None:
        self.writer.write(encode_request(ReadRequest(address, di)))

    async def frame(self, reader=None, timeout: float = 3.0) -> bytes:
        """One DL/T 645 frame's raw bytes, by its L field."""
        reader = reader or self.reader
        buf = b""
        while True:
            chunk = await asyncio.wait_for(reader.read(4096), timeout)
            if not chunk:
                raise ConnectionError("closed")
            buf += chunk
            body = buf.lstrip(b"\xfe")
            if len(body) >= 12 and len(body) >= 12 + body[9]:
                return buf

    async def chunk(self, timeout: float = 1.0) -> bytes:
        return await asyncio.wait_for(self.reader.read(4096), timeout)


def run(scenario):
    return asyncio.run(scenario())


def test_no_reply_and_offline_meter_hears_nothing():
    for kind in (FaultKind.NO_REPLY, FaultKind.OFFLINE):

        async def scenario(kind=kind):
            async with Site(timing=False) as site:
                site.faults.add(Fault(kind, GW, A))
                site.clock.advance(timedelta(minutes=5))
                site.send(A)
                site.send(B)  # the first bytes back are B's: A said nothing
                assert parse_reply(decode_frame(await site.frame())).address == B
                assert site.bus.faults_applied == 1
                assert site.meters[0].last == START  # not even asked
                assert site.meters[1].last == START + timedelta(minutes=5)
                site.faults.clear(meter=A)
                site.send(A)
                assert parse_reply(decode_frame(await site.frame())).address == A

        run(scenario)


def test_count_limited_fault_clears_itself():
    async def scenario():
        async with Site(timing=False) as site:
            site.faults.add(Fault(FaultKind.NO_REPLY, GW, A, count=2))
            for _ in range(2):
                site.send(A)
                site.send(B)
                assert parse_reply(decode_frame(await site.frame())).address == B
            assert site.faults.active() == []
            site.send(A)
            assert parse_reply(decode_frame(await site.frame())).address == A

    run(scenario)


def test_late_reply_adds_its_delay_on_the_line():
    async def scenario():
        async with Site(timing=True) as site:
            took = []
            for fault in (None, Fault(FaultKind.LATE_REPLY, GW, A, delay=0.4, count=1)):
                if fault:
                    site.faults.add(fault)
                began = time.monotonic()
                site.send(A)
                await site.frame()
                took.append(time.monotonic() - began)
            return took

    plain, late = run(scenario)
    assert 0.39 <= late - plain <= 0.48


def test_garbled_reply_differs_from_the_clean_one():
    async def scenario():
        async with Site(timing=False) as site:
            site.send(A)
            clean = await site.frame()
            site.faults.add(Fault(FaultKind.GARBLED, GW, A, count=1))
            site.send(A)
            garbled = await site.chunk()
            return clean, garbled

    clean, garbled = run(scenario)
    assert len(garbled) == len(clean)
    assert garbled != clean
    try:
        decoded = decode_frame(garbled)
    except RemoteProtocolError:
        return
    assert decoded != decode_frame(clean)


def test_bad_checksum_reply_fails_to_decode():
    async def scenario():
        async with Site(timing=False) as site:
            site.faults.add(Fault(FaultKind.BAD_CHECKSUM, GW, A, count=1))
            site.send(A)
            bad = await site.frame()
            site.send(A)
            good = await site.frame()
            return bad, good

    bad, good = run(scenario)
    with pytest.raises(RemoteProtocolError, match="checksum"):
        decode_frame(bad)
    assert bad[:-2] == good[:-2]
    assert bad[-2] != good[-2]
    body = good.lstrip(b"\xfe")
    assert good[-2] == sum(body[:-2]) & 0xFF


def test_bad_crc_on_a_modbus_meter():
    async def scenario():
        async with Site(timing=False, modbus=True) as site:
            site.faults.add(Fault(FaultKind.BAD_CHECKSUM, GW, "9"))
            site.writer.write(encode_rtu(9, ReadHoldingRegistersRequest(0, 2)))
            return await site.chunk()

    raw = run(scenario)
    assert raw[0] == 9
    with pytest.raises(RemoteProtocolError, match="CRC"):
        decode_rtu(raw, Direction.RESPONSE)


def test_extra_fe_puts_more_wake_up_bytes_before_the_reply():
    async def scenario():
        async with Site(timing=False) as site:
            site.send(A)
            plain = await site.frame()
            site.faults.add(Fault(FaultKind.EXTRA_FE, GW, A, fe=6))
            site.send(A)
            more = await site.frame()
            return plain, more

    plain, more = run(scenario)
    lead = len(plain) - len(plain.lstrip(b"\xfe"))
    assert len(more) - len(more.lstrip(b"\xfe")) == lead + 6
    assert decode_frame(more) == decode_frame(plain)


def test_lost_reply_meter_acts_but_nothing_comes_back():
    async def scenario():
        async with Site(timing=True) as site:
            meter = site.meters[0]
            assert meter.thresholds["alarm_1"] != 8800
            site.faults.add(Fault(FaultKind.LOST_REPLY, GW, A, count=1))
            write = WriteRequest.for_value(A, 0x04001001, Decimal("88.00"), Password(2, "123456"))
            site.writer.write(encode_request(write))
            with pytest.raises(TimeoutError):
                await site.chunk(timeout=0.4)
            assert meter.thresholds["alarm_1"] == 8800  # the write was carried out
            site.writer.write(encode_request(write))
            assert isinstance(parse_reply(decode_frame(await site.frame())), Ack)

    run(scenario)


def test_refuse_closes_the_listener_until_cleared():
    async def scenario():
        async with Site(timing=False) as site:
            port = site.gateway.port
            site.faults.add(Fault(FaultKind.REFUSE, GW))
            assert not site.gateway.listening
            with pytest.raises(ConnectionRefusedError):
                await site.connect()
            # the open connection still works: add drop to cut it
            site.send(A)
            assert parse_reply(decode_frame(await site.frame())).address == A
            site.faults.clear(gateway=GW)
            for _ in range(50):
                if site.gateway.listening:
                    break
                await asyncio.sleep(0.01)
            assert site.gateway.port == port
            reader, writer = await site.connect()
            writer.write(encode_request(ReadRequest(B, REMAINING)))
            assert parse_reply(decode_frame(await site.frame(reader))).address == B
            writer.close()

    run(scenario)


def test_refuse_with_count_resets_that_many_connections():
    async def scenario():
        async with Site(timing=False) as site:
            site.faults.add(Fault(FaultKind.REFUSE, GW, count=1))
            assert site.gateway.listening
            reader, writer = await site.connect()
            try:
                data = await asyncio.wait_for(reader.read(10), 2)
            except ConnectionResetError:
                data = b""
            assert data == b""  # accepted, then reset at once
            writer.close()
            assert site.gateway.refused == 1
            assert site.faults.active() == []
            reader, writer = await site.connect()
            writer.write(encode_request(ReadRequest(A, REMAINING)))
            assert parse_reply(decode_frame(await site.frame(reader))).address == A
            writer.close()

    run(scenario)


def test_drop_closes_open_connections_now():
    async def scenario():
        async with Site(timing=False) as site:
            site.send(A)
            await site.frame()
            site.faults.add(Fault(FaultKind.DROP, GW, count=1))
            assert await asyncio.wait_for(site.reader.read(10), 2) == b""
            assert site.gateway.dropped == 1
            assert site.faults.active() == []  # one connection dropped: used up
            reader, writer = await site.connect()
            writer.write(encode_request(ReadRequest(B, REMAINING)))
            assert parse_reply(decode_frame(await site.frame(reader))).address == B
            writer.close()

    run(scenario)


def test_drop_after_requests_serves_those_then_closes():
    async def scenario():
        async with Site(timing=False) as site:
            site.faults.add(Fault(FaultKind.DROP, GW, after=2))
            for address in (A, B):
                site.send(address)
                assert parse_reply(decode_frame(await site.frame())).address == address
            site.send(A)
            assert await asyncio.wait_for(site.reader.read(10), 2) == b""
            # while the fault lasts, a new connection gets the same two requests
            reader, writer = await site.connect()
            for _ in range(2):
                writer.write(encode_request(ReadRequest(A, REMAINING)))
                assert isinstance(parse_reply(decode_frame(await site.frame(reader))), ReadReply)
            writer.write(encode_request(ReadRequest(A, REMAINING)))
            assert await asyncio.wait_for(reader.read(10), 2) == b""
            writer.close()
            assert site.gateway.dropped == 2

    run(scenario)


def test_garbling_is_reproducible_from_the_bus_seed():
    def garbled_once() -> bytes:
        site = Site(timing=False)
        site.faults.add(Fault(FaultKind.GARBLED, GW, A))
        got: list[bytes | None] = []
        frame = ReadRequest(A, REMAINING).to_frame()
        site.bus.request_dlt645(frame, 16, got.append)
        assert got[0] is not None
        return got[0]

    assert garbled_once() == garbled_once()
