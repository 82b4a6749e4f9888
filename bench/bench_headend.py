"""Benchmarks of the headend against the simulator, through the Django repository on SQLite.

Run with ``.venv/bin/python bench/bench_headend.py [sweep|throughput|trip|all]`` (default all;
each part runs in its own process with its own temporary data directory; ``DATABASE_URL`` is
honoured, SQLite otherwise). Each part prints a Markdown table and exits non-zero when its target
is missed.

sweep
    The sample site (22 gateways, 695 meters) simulated with bus timing on, in a thread; the
    headend sweeps status only (no full readings, no time sync). The figure is the slowest line's
    duration of one complete status pass, after a warm-up pass, against the floor: for each bus
    the sum over its meters and status requests of (request bytes + reply bytes) × bits per
    byte / baud + the meter's turnaround; the site floor is the slowest bus's. Target: sweep
    ≤ 1.10 × floor.
throughput
    300 transparent gateways × 32 DL/T 645 meters (``BENCH_HEADEND_GATEWAYS``), simulated
    without bus timing in their own process pinned to one core; the headend, with its default
    options but for every poll being a full reading, in this process on the other core. The
    headend still spaces requests by the inter-frame gap of the lines' 2400 baud (16 ms), so
    each line reads at most ~5 meters a second: the gateways are many enough for the gap not to
    be the limit. Values stored per second (``Reading.value_count`` of the readings written),
    readings per second, this process's CPU time per reading over the window and the mean round
    trip of a request. Target: ≥ 15,000 values/s.
trip
    One transparent gateway of 32 DL/T 645 meters at 9600 baud, timing on, status sweeps
    running; a trip is queued (``request_command``) for one meter mid-sweep and the database is
    polled until the command is confirmed. Five meters, median and max. Target: ≤ 2 frame times +
    1 s, a frame time being the longest single status exchange on that bus: (request bytes +
    reply bytes) × 11 / 9600 + the meter's turnaround.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import cpu_model as _cpu_model

PARTS = ("sweep", "throughput", "trip")
SWEEP_TARGET = 1.10
VALUES_TARGET = 15_000
THROUGHPUT_GATEWAYS = int(os.environ.get("BENCH_HEADEND_GATEWAYS", "300"))
THROUGHPUT_WARM_UP = 5.0
THROUGHPUT_WINDOW = 20.0
TRIP_BAUD = 9600
TRIP_REPEATS = 5
FIRST_PORT = int(os.environ.get("BENCH_HEADEND_FIRST_PORT", "23001"))


def _machine() -> str:
    return f"Machine: {_cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def _django() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openprepaid.settings")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _admin():
    from openprepaid.domain.operators.models import Operator

    admin = Operator.objects.filter(username="benchadmin").first()
    if admin is None:
        admin = Operator.objects.create_user(
            username="benchadmin", password="bench-" + "x" * 12, role="administrator"
        )
    return admin


def _site_from_listing(code: str, listing: dict) -> None:
    """Site ``code`` with the listing's gateways (its real ports) and meters, one unit each."""
    from openprepaid.domain.sites.models import Building, Floor, Gateway, Meter, Site, Unit

    site = Site.objects.create(code=code, name=code)
    floor = Floor.objects.create(building=Building.objects.create(site=site, name="B"), name="1F")
    for g in listing["gateways"]:
        gateway = Gateway.objects.create(
            site=site,
            name=g["name"],
            transport=g["transport"],
            host=g["host"],
            port=g["port"],
            baud_rate=g["baud_rate"],
            parity=g["parity"],
        )
        units = Unit.objects.bulk_create(
            [
                Unit(site=site, floor=floor, code=f"{g['name']}-{i:02d}", kind="shop")
                for i in range(len(g["meters"]))
            ]
        )
        Meter.objects.bulk_create(
            [
                Meter(
                    gateway=gateway,
                    unit=unit,
                    address=m["address"],
                    protocol=m["protocol"],
                    profile=m["profile"],
                    cost_control=m["cost_control"],
                    lifecycle="opened",
                )
                for unit, m in zip(units, g["meters"], strict=True)
            ]
        )


