"""Benchmark: server time of the meter board grid partial for 10,000 meters.

Run with ``.venv/bin/python bench/bench_board.py [METERS]``. A temporary data directory holds a
fresh SQLite database unless ``DATABASE_URL`` names another (then the site ``BENCH`` is created
there once and reused). The site has 10,000 DL/T 645 meters on 100 gateways in 4 buildings of
25 floors, each with a status row, half the meters' tenants with an open account. An
administrator asks for the board's htmx grid (``/board/?site=…`` with ``HX-Request``) once to
warm up, then 7 times; the median is the figure. Target: under 300 ms.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import tempfile
import time
from decimal import Decimal

from machine import cpu_model as _cpu_model

TARGET_MS = 300.0
RUNS = 7
TILE = b'data-testid="meter-tile"'
GATEWAYS = 100


def _build_site(count: int):
    from django.utils import timezone

    from openprepaid.domain.metering.models import MeterStatus
    from openprepaid.domain.sites.models import Building, Floor, Gateway, Meter, Site, Unit
    from openprepaid.domain.tenants.models import Account, AccountMeter, Tenant

    site = Site.objects.filter(code="BENCH").first()
    if site is not None:
        return site
    site = Site.objects.create(code="BENCH", name="Bench")
    now = timezone.now()
    gateways = [
        Gateway.objects.create(
            site=site, name=f"GW{g}", transport="transparent_tcp", host="127.0.0.1", port=20000 + g
        )
        for g in range(GATEWAYS)
    ]
    units = []
    for b in range(4):
        building = Building.objects.create(site=site, name=f"B{b}")
        for f in range(25):
            floor = Floor.objects.create(building=building, name=f"{f}F", level=f)
            for u in range(count // 100):
                units.append(
                    Unit(
                        site=site,
                        floor=floor,
                        code=f"B{b}-{f:02d}-{u:03d}",
                        kind="shop",
                        name=f"Shop {b}{f}{u}",
                    )
                )
    Unit.objects.bulk_create(units, batch_size=2000)
    units = list(Unit.objects.filter(site=site).order_by("id"))
    Meter.objects.bulk_create(
        [
            Meter(
                gateway=gateways[i % GATEWAYS],
                unit=unit,
                address=f"{i + 1:012d}",
                protocol="dlt645_2007",
                profile="dlt645-prepaid-1p",
                cost_control="local",
                lifecycle="opened",
            )
            for i, unit in enumerate(units)
        ],
        batch_size=2000,
    )
    meters = list(Meter.objects.filter(gateway__site=site).order_by("id"))
    MeterStatus.objects.bulk_create(
        [
            MeterStatus(
                meter=m,
                last_seen_at=now,
                account_opened=True,
                remaining=Decimal(i % 300),
                relay_open=i % 17 == 0,
                keep_power=i % 23 == 0,
                lost_contact=i % 97 == 0,
                lost_since=now if i % 97 == 0 else None,
            )
            for i, m in enumerate(meters)
        ],
        batch_size=2000,
    )
    Tenant.objects.bulk_create(
        [
            Tenant(site=site, code=f"T{i:05d}", name=f"租户 {i}", kind="company")
            for i in range(count // 2)
        ],
        batch_size=2000,
    )
    tenants = list(Tenant.objects.filter(site=site).order_by("id"))
    Account.objects.bulk_create(
        [
            Account(site=site, number=f"A{i:06d}", tenant=t, status="open", opened_at=now)
            for i, t in enumerate(tenants)
        ],
        batch_size=2000,
    )
    accounts = list(Account.objects.filter(site=site).order_by("id"))
    AccountMeter.objects.bulk_create(
        [
            AccountMeter(account=accounts[i // 2], meter=m, attached_at=now)
            for i, m in enumerate(meters)
        ],
        batch_size=2000,
    )
    return site


def _measure(count: int) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from openprepaid.domain.operators.models import Operator
    from openprepaid.domain.sites.models import Meter

    call_command("migrate", verbosity=0)
    site = _build_site(count)
    admin = Operator.objects.filter(username="benchadmin").first()
    if admin is None:
        admin = Operator.objects.create_user(
            username="benchadmin", password="bench-" + "x" * 12, role="administrator"
        )
    client = Client(HTTP_HOST="localhost")
    client.force_login(admin, backend="django.contrib.auth.backends.ModelBackend")
    url = f"/board/?site={site.pk}"
    headers = {"HX-Request": "true"}
    client.get(url, headers=headers)  # warm-up
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        response = client.get(url, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            print(f"the grid answered {response.status_code}", file=sys.stderr)
            return 1
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers)
    meters = Meter.objects.filter(gateway__site=site).count()
    tiles = response.content.count(TILE)
    median = statistics.median(times)
    ok = median < TARGET_MS and tiles == meters
    print(f"Machine: {_cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"Database: {connection.vendor}\n")
    print("| meters | tiles | bytes | queries | median (7) | min | max | target | met |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|:---:|")
    print(
        f"| {meters:,} | {tiles:,} | {len(response.content):,} | {len(queries)} "
        f"| {median:.0f} ms | {min(times):.0f} ms | {max(times):.0f} ms "
        f"| < {TARGET_MS:.0f} ms | {'yes' if ok else 'NO'} |"
    )
    return 0 if ok else 1


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openprepaid.settings")
    with tempfile.TemporaryDirectory(prefix="openprepaid-bench-board-") as tmp:
        os.environ["OPENPREPAID_DATA_DIR"] = tmp
        return _measure(count)


if __name__ == "__main__":
    sys.exit(main())
