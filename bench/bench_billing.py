"""Benchmark: remote-mode billing of a month of 15-minute readings for 700 meters on SQLite.

Run with ``.venv/bin/python bench/bench_billing.py [METERS] [DAYS]`` (default 700 meters, 30
days: 700 × 2,880 = 2,016,000 readings). A temporary data directory holds a fresh SQLite
database unless ``DATABASE_URL`` names another. Not timed: the site (700 remotely controlled
meters on 25 gateways, one open account each with 1,000.00), a tiered time-of-use tariff
(sharp/peak/flat/valley by a day table, monthly tiers at 200 and 400 kWh) and the month's
readings (every 15 minutes: total and the four period registers) inserted straight into the
readings table.

Timed: the billing engine run day by day (``engine.bill_meters(meters, until=end of day)``, the
entrance the headend's store hook uses): loading each day's readings, pricing every 15-minute
interval with ``calc.tariffs.price_interval`` (tier cycle carried), rounding with the residue
carried, one consumption entry per meter per day through ``ledger.post_bulk`` (alarm levels and
relay intents re-evaluated), the cursors written. Then the ledger check must find zero
differences. Target: under 60 s.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import resource
import sys
import tempfile
import time
from decimal import Decimal

from machine import cpu_model as _cpu_model

TARGET_S = 60.0
GATEWAYS = 25
STEP = dt.timedelta(minutes=15)
TARIFF = {
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
        ]
    },
    "seasons": [{"from": "01-01", "workday": "workday"}],
    "cycle": "month",
    "tiers": [
        {"up_to": "200.00", "adder": "0.0000"},
        {"up_to": "400.00", "adder": "0.0500"},
        {"up_to": None, "adder": "0.3000"},
    ],
}
# Local hour → period index (sharp, peak, flat, valley), as the day table above.
_PERIOD_OF_HOUR = [3] * 8 + [1] * 3 + [0] * 2 + [2] * 4 + [1] * 4 + [2] * 2 + [3]


def _build(count: int, start: dt.datetime):
    from django.db import transaction

    from openprepaid.domain.billing.ledger import Posting, post_bulk
    from openprepaid.domain.billing.models import EntryKind
    from openprepaid.domain.billing.services.tariffs import assign_tariff, create_tariff
    from openprepaid.domain.sites.models import Building, Floor, Gateway, Meter, Site, Unit
    from openprepaid.domain.tenants.models import Account, AccountMeter, Tenant

    site = Site.objects.create(code="BILL", name="Billing bench")
    gateways = [
        Gateway.objects.create(
            site=site, name=f"GW{g}", transport="transparent_tcp", host="127.0.0.1", port=20000 + g
        )
        for g in range(GATEWAYS)
    ]
    floor = Floor.objects.create(
        building=Building.objects.create(site=site, name="A"), name="1F", level=1
    )
    Unit.objects.bulk_create(
        [Unit(site=site, floor=floor, code=f"U{i:04d}", kind="shop") for i in range(count)]
    )
    units = list(Unit.objects.filter(site=site).order_by("id"))
    Meter.objects.bulk_create(
        [
            Meter(
                gateway=gateways[i % GATEWAYS],
                unit=unit,
                address=f"{i + 1:012d}",
                protocol="dlt645_2007",
                profile="dlt645-prepaid-1p",
                cost_control="remote",
                lifecycle="opened",
            )
            for i, unit in enumerate(units)
        ]
    )
    meters = list(Meter.objects.filter(gateway__site=site).order_by("id"))
    Tenant.objects.bulk_create(
        [
            Tenant(site=site, code=f"T{i:05d}", name=f"租户 {i}", kind="company")
            for i in range(count)
        ]
    )
    tenants = list(Tenant.objects.filter(site=site).order_by("id"))
    opened = start - dt.timedelta(days=1)
    Account.objects.bulk_create(
        [
            Account(site=site, number=f"A{i:06d}", tenant=t, status="open", opened_at=opened)
            for i, t in enumerate(tenants)
        ]
    )
    accounts = list(Account.objects.filter(site=site).order_by("id"))
    AccountMeter.objects.bulk_create(
        [
            AccountMeter(account=a, meter=m, attached_at=opened)
            for a, m in zip(accounts, meters, strict=True)
        ]
    )
    with transaction.atomic():
        post_bulk(
            {
                a.pk: [
                    Posting(
                        kind=EntryKind.OPENING,
                        amount=Decimal("1000.00"),
                        external_id=f"open-{a.pk}",
                        effective_at=opened,
                    )
                ]
                for a in accounts
            }
        )
    tariff = create_tariff(
        acting_user=None,
        site=site,
        code="TOU",
        name="Tiered time of use",
        kind="tiered_tou",
        definition=TARIFF,
        effective_from=opened,
    )
    assign_tariff(acting_user=None, tariff=tariff, scope="site", effective_from=opened)
    return site, [m.pk for m in meters]


def _insert_readings(meter_ids: list[int], start: dt.datetime, steps: int) -> int:
    """The month's readings, straight into the table (one statement per day)."""
    from django.db import connection
    from django.utils import timezone

    from openprepaid.domain.metering.models import MeterReading

    table = MeterReading._meta.db_table
    # The table name from the model's metadata, values as parameters.
    sql = (
        f"INSERT INTO {table} (meter_id, read_at, kind, energy_total, energy_sharp, energy_peak,"  # noqa: S608
        " energy_flat, energy_valley, voltage, current) VALUES (%s, %s, 'full', %s, %s, %s, %s,"
        " %s, '[]', '[]')"
    )
    zone = timezone.get_default_timezone()
    registers = {pk: [0, 0, 0, 0] for pk in meter_ids}  # hundredths of kWh per period
    day_steps = 96
    written = 0
    for day_start in range(0, steps, day_steps):
        rows = []
        for step in range(day_start, min(day_start + day_steps, steps)):
            moment = start + step * STEP
            hour = moment.astimezone(zone).hour
            period = _PERIOD_OF_HOUR[hour]
            stamp = connection.ops.adapt_datetimefield_value(moment)
            for pk in meter_ids:
                values = registers[pk]
                if step:
                    values[period] += 5 + (pk * 7919 + step * 104729) % 50
                total = sum(values)
                rows.append(
                    (
                        pk,
                        stamp,
                        f"{total / 100:.2f}",
                        *(f"{v / 100:.2f}" for v in values),
                    )
                )
        with connection.cursor() as cursor, _atomic():
            cursor.executemany(sql, rows)
        written += len(rows)
    return written


