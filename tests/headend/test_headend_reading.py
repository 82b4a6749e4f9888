"""Full readings over real sockets against the simulator match what the meters hold."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
from decimal import Decimal

import pytest
from tests.headend.headend_support import FAST, lines_for, run_until, simulator
from tests.headend.memory_repository import MemoryRepository

from openprepaid.headend.service import Headend
from openprepaid.simulator.sitespec import GatewaySpec, MeterSpec, SiteSpec

SPEC = SiteSpec(
    (
        GatewaySpec(
            "MIX",
            port=0,
            meters=(
                MeterSpec("300001000001", cost_control="local", unit_kind="restaurant"),
                MeterSpec("300001000002", ct_ratio=40, unit_kind="restaurant"),
                MeterSpec(
                    "300001000003", profile="dlt645-prepaid-3p", phases=3, cost_control="local"
                ),
                MeterSpec("7", protocol="modbus_rtu", profile="acrel-ddsy1352", ct_ratio=5),
            ),
        ),
        GatewaySpec(
            "MTCP",
            transport="modbus_tcp",
            port=0,
            baud_rate=9600,
            meters=(
                MeterSpec(
                    "1", protocol="modbus_rtu", profile="acrel-ddsy1352", cost_control="local"
                ),
                MeterSpec(
                    "2", protocol="modbus_rtu", profile="acrel-dtsy1352", phases=3, ct_ratio=20
                ),
            ),
        ),
    )
)
ENERGY = ("total", "sharp", "peak", "flat", "valley")


def _advance(sim) -> None:
    """Let the meters consume for a few hours so that registers are not zero."""
    sim.call(lambda: sim.clock.advance(dt.timedelta(hours=6)))


def test_full_reading_matches_the_meters():
    with simulator(SPEC) as sim:
        _advance(sim)
        lines = lines_for(sim, SPEC)
        repo = MemoryRepository(lines)
        headend = Headend(repo, options=FAST)
        every = {m.meter_id for line in lines for m in line.meters}

        def all_read() -> bool:
            full = {r.meter_id for r in repo.readings.values() if r.kind == "full"}
            return full >= every

        asyncio.run(run_until(headend, all_read, timeout=10))
        for line in lines:
            for meter in line.meters:
                held = sim.inspect(meter.address, gateway=line.name)
                reading = next(
                    r
                    for r in sorted(repo.readings.values(), key=lambda r: r.read_at)
                    if r.meter_id == meter.meter_id and r.kind == "full"
                )
                ct = meter.ct_ratio
                assert held["registers"]["total"] != "0.00"
                for name in ENERGY:
                    assert (
                        getattr(reading, f"energy_{name}") == Decimal(held["registers"][name]) * ct
                    )
                assert reading.remaining == max(Decimal(held["balance"]), Decimal(0))
                assert reading.overdraft == Decimal(held["overdraft"])
                assert reading.purchase_count == held["purchase_count"]
                assert reading.relay_open is (held["relay"] == "open")
                assert reading.keep_power is held["keep_power"]
                if meter.protocol == "dlt645_2007":
                    assert reading.account_opened is held["account_opened"]
                    assert reading.relay_commanded_trip is held["relay_commanded_trip"]
                    assert reading.meter_time is not None
                    assert reading.status_word_1 is not None
                    assert reading.status_word_3 is not None
                    assert len(reading.voltage) == meter.phases
                    assert reading.voltage == tuple(Decimal(v) for v in held["voltages"])
                if meter.profile != "acrel-dtsy1352":
                    assert reading.power_kw is not None
                    assert reading.value_count >= 10
        # The bus kept sweeping statuses after the full readings.
        assert any(r.kind == "status" for r in repo.readings.values())
        status = headend.status()
        assert {g["name"] for g in status["gateways"]} == {"MIX", "MTCP"}
        assert status["readings_stored"] == len(repo.received)


def test_status_file_is_written(tmp_path):
    with simulator(SPEC) as sim:
        lines = lines_for(sim, SPEC)
        repo = MemoryRepository(lines)
        path = tmp_path / "status.json"
        options = dataclasses.replace(FAST, status_every=0.1)
        headend = Headend(repo, options=options, status_path=path)
        asyncio.run(run_until(headend, lambda: len(repo.readings) >= 6, timeout=10))
        written = json.loads(path.read_text())
        assert written["readings_stored"] >= 6
        assert all(g["connected"] is False or g["requests"] >= 0 for g in written["gateways"])


def test_a_serial_line_reads_through_pyserial_asyncio():
    """The serial transport, over pyserial's ``socket://`` port to the simulated bus."""
    pytest.importorskip("serial_asyncio")
    spec = SiteSpec((SPEC.gateways[0],))
    with simulator(spec) as sim:
        line = lines_for(sim, spec)[0]
        line = dataclasses.replace(
            line, transport="serial", serial_device=f"socket://{line.host}:{line.port}"
        )
        repo = MemoryRepository([line])
        headend = Headend(repo, options=FAST)
        every = {m.meter_id for m in line.meters}

        def all_read() -> bool:
            return {r.meter_id for r in repo.readings.values() if r.kind == "full"} >= every

        asyncio.run(run_until(headend, all_read, timeout=10))
        assert not repo.failures
