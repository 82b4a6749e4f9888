"""Commands over real sockets: confirmed by reading back, superseded ones never sent, a lost
reply acted on once, and the reconciler bringing reported state to desired."""

from __future__ import annotations

import asyncio

import pytest
from tests.headend.headend_support import (
    FAST,
    count_commands,
    lines_for,
    run_until,
    simulator,
)
from tests.headend.memory_repository import MemoryRepository

from openprepaid.headend.model import CommandKind, CommandState, DesiredRelay
from openprepaid.headend.service import Headend
from openprepaid.protocol.dlt645 import ControlCommand
from openprepaid.simulator.sitespec import GatewaySpec, MeterSpec, SiteSpec

SPEC = SiteSpec(
    (
        GatewaySpec(
            "MIX",
            port=0,
            meters=(
                MeterSpec("300001000001"),
                MeterSpec("300001000002"),
                MeterSpec("5", protocol="modbus_rtu", profile="acrel-ddsy1352"),
            ),
        ),
        GatewaySpec(
            "MTCP",
            transport="modbus_tcp",
            port=0,
            baud_rate=9600,
            meters=(MeterSpec("1", protocol="modbus_rtu", profile="acrel-ddsy1352"),),
        ),
    )
)
TARGETS = [(1, "300001000001", "MIX"), (3, "5", "MIX"), (4, "1", "MTCP")]
FINAL = {CommandState.CONFIRMED, CommandState.FAILED, CommandState.SUPERSEDED}


def run_commands(repo: MemoryRepository, ids: list[int], timeout: float = 10) -> None:
    headend = Headend(repo, options=FAST)
    asyncio.run(
        run_until(headend, lambda: all(repo.state(i) in FINAL for i in ids), timeout=timeout)
    )


@pytest.mark.parametrize(("meter_id", "address", "gateway"), TARGETS)
def test_trip_close_and_keep_power_confirmed_by_reading_back(meter_id, address, gateway):
    with simulator(SPEC) as sim:
        repo = MemoryRepository(lines_for(sim, SPEC))
        trip = repo.enqueue(meter_id, CommandKind.TRIP)
        run_commands(repo, [trip])
        assert repo.state(trip) is CommandState.CONFIRMED
        assert [o.state for o in repo.commands[trip].history] == [
            CommandState.SENT,
            CommandState.CONFIRMED,
        ]
        assert sim.inspect(address, gateway)["relay"] == "open"
        assert repo.latest[meter_id].relay_open is True

        close = repo.enqueue(meter_id, CommandKind.CLOSE)
        run_commands(repo, [close])
        assert repo.state(close) is CommandState.CONFIRMED
        assert sim.inspect(address, gateway)["relay"] == "closed"

        keep = repo.enqueue(meter_id, CommandKind.KEEP_POWER_ON)
        run_commands(repo, [keep])
        assert repo.state(keep) is CommandState.CONFIRMED
        assert sim.inspect(address, gateway)["keep_power"] is True

        release = repo.enqueue(meter_id, CommandKind.KEEP_POWER_OFF)
        run_commands(repo, [release])
        assert repo.state(release) is CommandState.CONFIRMED
        assert sim.inspect(address, gateway)["keep_power"] is False


def test_a_superseded_command_is_never_sent():
    with simulator(SPEC) as sim:
        repo = MemoryRepository(lines_for(sim, SPEC))
        calls = count_commands(sim, "300001000001", "MIX")
        trip = repo.enqueue(1, CommandKind.TRIP)
        close = repo.enqueue(1, CommandKind.CLOSE_ALLOWED)
        run_commands(repo, [trip, close])
        assert repo.state(trip) is CommandState.SUPERSEDED
        assert repo.state(close) is CommandState.CONFIRMED
        assert calls == [ControlCommand.CLOSE_ALLOWED]  # the trip never reached the meter
        assert sim.inspect("300001000001", "MIX")["relay"] == "closed"


