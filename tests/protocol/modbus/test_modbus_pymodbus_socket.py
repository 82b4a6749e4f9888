"""One exchange over a real socket: pymodbus's async TCP server with the RTU framer (like a
transparent gateway) on 127.0.0.1, holding Acrel-like registers; the test talks to it with a
plain blocking socket, building and parsing every frame with our codec. The protocol package
itself never touches a socket — only this test does."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from decimal import Decimal

import pytest
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from openprepaid.protocol.modbus import (
    NEED_DATA,
    Direction,
    ExceptionCode,
    ExceptionResponse,
    ReadHoldingRegistersRequest,
    RtuDecoder,
    WriteMultipleRegistersResponse,
    encode_rtu,
)
from openprepaid.protocol.modbus.acrel import DDSY1352, RELAY_TRIP_WORDS, trip_request

UNIT = 1
# 0000H..0010H: total 1234.56 kWh, sharp 100.00, peak 200.00, flat 300.00, valley 634.56,
# code 7, 220.5 V, 5.12 A, 1.126 kW, (000EH unused), 1.129 kVA, PF 0.998.
ENERGY_BLOCK = [
    0x0001,
    0xE240,
    0,
    10000,
    0,
    20000,
    0,
    30000,
    0,
    63456,
    7,
    2205,
    512,
    1126,
    0,
    1129,
    998,
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def pymodbus_gateway():
    port = _free_port()
    device = SimDevice(
        id=UNIT,
        simdata=[
            SimData(0x0000, values=ENERGY_BLOCK, datatype=DataType.REGISTERS),
            SimData(0x0057, count=2, values=0, datatype=DataType.REGISTERS),
        ],
    )
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder = {}

    async def main():
        server = ModbusTcpServer(device, framer="rtu", address=("127.0.0.1", port))
        holder["server"] = server
        await server.serve_forever(background=True)
        ready.set()
        holder["stop"] = asyncio.Event()
        await holder["stop"].wait()
        await server.shutdown()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(10), "pymodbus server did not start"
    deadline = time.monotonic() + 5
    while True:
        try:
            conn = socket.create_connection(("127.0.0.1", port), timeout=5)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    try:
        yield conn
    finally:
        conn.close()
        loop.call_soon_threadsafe(holder["stop"].set)
        thread.join(10)
        loop.close()


def _exchange(conn: socket.socket, request) -> object:
    decoder = RtuDecoder(Direction.RESPONSE)
    decoder.expect(UNIT, request)
    conn.sendall(encode_rtu(UNIT, request))
    while (event := decoder.next_event()) is NEED_DATA:
        chunk = conn.recv(512)
        assert chunk, "gateway closed the connection"
        decoder.receive_data(chunk)
    assert event.unit_id == UNIT
    return event.pdu


def test_read_energy_block_and_trip_relay_over_a_socket(pymodbus_gateway):
    conn = pymodbus_gateway
    reply = _exchange(conn, ReadHoldingRegistersRequest(0x0000, 0x11))
    values = DDSY1352.decode_block(0x0000, reply.registers)
    assert values["energy_total"] == Decimal("1234.56")
    assert values["energy_valley"] == Decimal("634.56")
    assert values["voltage"] == Decimal("220.5")
    assert values["current"] == Decimal("5.12")
    assert values["active_power"] == Decimal("1.126")
    assert values["power_factor"] == Decimal("0.998")

    assert _exchange(conn, trip_request()) == WriteMultipleRegistersResponse(0x0057, 2)
    readback = _exchange(conn, ReadHoldingRegistersRequest(0x0057, 2))
    assert readback.registers == RELAY_TRIP_WORDS

    refusal = _exchange(conn, ReadHoldingRegistersRequest(0x7F00, 2))
    assert refusal == ExceptionResponse(3, ExceptionCode.ILLEGAL_DATA_ADDRESS)
