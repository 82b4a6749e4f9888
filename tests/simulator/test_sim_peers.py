"""Independent peers against the simulator over real sockets: the PyPI ``dlt645`` package's TCP
client reads a meter through a simulated transparent gateway; pymodbus's client reads an
Acrel-profile meter through a simulated Modbus-TCP gateway and RTU-over-TCP through a
transparent one."""

from __future__ import annotations

from decimal import Decimal

import pytest
from dlt645 import MeterClientService
from pymodbus import FramerType
from pymodbus.client import ModbusTcpClient

from openprepaid.protocol.modbus.acrel import DDSY1352, decode_values
from openprepaid.simulator.runner import SimulatorThread
from openprepaid.simulator.sitespec import MODBUS, MODBUS_TCP, GatewaySpec, MeterSpec, SiteSpec

DLT_ADDRESS = "202611050007"
# The package takes and returns addresses in wire order (low byte first): docs/protocol.md,
# package defect 6.
WIRE_ORDER = "".join(reversed([DLT_ADDRESS[i : i + 2] for i in range(0, 12, 2)]))
SITE = SiteSpec(
    (
        GatewaySpec(
            "MIXED",
            port=0,
            baud_rate=9600,
            meters=(
                MeterSpec(DLT_ADDRESS, unit_kind="restaurant"),
                MeterSpec("7", protocol=MODBUS, profile="acrel-ddsy1352", unit_kind="shop"),
            ),
        ),
        GatewaySpec(
            "MBTCP",
            transport=MODBUS_TCP,
            port=0,
            baud_rate=9600,
            meters=(MeterSpec("3", protocol=MODBUS, profile="acrel-ddsy1352", unit_kind="office"),),
        ),
    )
)


@pytest.fixture(scope="module")
def simulator():
    # Accelerated time so that the registers have moved when they are read.
    with SimulatorThread(SITE, speed=3600, timing=True, seed=11) as thread:
        yield thread


def test_the_dlt645_package_reads_energy_voltage_and_address(simulator):
    host, port = simulator.address("MIXED")
    client = MeterClientService.new_tcp_client(host, port, timeout=3.0)
    assert client.connect()
    try:
        assert client.set_address(WIRE_ORDER)
        energy = client.read_00(0x00010000)  # forward active energy, total
        voltage = client.read_02(0x02010100)  # phase A voltage
        address = client.read_address()
    finally:
        client.disconnect()
    truth = simulator.inspect(DLT_ADDRESS)
    assert energy is not None
    assert voltage is not None
    assert address is not None
    # The package reads floats; the simulator's truth is exact. Energy only grows between the
    # read and the inspection (accelerated time), by less than the load over a few seconds.
    assert Decimal(str(energy.value)) <= Decimal(truth["registers"]["total"])
    assert Decimal(truth["registers"]["total"]) - Decimal(str(energy.value)) < Decimal("100")
    assert Decimal(str(energy.value)) > 0
    assert Decimal("200") < Decimal(str(voltage.value)) < Decimal("240")
    assert str(address.value) == WIRE_ORDER == "070005112620"


def _registers(client: ModbusTcpClient, unit: int) -> dict[str, Decimal]:
    energy = client.read_holding_registers(0x0000, count=0x11, device_id=unit)
    status = client.read_holding_registers(0x1000, count=9, device_id=unit)
    assert not energy.isError()
    assert not status.isError()
    return decode_values(DDSY1352, {0x0000: energy.registers, 0x1000: status.registers})


def test_pymodbus_reads_an_acrel_meter_through_a_modbus_tcp_gateway(simulator):
    host, port = simulator.address("MBTCP")
    with ModbusTcpClient(host, port=port, timeout=3) as client:
        values = _registers(client, 3)
        missing = client.read_holding_registers(0x0000, count=2, device_id=9)
    truth = simulator.inspect("3", gateway="MBTCP")
    assert Decimal(truth["registers"]["total"]) - values["energy_total"] < Decimal("100")
    assert values["energy_total"] == sum(
        values[f"energy_{t}"] for t in ("sharp", "peak", "flat", "valley")
    )
    assert Decimal("200") < values["voltage"] < Decimal("240")
    assert values["purchase_count"] == truth["purchase_count"]
    # No meter 9 behind the gateway: exception 0x0B (gateway target failed to respond).
    assert missing.isError()
    assert missing.exception_code == 0x0B


def test_pymodbus_reads_rtu_over_tcp_through_a_transparent_gateway(simulator):
    host, port = simulator.address("MIXED")
    with ModbusTcpClient(host, port=port, framer=FramerType.RTU, timeout=3) as client:
        values = _registers(client, 7)
    truth = simulator.inspect("7", gateway="MIXED")
    assert Decimal(truth["registers"]["total"]) - values["energy_total"] < Decimal("100")
    assert values["energy_total"] > 0
    assert values["relay_status"] == 0  # closed, no keep power, no alarm