@pytest.mark.parametrize(("meter_id", "address", "gateway"), TARGETS)
def test_a_lost_reply_leads_to_exactly_one_trip(meter_id, address, gateway):
    with simulator(SPEC) as sim:
        repo = MemoryRepository(lines_for(sim, SPEC))
        calls = count_commands(sim, address, gateway)
        sim.inject("lost_reply", meter=address, gateway=gateway, count=1)
        trip = repo.enqueue(meter_id, CommandKind.TRIP)
        run_commands(repo, [trip])
        assert repo.state(trip) is CommandState.CONFIRMED
        assert "reading back" in repo.commands[trip].history[-1].detail
        assert calls == [ControlCommand.TRIP]  # acted once, never sent again
        assert sim.inspect(address, gateway)["relay"] == "open"


def test_no_reply_at_all_fails_after_the_retries():
    with simulator(SPEC) as sim:
        repo = MemoryRepository(lines_for(sim, SPEC))
        calls = count_commands(sim, "300001000002", "MIX")
        sim.inject("no_reply", meter="300001000002", gateway="MIX")
        trip = repo.enqueue(2, CommandKind.TRIP)
        run_commands(repo, [trip])
        assert repo.state(trip) is CommandState.FAILED
        assert calls == []


def test_the_reconciler_brings_reported_to_desired():
    with simulator(SPEC) as sim:
        repo = MemoryRepository(lines_for(sim, SPEC))
        repo.set_desired(2, DesiredRelay.OPEN)
        repo.set_desired(4, DesiredRelay.AUTO, keep_power=True)
        calls = count_commands(sim, "300001000002", "MIX")
        headend = Headend(repo, options=FAST)

        def done() -> bool:
            return (
                repo.latest.get(2) is not None
                and repo.latest[2].relay_open is True
                and repo.latest.get(4) is not None
                and repo.latest[4].keep_power is True
            )

        asyncio.run(run_until(headend, done, timeout=10, settle=1.0))
        assert calls == [ControlCommand.TRIP]  # once, not again after it took effect
        origins = [(c.meter_id, c.kind, c.origin, c.state) for c in repo.commands.values()]
        assert origins == [
            (2, CommandKind.TRIP, "reconcile", CommandState.CONFIRMED),
            (4, CommandKind.KEEP_POWER_ON, "reconcile", CommandState.CONFIRMED),
        ] or sorted(origins) == sorted(
            [
                (2, CommandKind.TRIP, "reconcile", CommandState.CONFIRMED),
                (4, CommandKind.KEEP_POWER_ON, "reconcile", CommandState.CONFIRMED),
            ]
        )


def test_prices_settings_time_and_read_now():
    with simulator(SPEC) as sim:
        repo = MemoryRepository(lines_for(sim, SPEC))
        prices = ["1.5000", "1.1000", "0.8000", "0.3000"]
        ids = [
            repo.enqueue(1, CommandKind.PUSH_PRICES, params={"prices": prices}),
            repo.enqueue(3, CommandKind.PUSH_PRICES, params={"prices": prices}),
            repo.enqueue(1, CommandKind.PUSH_SETTINGS, params={"alarm_1": "80.00"}),
            repo.enqueue(4, CommandKind.PUSH_SETTINGS, params={"alarm_2": "30.00"}),
            repo.enqueue(1, CommandKind.TIME_SYNC),
            repo.enqueue(4, CommandKind.TIME_SYNC),
            repo.enqueue(3, CommandKind.READ_NOW),
        ]
        run_commands(repo, ids)
        states = [repo.state(i) for i in ids]
        assert states[:5] == [CommandState.CONFIRMED] * 5
        assert states[5] is CommandState.FAILED  # Modbus meters have no clock
        assert states[6] is CommandState.CONFIRMED
        assert sim.inspect("300001000001", "MIX")["prices"] == prices
        assert sim.inspect("5", "MIX")["prices"] == prices
        assert sim.inspect("300001000001", "MIX")["thresholds"]["alarm_1"] == "80.00"
        held = sim.inspect("1", "MTCP")["thresholds"]
        assert held["alarm_2"] == "30.00"
        assert held["alarm_1"] == "50.00"
        assert any(r.meter_id == 3 and r.kind == "full" for r in repo.readings.values())
