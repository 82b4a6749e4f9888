"""Shared helpers of the headend tests: lines for a simulated site, running a headend."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable
from decimal import Decimal

from openprepaid.headend.model import LineConfig, MeterTarget
from openprepaid.headend.options import HeadendOptions
from openprepaid.headend.service import Headend
from openprepaid.simulator.clock import ManualClock
from openprepaid.simulator.runner import SimulatorThread
from openprepaid.simulator.sitespec import SiteSpec

FAST = HeadendOptions(
    stagger=0,
    seed=1,
    time_zone=None,
    claim_every=0.05,
    reconcile_every=0.3,
    stats_every=0.5,
    flush_every=0.1,
    status_every=0.5,
    lost_retry_every=0.2,
    turnaround=0.2,
    network_slack=0.1,
    backoff_initial=0.05,
    backoff_cap=0.2,
    time_sync_daily=False,
)


def simulator(spec: SiteSpec, **options) -> SimulatorThread:
    options.setdefault("timing", False)
    options.setdefault("opening_balance", (Decimal(100), Decimal(200)))
    local_now = dt.datetime.now().replace(microsecond=0)  # noqa: DTZ005 - meters' naive time
    options.setdefault("clock", ManualClock(local_now))
    return SimulatorThread(spec, **options)


def lines_for(sim: SimulatorThread, spec: SiteSpec, **line_options) -> list[LineConfig]:
    """The site's gateways as the headend's lines; meter ids 1, 2, … in site order."""
    lines = []
    meter_id = 0
    for number, gateway in enumerate(spec.gateways, start=1):
        host, port = sim.address(gateway.name)
        meters = []
        for meter in gateway.meters:
            meter_id += 1
            meters.append(
                MeterTarget(
                    meter_id=meter_id,
                    address=meter.address,
                    protocol=meter.protocol,
                    profile=meter.profile,
                    phases=meter.phases,
                    ct_ratio=meter.ct_ratio,
                    cost_control=meter.cost_control,
                )
            )
        lines.append(
            LineConfig(
                gateway_id=number,
                name=gateway.name,
                transport=gateway.transport,
                host=host,
                port=port,
                baud_rate=gateway.baud_rate,
                parity=gateway.parity,
                meters=tuple(meters),
                **line_options,
            )
        )
    return lines


def count_commands(sim, address: str, gateway: str) -> list:
    """Every remote-control command the simulated meter acts on, in order."""
    calls: list = []

    def wrap(meter) -> None:
        original = meter.command

        def command(kind, now):
            calls.append(kind)
            return original(kind, now)

        meter.command = command

    sim.with_meter(address, wrap, gateway)
    return calls


def meter_of(lines: list[LineConfig], meter_id: int) -> tuple[LineConfig, MeterTarget]:
    for line in lines:
        for meter in line.meters:
            if meter.meter_id == meter_id:
                return line, meter
    raise KeyError(meter_id)


async def run_until(
    headend: Headend, done: Callable[[], bool], timeout: float = 10.0, *, settle: float = 0.0
) -> float:
    """Run ``headend`` until ``done()`` (checked every 20 ms) and stop it; the seconds taken."""
    started = time.monotonic()
    task = asyncio.create_task(headend.run())
    try:
        deadline = started + timeout
        while not done():
            if task.done():
                task.result()
            if time.monotonic() > deadline:
                raise AssertionError(f"not done within {timeout} s: {headend.status()}")
            await asyncio.sleep(0.02)
        if settle:
            await asyncio.sleep(settle)
        return time.monotonic() - started
    finally:
        await headend.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
