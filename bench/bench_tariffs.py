"""Benchmark: pricing reading intervals with ``openprepaid.calc.tariffs.price_interval``.

Run with ``.venv/bin/python bench/bench_tariffs.py``. In one process, on one core: 70 meters ×
one month (March 2026) of 15-minute readings = 201 600 intervals per tariff kind, priced in order
meter by meter carrying the tier cycle, the way the remote billing engine does. Each schedule has
a price change on 15 March at 00:00 (one interval per meter is split there); the month's own
period boundaries and (for tiered kinds) the month start are crossed where they fall. The
registers are built beforehand, so only pricing is timed. Each kind is timed REPETITIONS times
(after one warm-up) and the median rate printed as a Markdown table, with the CPU time per
interval beside it (the figure to trust on a busy machine).
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from machine import cpu_model as _cpu_model

METERS = 70
INTERVALS_PER_METER = 31 * 96  # March, every 15 minutes
REPETITIONS = 3
TZ = ZoneInfo("Asia/Shanghai")

TOU = {
    "prices": {"sharp": "1.3000", "peak": "1.1000", "flat": "0.7000", "valley": "0.3000"},
    "day_tables": {
        "workday": [
            ["00:00", "valley"],
            ["08:00", "peak"],
            ["11:00", "sharp"],
            ["13:00", "flat"],
            ["17:00", "peak"],
            ["21:00", "flat"],
            ["23:00", "valley"],
        ],
        "holiday": [["00:00", "valley"], ["08:00", "flat"], ["23:00", "valley"]],
    },
    "seasons": [{"from": "01-01", "workday": "workday", "holiday": "holiday"}],
    "weekends_are_holidays": True,
}
TIERS = [
    {"up_to": "200", "price": "0.5000"},
    {"up_to": "400", "price": "0.6000"},
    {"up_to": None, "price": "0.8000"},
]
ADDERS = [
    {"up_to": "200", "adder": "0.0000"},
    {"up_to": "400", "adder": "0.0500"},
    {"up_to": None, "adder": "0.3000"},
]


def main() -> int:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core

    from openprepaid.calc.tariffs import (
        Registers,
        TariffSchedule,
        parse_tariff,
        price_interval,
    )

    def schedule(kind: str, definition: dict, changed: dict) -> TariffSchedule:
        return TariffSchedule(
            [
                (datetime(2026, 1, 1, tzinfo=TZ), parse_tariff(kind, definition)),
                (datetime(2026, 3, 15, tzinfo=TZ), parse_tariff(kind, changed)),
            ]
        )

    dearer_tou = {**TOU, "prices": {**TOU["prices"], "peak": "1.2000"}}
    cases = [
        ("flat", schedule("flat", {"price": "0.8000"}, {"price": "0.8500"}), True),
        ("tou, period registers", schedule("tou", TOU, dearer_tou), True),
        ("tou, total only (split by the calendar)", schedule("tou", TOU, dearer_tou), False),
        (
            "tiered (monthly)",
            schedule(
                "tiered",
                {"cycle": "month", "tiers": TIERS},
                {"cycle": "month", "tiers": [{**TIERS[0], "price": "0.5500"}, *TIERS[1:]]},
            ),
            True,
        ),
        (
            "tiered_tou, period registers",
            schedule(
                "tiered_tou",
                {**TOU, "cycle": "month", "tiers": ADDERS},
                {**dearer_tou, "cycle": "month", "tiers": ADDERS},
            ),
            True,
        ),
    ]

    start = datetime(2026, 3, 1, tzinfo=TZ)
    times = [start + timedelta(minutes=15 * i) for i in range(INTERVALS_PER_METER + 1)]
    meters = []
    for meter in range(METERS):
        readings, energy = [], [Decimal("1000.00")] * 4
        for i in range(INTERVALS_PER_METER + 1):
            energy = list(energy)
            energy[i % 4] += Decimal((meter * 7 + i * 13) % 40 + 1).scaleb(-2)
            readings.append(Registers(sum(energy), *energy))
        meters.append(readings)
    totals_only = [[Registers(r.total) for r in readings] for readings in meters]
    intervals = METERS * INTERVALS_PER_METER

    def run(tariffs: TariffSchedule, with_periods: bool) -> Decimal:
        amount = Decimal(0)
        for readings in meters if with_periods else totals_only:
            key, cycle = "", Decimal(0)
            for i in range(INTERVALS_PER_METER):
                charge = price_interval(
                    tariffs,
                    start=times[i],
                    end=times[i + 1],
                    before=readings[i],
                    after=readings[i + 1],
                    cycle_energy=cycle,
                    cycle_key=key,
                    tz=TZ,
                )
                key, cycle = charge.cycle_key, charge.cycle_energy
                amount += charge.amount_exact
        return amount

    print(
        f"Machine: {_cpu_model()}, {os.cpu_count()} cores (run on one), "
        f"Python {platform.python_version()}"
    )
    print(
        f"Intervals: {METERS} meters × {INTERVALS_PER_METER} (a month of 15-minute readings) = "
        f"{intervals:,} per kind, median of {REPETITIONS} runs\n"
    )
    print("| tariff | intervals/s | µs per interval | CPU µs per interval |")
    print("|---|---:|---:|---:|")
    for name, tariffs, with_periods in cases:
        run(tariffs, with_periods)  # warm-up (and the calendar's day memo)
        rates, cpu = [], []
        for _ in range(REPETITIONS):
            started, started_cpu = time.perf_counter(), time.process_time()
            run(tariffs, with_periods)
            rates.append(intervals / (time.perf_counter() - started))
            cpu.append((time.process_time() - started_cpu) / intervals)
        rate = statistics.median(rates)
        print(f"| {name} | {rate:,.0f} | {1e6 / rate:.1f} | {1e6 * statistics.median(cpu):.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
