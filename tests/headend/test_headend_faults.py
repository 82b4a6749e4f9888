"""Faults over real sockets: a gateway dropping mid-sweep, a meter going offline, a gateway
refusing connections."""

from __future__ import annotations

import asyncio
import collections
import time

from tests.headend.headend_support import FAST, lines_for, simulator
from tests.headend.memory_repository import MemoryRepository

from openprepaid.headend.service import Headend
from openprepaid.simulator.sitespec import GatewaySpec, MeterSpec, SiteSpec

SPEC = SiteSpec(
    (
        GatewaySpec(
            "GW1",
            port=0,
            meters=(
                *(MeterSpec(f"30000100000{n}") for n in range(1, 5)),
                MeterSpec("9", protocol="modbus_rtu", profile="acrel-ddsy1352"),
            ),
        ),
    )
)


async def _wait(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def _run(repo: MemoryRepository, scenario) -> Headend:
    headend = Headend(repo, options=FAST)

    async def main() -> None:
        task = asyncio.create_task(headend.run())
        try:
            await scenario(headend)
        finally:
            await headend.stop()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    asyncio.run(main())
    return headend


def test_a_gateway_dropping_mid_sweep_recovers_without_duplicates():
    with simulator(SPEC) as sim:
        repo = MemoryRepository(lines_for(sim, SPEC))

        async def scenario(headend: Headend) -> None:
            await _wait(lambda: len(repo.readings) >= 5, 10, "the first readings")
            sim.inject("drop", gateway="GW1", after=5)
            await _wait(lambda: headend.worker(1).connects >= 2, 10, "a reconnect")
            count = len(repo.readings)
            await _wait(lambda: len(repo.readings) >= count + 10, 10, "readings after it")

        _run(repo, scenario)
        assert sim.stats()["GW1"]["dropped"] >= 1
        keys = collections.Counter((r.meter_id, r.read_at) for r in repo.received)
        assert max(keys.values()) == 1  # nothing handed over twice
        assert not repo.failures  # a dropped connection is not the meters' failure
        assert not repo.contact  # reconnected at once: no gateway alarm


def test_lost_contact_is_raised_and_cleared_exactly_once():
    with simulator(SPEC) as sim:
        repo = MemoryRepository(lines_for(sim, SPEC))

        def changes(meter_id: int) -> list[bool]:
            return [c.lost for c in repo.contact if c.meter_id == meter_id]

        async def scenario(headend: Headend) -> None:
            await _wait(lambda: 2 in repo.latest, 10, "a first reading")
            sim.inject("offline", meter="300001000002", gateway="GW1")
            await _wait(lambda: changes(2) == [True], 10, "lost contact")
            await asyncio.sleep(1.0)  # more failed polls raise nothing more
            assert changes(2) == [True]
            sim.clear_faults(meter="300001000002", gateway="GW1")
            await _wait(lambda: changes(2) == [True, False], 10, "contact regained")
            await asyncio.sleep(0.5)

        _run(repo, scenario)
        assert changes(2) == [True, False]
        assert [c for c in repo.contact if c.meter_id != 2] == []
        alarm = repo.alarms[0]
        assert alarm.meter_id == 2
        assert alarm.regained_at is not None
        assert alarm.regained_at > alarm.lost_at
        assert len([f for f in repo.failures if f.meter_id == 2]) >= FAST.lost_after


def test_a_restart_raises_nothing_twice():
    with simulator(SPEC) as sim:
        repo = MemoryRepository(lines_for(sim, SPEC))
        sim.inject("offline", meter="300001000003", gateway="GW1")

        async def first(headend: Headend) -> None:
            await _wait(lambda: len(repo.alarms) == 1, 10, "lost contact")

        _run(repo, first)

        async def second(headend: Headend) -> None:
            await _wait(lambda: len(repo.failures) >= 6, 10, "more failed polls")

        _run(repo, second)
        assert [c.lost for c in repo.contact] == [True]


def test_a_refusing_gateway_is_lost_and_regained_once():
    with simulator(SPEC) as sim:
        repo = MemoryRepository(lines_for(sim, SPEC))

        def changes() -> list[bool]:
            return [c.lost for c in repo.contact if c.gateway_id == 1]

        async def scenario(headend: Headend) -> None:
            await _wait(lambda: len(repo.readings) >= 3, 10, "readings")
            sim.inject("refuse", gateway="GW1")
            sim.inject("drop", gateway="GW1", after=0)
            await _wait(lambda: changes() == [True], 10, "gateway lost")
            await asyncio.sleep(1.0)  # reconnect attempts keep failing, nothing more raised
            assert changes() == [True]
            sim.clear_faults(gateway="GW1")
            await _wait(lambda: changes() == [True, False], 10, "gateway regained")
            count = len(repo.readings)
            await _wait(lambda: len(repo.readings) > count + 3, 10, "readings again")

        _run(repo, scenario)
        assert changes() == [True, False]
        assert not [c for c in repo.contact if c.meter_id is not None]
