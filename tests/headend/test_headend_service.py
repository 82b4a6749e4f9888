"""The service around the workers: restarts, clock drift, reloading lines, gateway health."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt

from tests.headend.headend_support import (
    FAST,
    count_commands,
    lines_for,
    run_until,
    simulator,
)
from tests.headend.memory_repository import MemoryRepository

from openprepaid.headend.model import CommandKind, CommandOutcome, CommandState
from openprepaid.headend.service import Headend
from openprepaid.protocol.dlt645 import ControlCommand
from openprepaid.simulator.sitespec import GatewaySpec, MeterSpec, SiteSpec

SPEC = SiteSpec(
    (
        GatewaySpec("GW1", port=0, meters=(MeterSpec("300001000001"), MeterSpec("300001000002"))),
        GatewaySpec(
            "GW2",
            transport="modbus_tcp",
            port=0,
            meters=(MeterSpec("3", protocol="modbus_rtu", profile="acrel-ddsy1352"),),
        ),
    )
)


def test_a_command_left_sent_by_a_dead_headend_is_not_sent_again():
    with simulator(SPEC) as sim:
        repo = MemoryRepository(lines_for(sim, SPEC), lease=dt.timedelta(0))
        trip = repo.enqueue(1, CommandKind.TRIP)
        now = dt.datetime.now(dt.UTC)
        # A headend claimed it, the meter acted, and the headend died before confirming.
        assert [o.command_id for o in repo.claim_commands(1, now, 10)] == [trip]
        repo.finish_command(CommandOutcome(trip, CommandState.SENT, now))
        sim.with_meter("300001000001", lambda m: m.command(ControlCommand.TRIP, sim.clock.now()))
        calls = count_commands(sim, "300001000001", "GW1")
        headend = Headend(repo, options=FAST)
        asyncio.run(run_until(headend, lambda: repo.state(trip) is CommandState.CONFIRMED))
        assert calls == []
        assert repo.commands[trip].history[-1].detail == "already in effect"


def test_a_drifting_clock_is_set():
    with simulator(SPEC) as sim:
        repo = MemoryRepository(lines_for(sim, SPEC))
        local_now = dt.datetime.now().replace(microsecond=0)  # noqa: DTZ005 - meter time
        sim.with_meter(
            "300001000002",
            lambda m: m.set_meter_time(local_now - dt.timedelta(hours=2), sim.clock.now()),
        )

        def fixed() -> bool:
            shown = dt.datetime.fromisoformat(sim.inspect("300001000002", "GW1")["meter_time"])
            return abs(shown - dt.datetime.now()) < dt.timedelta(seconds=5)  # noqa: DTZ005

        headend = Headend(repo, options=FAST)
        asyncio.run(run_until(headend, fixed, timeout=10))


def test_lines_are_reloaded_and_health_is_reported():
    with simulator(SPEC) as sim:
        lines = lines_for(sim, SPEC)
        repo = MemoryRepository(lines)
        repo.set_lines(lines[:1])
        options = dataclasses.replace(FAST, reload_every=0.2, stats_every=0.2)
        headend = Headend(repo, options=options)

        async def main() -> None:
            task = asyncio.create_task(headend.run())
            try:
                while 3 not in repo.latest:  # meter 3 is on GW2, not yet configured
                    await asyncio.sleep(0.05)
                    if len(repo.latest) >= 2 and len(headend.workers) == 1:
                        repo.set_lines(lines[1:])
                assert list(headend.workers) == [2]  # GW1 removed, GW2 added
                await asyncio.sleep(0.5)
            finally:
                await headend.stop()
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

        asyncio.run(asyncio.wait_for(main(), 15))
        busy = [s for s in repo.gateway_stats if s.requests]
        assert {s.gateway_id for s in busy} == {1, 2}
        assert all(s.round_trip_ms_avg is not None and s.round_trip_ms_max for s in busy)
        assert all(s.connected for s in busy)


def test_a_command_cut_off_by_a_dropped_connection_is_not_sent_twice():
    with simulator(SPEC) as sim:
        repo = MemoryRepository(lines_for(sim, SPEC))
        calls = count_commands(sim, "300001000001", "GW1")
        sim.inject("lost_reply", meter="300001000001", gateway="GW1", count=1)
        sim.inject("drop", gateway="GW1", after=1, count=1)
        trip = repo.enqueue(1, CommandKind.TRIP)
        headend = Headend(repo, options=FAST)
        asyncio.run(run_until(headend, lambda: repo.state(trip) is CommandState.CONFIRMED))
        assert calls == [ControlCommand.TRIP]
        assert sim.stats()["GW1"]["dropped"] >= 1
        states = [o.state for o in repo.commands[trip].history]
        # Sent, cut off (back to the queue), then found done by reading back: not sent again.
        assert states == [CommandState.SENT, CommandState.QUEUED, CommandState.CONFIRMED]
        assert repo.commands[trip].history[-1].detail == "already in effect"