def _exchange_seconds(sim, line, meter) -> float:
    """Line time of ``meter``'s status requests and replies, with its turnaround per request."""
    from openprepaid.headend.reader import STATUS, dlt645_requests, is_modbus, modbus_requests
    from openprepaid.headend.transport import frame_seconds
    from openprepaid.protocol.dlt645 import NEED_DATA, Decoder, encode_request
    from openprepaid.protocol.dlt645.frame import encode_frame
    from openprepaid.protocol.modbus.rtu import encode_rtu

    def measure(sim_meter) -> float:
        now = sim.clock.now()
        total = 0.0
        if is_modbus(meter):
            unit = int(meter.address)
            for request in modbus_requests(meter, STATUS):
                out = len(encode_rtu(unit, request))
                back = len(encode_rtu(unit, sim_meter.handle_modbus(request, now)))
                total += frame_seconds(out + back, line) + sim_meter.turnaround
            return total
        for request in dlt645_requests(meter, STATUS):
            raw = encode_request(request)
            decoder = Decoder()
            decoder.receive_data(raw)
            frame = decoder.next_event()
            assert frame is not NEED_DATA
            reply = sim_meter.handle_dlt645(frame, now)
            back = len(encode_frame(reply, sim_meter.reply_preamble))
            total += frame_seconds(len(raw) + back, line) + sim_meter.turnaround
        return total

    return sim.with_meter(meter.address, measure, gateway=line.name)


def _max_exchange_seconds(sim, line, meter) -> float:
    """The longest single status exchange of ``meter`` (DL/T 645)."""
    from openprepaid.headend.reader import STATUS, dlt645_requests
    from openprepaid.headend.transport import frame_seconds
    from openprepaid.protocol.dlt645 import Decoder, encode_request
    from openprepaid.protocol.dlt645.frame import encode_frame

    def measure(sim_meter) -> float:
        longest = 0.0
        for request in dlt645_requests(meter, STATUS):
            raw = encode_request(request)
            decoder = Decoder()
            decoder.receive_data(raw)
            reply = sim_meter.handle_dlt645(decoder.next_event(), sim.clock.now())
            back = len(encode_frame(reply, sim_meter.reply_preamble))
            longest = max(longest, frame_seconds(len(raw) + back, line) + sim_meter.turnaround)
        return longest

    return sim.with_meter(meter.address, measure, gateway=line.name)


def _sweep_options():
    from openprepaid.headend.options import HeadendOptions

    return HeadendOptions(
        full_reading_every=dt.timedelta(days=1),
        full_reading_at_start=False,  # the first full readings spread over a day: none here
        time_sync_daily=False,
        max_drift=dt.timedelta.max,
        stagger=0.0,
        seed=1,
    )


async def _sweeps(headend, wanted: int, limit: float) -> dict[int, list[float]]:
    """Per line, the durations of complete status passes, until each has ``wanted`` after the
    first (warm-up) pass, or ``limit`` seconds."""
    seen: dict[int, float] = {}
    done: dict[int, list[float]] = {}
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        for gateway_id, (_, worker, _) in headend.workers.items():
            started = worker.sweep_started
            if seen.get(gateway_id) != started:
                if gateway_id in seen and worker.last_sweep is not None:
                    done.setdefault(gateway_id, []).append(worker.last_sweep)
                seen[gateway_id] = started
        complete = done and len(done) == len(headend.workers)
        if complete and all(len(d) > wanted for d in done.values()):
            break
        await asyncio.sleep(0.02)
    return {k: v[1:] for k, v in done.items()}  # the first pass includes connecting


# --- (a) status sweep ----------------------------------------------------------------------