def _atomic():
    from django.db import transaction

    return transaction.atomic()


def _measure(count: int, days: int) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from openprepaid.domain.billing import engine
    from openprepaid.domain.billing.check import check_ledger
    from openprepaid.domain.billing.models import LedgerEntry

    call_command("migrate", verbosity=0)
    zone = timezone.get_default_timezone()
    start = dt.datetime(2026, 1, 1, tzinfo=zone)
    steps = days * 96
    site, meter_ids = _build(count, start)
    readings = _insert_readings(meter_ids, start, steps)
    before = LedgerEntry.objects.count()

    started = time.perf_counter()
    cpu_started = time.process_time()
    priced = 0
    for day in range(days):
        until = start + dt.timedelta(days=day + 1) - STEP
        result = engine.bill_meters(meter_ids, until=until)
        priced += result.priced
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    entries = LedgerEntry.objects.count() - before
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    check = check_ledger(site)
    ok = elapsed < TARGET_S and check.ok and priced == readings - count
    print(f"Machine: {_cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"Database: {connection.vendor}\n")
    print(
        "| meters | readings | intervals priced | entries | elapsed | readings/s | CPU "
        "| peak RSS | ledger check | target | met |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|:---:|---:|:---:|")
    print(
        f"| {count:,} | {readings:,} | {priced:,} | {entries:,} | {elapsed:.1f} s "
        f"| {readings / elapsed:,.0f} | {cpu:.1f} s | {peak_mb:.0f} MB "
        f"| {len(check.differences)} differences | < {TARGET_S:.0f} s | {'yes' if ok else 'NO'} |"
    )
    return 0 if ok else 1


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 700
    days = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openprepaid.settings")
    with tempfile.TemporaryDirectory(prefix="openprepaid-bench-billing-") as tmp:
        os.environ["OPENPREPAID_DATA_DIR"] = tmp
        return _measure(count, days)


if __name__ == "__main__":
    sys.exit(main())