def part_sweep() -> int:
    _django()
    from openprepaid.domain.metering.repository import DjangoRepository
    from openprepaid.domain.sample.services import load_sample_site
    from openprepaid.domain.sample.sitegen import sample_site_tables
    from openprepaid.domain.sites.models import Gateway, Status
    from openprepaid.headend.service import Headend
    from openprepaid.simulator.runner import SimulatorThread
    from openprepaid.simulator.sitespec import site_from_tables

    load_sample_site()
    spec = site_from_tables(sample_site_tables())
    spec = dataclasses.replace(
        spec, gateways=tuple(dataclasses.replace(g, port=0) for g in spec.gateways)
    )
    with SimulatorThread(spec, timing=True) as sim:
        names = {g.name for g in spec.gateways}
        for gateway in Gateway.objects.all():
            if gateway.name in names:
                host, port = sim.address(gateway.name)
                Gateway.objects.filter(pk=gateway.pk).update(host=host, port=port)
            else:
                Gateway.objects.filter(pk=gateway.pk).update(status=Status.RETIRED)
        repo = DjangoRepository(full_reading_every=dt.timedelta(days=1))
        lines = repo.lines()
        floors = {
            line.gateway_id: sum(_exchange_seconds(sim, line, m) for m in line.meters)
            for line in lines
        }
        headend = Headend(repo, options=_sweep_options())

        async def run() -> dict[int, list[float]]:
            await headend.start()
            try:
                return await _sweeps(headend, 1, limit=max(floors.values()) * 4 + 30)
            finally:
                await headend.stop()

        sweeps = asyncio.run(run())
        failures = sum(w["failures"] for w in headend.status()["gateways"])
    meters = sum(len(line.meters) for line in lines)
    by_id = {line.gateway_id: line for line in lines}
    print(_machine())
    print(f"Sample site: {len(lines)} gateways, {meters} meters, bus timing on\n")
    print("| gateway | baud | meters | floor | status sweep | ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    worst_ratio = 0.0
    for gateway_id, floor in sorted(floors.items(), key=lambda kv: -kv[1]):
        line = by_id[gateway_id]
        measured = max(sweeps.get(gateway_id) or [float("nan")])
        ratio = measured / floor if floor else float("nan")
        worst_ratio = max(worst_ratio, ratio) if ratio == ratio else float("inf")
        print(
            f"| {line.name} | {line.baud_rate} | {len(line.meters)} | {floor:.2f} s "
            f"| {measured:.2f} s | {ratio:.3f} |"
        )
    site_floor = max(floors.values())
    site_sweep = max((max(v) for v in sweeps.values() if v), default=float("nan"))
    ok = len(sweeps) == len(lines) and site_sweep <= SWEEP_TARGET * site_floor
    print(
        f"\n| site | floor (slowest bus) | sweep (slowest line) | ratio | target | met |\n"
        f"|---|---:|---:|---:|---:|:---:|\n"
        f"| sample site | {site_floor:.2f} s | {site_sweep:.2f} s | {site_sweep / site_floor:.3f} "
        f"| ≤ {SWEEP_TARGET:.2f} | {'yes' if ok else 'NO'} |"
    )
    print(
        f"\nStatus fresh within {site_sweep:.1f} s on every meter; poll failures: {failures}; "
        f"worst line ratio {worst_ratio:.3f}"
    )
    return 0 if ok else 1


# --- (b) throughput ------------------------------------------------------------------------


def _process_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def part_throughput() -> int:
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else [0]
    sim_core, headend_core = cores[0], cores[-1]
    tmp = os.environ["OPENPREPAID_DATA_DIR"]
    listing_path = Path(tmp) / "listing.json"
    command = [
        *("taskset", "-c", str(sim_core)),
        *(sys.executable, "-m", "openprepaid", "simulate"),
        *("--gateways", str(THROUGHPUT_GATEWAYS), "--meters-per-gateway", "32"),
        *("--first-port", str(FIRST_PORT), "--no-timing", "--control-port", "0"),
        *("--no-state", "--json", str(listing_path)),
    ]
    simulator = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # noqa: S603
    try:
        deadline = time.monotonic() + 120
        while not listing_path.exists():
            if simulator.poll() is not None or time.monotonic() > deadline:
                print("the simulator did not start", file=sys.stderr)
                return 1
            time.sleep(0.2)
        time.sleep(0.5)
        listing = json.loads(listing_path.read_text(encoding="utf-8"))
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, {headend_core})
        _django()
        from openprepaid.domain.metering.repository import DjangoRepository
        from openprepaid.headend.options import HeadendOptions
        from openprepaid.headend.service import Headend

        _site_from_listing("THR", listing)
        every = dt.timedelta(milliseconds=1)  # every poll a full reading
        options = HeadendOptions(
            full_reading_every=every,
            time_sync_daily=False,
            max_drift=dt.timedelta.max,
            stagger=0.5,
            seed=1,
        )
        headend = Headend(DjangoRepository(full_reading_every=every), options=options)

        async def run() -> tuple[int, int, float, float, float]:
            await headend.start()
            try:
                await asyncio.sleep(THROUGHPUT_WARM_UP)
                before = headend.status()
                cpu0, sim0 = time.process_time(), _process_cpu_seconds(simulator.pid)
                t0 = time.perf_counter()
                await asyncio.sleep(THROUGHPUT_WINDOW)
                after = headend.status()
                elapsed = time.perf_counter() - t0
                cpu = time.process_time() - cpu0
                sim_cpu = _process_cpu_seconds(simulator.pid) - sim0
                values = after["values_stored"] - before["values_stored"]
                readings = after["readings_stored"] - before["readings_stored"]
                return values, readings, elapsed, cpu, sim_cpu
            finally:
                await headend.stop()

        values, readings, elapsed, cpu, sim_cpu = asyncio.run(run())
        from openprepaid.domain.metering.models import MeterReading

        rows = MeterReading.objects.count()
        lines = headend.status()["gateways"]
        failures = sum(w["failures"] for w in lines)
        rtts = [w["rtt_ms_avg"] for w in lines if w["rtt_ms_avg"] is not None]
        rtt = statistics.mean(rtts) if rtts else float("nan")
    finally:
        simulator.send_signal(signal.SIGTERM)
        simulator.wait(timeout=60)
    from django.db import connection

    meters = sum(len(g["meters"]) for g in listing["gateways"])
    rate = values / elapsed
    ok = rate >= VALUES_TARGET
    print(_machine())
    print(
        f"Simulator on core {sim_core} (timing off), headend on core {headend_core}, "
        f"database {connection.vendor}; {THROUGHPUT_WINDOW:.0f} s window after "
        f"{THROUGHPUT_WARM_UP:.0f} s warm-up\n"
    )
    print(
        "| meters | gateways | values stored/s | readings/s | values/reading "
        "| headend CPU/reading | round trip | simulator CPU | rows stored | poll failures "
        "| target | met |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|")
    print(
        f"| {meters:,} | {len(listing['gateways'])} | {rate:,.0f} | {readings / elapsed:,.0f} "
        f"| {values / readings if readings else 0:.1f} "
        f"| {cpu / readings * 1e3 if readings else 0:.2f} ms | {rtt:.1f} ms "
        f"| {sim_cpu / elapsed:.0%} "
        f"| {rows:,} | {failures} | ≥ {VALUES_TARGET:,} | {'yes' if ok else 'NO'} |"
    )
    return 0 if ok else 1


# --- (c) trip latency ----------------------------------------------------------------------


def part_trip() -> int:
    _django()
    from openprepaid.domain.metering.models import Command
    from openprepaid.domain.metering.repository import DjangoRepository
    from openprepaid.domain.metering.services import request_command
    from openprepaid.domain.sites.models import Meter
    from openprepaid.headend.model import CommandState
    from openprepaid.headend.options import HeadendOptions
    from openprepaid.headend.service import Headend
    from openprepaid.simulator.runner import SimulatorThread
    from openprepaid.simulator.sitespec import site_from_options

    spec = site_from_options(gateways=1, meters_per_gateway=32, first_port=0, baud_rate=TRIP_BAUD)
    admin = _admin()
    with SimulatorThread(spec, timing=True) as sim:
        _site_from_listing("TRIP", sim.listing())
        repo = DjangoRepository(full_reading_every=dt.timedelta(days=1))
        (line,) = repo.lines()
        frame = max(_max_exchange_seconds(sim, line, m) for m in line.meters)
        sweep_floor = sum(_exchange_seconds(sim, line, m) for m in line.meters)
        target = 2 * frame + 1.0
        options = dataclasses.replace(_sweep_options(), claim_every=HeadendOptions().claim_every)
        headend = Headend(repo, options=options)
        meters = list(Meter.objects.filter(gateway_id=line.gateway_id).order_by("id"))
        picks = [meters[i * len(meters) // TRIP_REPEATS + 3] for i in range(TRIP_REPEATS)]

        def trip(meter) -> tuple[int, float]:
            command = request_command(acting_user=admin, meter=meter, kind="trip")
            return command.pk, time.perf_counter()

        def state(pk: int) -> str:
            return Command.objects.values_list("state", flat=True).get(pk=pk)

        async def run() -> list[float | None]:
            await headend.start()
            latencies: list[float | None] = []
            try:
                await _sweeps(headend, 0, limit=sweep_floor * 3 + 10)
                for n, meter in enumerate(picks):
                    await asyncio.sleep(0.37 + 0.61 * n)  # somewhere mid-sweep
                    pk, started = await asyncio.to_thread(trip, meter)
                    latency = None
                    while time.perf_counter() - started < 30:
                        current = await asyncio.to_thread(state, pk)
                        if current == CommandState.CONFIRMED:
                            latency = time.perf_counter() - started
                            break
                        if current in (CommandState.FAILED, CommandState.EXPIRED):
                            break
                        await asyncio.sleep(0.01)
                    latencies.append(latency)
            finally:
                await headend.stop()
            return latencies

        latencies = asyncio.run(run())
        tripped = sum(
            sim.inspect(m.address, line.name)["relay"] == "open" for m in picks
        )  # the simulated meters' own relays, not the database's word
    got = [x for x in latencies if x is not None]
    ok = len(got) == len(latencies) == tripped and max(got) <= target
    print(_machine())
    print(
        f"One transparent gateway, {len(line.meters)} DL/T 645 meters at {TRIP_BAUD} baud, "
        f"bus timing on, status sweeps running (sweep floor {sweep_floor:.2f} s)"
    )
    print(
        f"Frame time = the longest single status exchange on the bus: (request + reply bytes) "
        f"× 11 / {TRIP_BAUD} + the meter's turnaround = {frame * 1000:.0f} ms\n"
    )
    print("| trips | confirmed | relay open | median | max | target (2 frames + 1 s) | met |")
    print("|---:|---:|---:|---:|---:|---:|:---:|")
    median = statistics.median(got) if got else float("nan")
    print(
        f"| {len(latencies)} | {len(got)} | {tripped} | {median * 1000:.0f} ms "
        f"| {max(got, default=float('nan')) * 1000:.0f} ms | ≤ {target * 1000:.0f} ms "
        f"| {'yes' if ok else 'NO'} |"
    )
    return 0 if ok else 1


def main() -> int:
    part = sys.argv[1] if len(sys.argv) > 1 else "all"
    if part == "all":
        worst = 0
        for name in PARTS:
            print(f"\n## {name}\n", flush=True)
            code = subprocess.call([sys.executable, __file__, name])  # noqa: S603
            worst = worst or code
        return worst
    if part not in PARTS:
        print(f"usage: {sys.argv[0]} [{'|'.join(PARTS)}|all]", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix=f"openprepaid-bench-{part}-") as tmp:
        os.environ["OPENPREPAID_DATA_DIR"] = tmp
        return {"sweep": part_sweep, "throughput": part_throughput, "trip": part_trip}[part]()


if __name__ == "__main__":
    sys.exit(main())
