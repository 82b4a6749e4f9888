"""Benchmark: one sale at the sales desk, end to end, as a cashier makes it.

Run with::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/bench_sale.py [N]

or ``make bench``. With a PostgreSQL ``DATABASE_URL`` the script creates its own database
``openprepaid_bench`` on that server (dropped first if left over, dropped again at the end), so
the database the URL names is never touched; without one it uses SQLite in a temporary folder
(the target is for PostgreSQL, the SQLite figure is shown for comparison).

Set-up (not timed): a site with 100 DL/T 645 meters in local cost control (本地费控), each in its
own account opened through ``open_account`` with an opening purchase, and a cashier. Timed:
``N`` (500) calls of ``openprepaid.domain.billing.services.sell`` by amount, each its own
transaction, spread over the accounts — each writes the sale with its receipt number (the day's
receipt counter, locked), the ledger entry (the account's balance row, locked; alarm level and
relay intent re-evaluated), the meter's next purchase count and its queued ``recharge`` command,
and the system-log row. After the run the rows are counted to prove every sale wrote them.
Printed: p50/p95/p99/max per sale and sales per second. Target: p95 under 50 ms on PostgreSQL.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from urllib.parse import urlsplit, urlunsplit

from machine import cpu_model as _cpu_model

TARGET_MS = 50.0
DEFAULT_SALES = 500
ACCOUNTS = 100
WARM_UP = 20
BENCH_DB = "openprepaid_bench"


def _percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of ``values``."""
    ordered = sorted(values)
    rank = max(1, round(fraction * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


# ------------------------------------------------------------------------------ the database


def _server_url(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


def _admin_command(url: str, sql: str) -> None:
    import psycopg

    parts = urlsplit(url)
    with psycopg.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password,
        dbname="postgres",
        autocommit=True,
    ) as connection:
        connection.execute(sql)


# ------------------------------------------------------------------------------------ set-up


def _build(accounts: int):
    from openprepaid.domain.billing.services import open_account
    from openprepaid.domain.operators.services import create_operator
    from openprepaid.domain.sites import services as site_services
    from openprepaid.domain.tenants import services as tenant_services

    site = site_services.create_site(acting_user=None, code="BENCH", name="Bench Plaza")
    gateways = [
        site_services.create_gateway(
            acting_user=None,
            site=site,
            name=f"GW{g}",
            transport="transparent_tcp",
            host="127.0.0.1",
            port=24000 + g,
        )
        for g in range((accounts + 31) // 32)
    ]
    floor = site_services.ensure_floor(
        acting_user=None, site=site, building_name="A座", floor_name="1F"
    )
    opened = []
    for n in range(accounts):
        unit = site_services.create_unit(
            acting_user=None, floor=floor, code=f"1F-{n + 1:03d}", kind="shop"
        )
        meter = site_services.create_meter(
            acting_user=None,
            gateway=gateways[n // 32],
            unit=unit,
            address=f"{202699000001 + n:012d}",
            protocol="dlt645_2007",
            profile="dlt645-prepaid-1p",
            cost_control="local",
        )
        tenant = tenant_services.create_tenant(
            acting_user=None, site=site, code=f"T{n + 1:04d}", name=f"商户 {n + 1}", kind="company"
        )
        account = tenant_services.register_account(acting_user=None, tenant=tenant, meters=[meter])
        open_account(
            acting_user=None,
            account=account,
            amount=Decimal("100.00"),
            payment_method="cash",
            external_id=f"bench-open-{n}",
        )
        account.refresh_from_db()
        opened.append(account)
    cashier = create_operator(
        acting_user=None,
        username="benchcashier",
        password="Sales-" + "Desk-Pass-2026",
        role="cashier",
        sites=[site],
    )
    return opened, cashier


def _measure(sales: int) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from openprepaid.domain.audit.models import SystemLog
    from openprepaid.domain.billing.models import EntryKind, LedgerEntry, Sale, SaleKind
    from openprepaid.domain.billing.services import sell
    from openprepaid.domain.metering.models import Command

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    accounts, cashier = _build(ACCOUNTS)
    setup_s = time.perf_counter() - started

    def one(index: int) -> Sale:
        return sell(
            acting_user=cashier,
            account=accounts[index % len(accounts)],
            payment_method="cash",
            external_id=f"bench-sale-{index}",
            amount=Decimal("50.00"),
        )

    for index in range(WARM_UP):
        one(-1 - index)
    log_before = SystemLog.objects.count()
    commands_before = Command.objects.count()
    times: list[float] = []
    cpu_started = time.process_time()
    receipts: set[str] = set()
    run_started = time.perf_counter()
    for index in range(sales):
        t0 = time.perf_counter()
        sale = one(index)
        times.append((time.perf_counter() - t0) * 1000)
        receipts.add(sale.receipt_number)
    run_s = time.perf_counter() - run_started
    cpu_ms = (time.process_time() - cpu_started) * 1000 / sales
    with CaptureQueriesContext(connection) as queries:
        one(-1 - WARM_UP)

    timed = Sale.objects.filter(external_id__startswith="bench-sale-", kind=SaleKind.SALE)
    entries = LedgerEntry.objects.filter(sale__in=timed, kind=EntryKind.SALE).count()
    commands = Command.objects.count() - commands_before
    logs = SystemLog.objects.count() - log_before
    complete = (
        timed.count() == sales + WARM_UP + 1
        and entries == sales + WARM_UP + 1
        and commands == sales + 1
        and logs >= sales + 1
        and len(receipts) == sales
        and all(receipts)
    )
    p50, p95, p99 = (_percentile(times, f) for f in (0.50, 0.95, 0.99))
    ok = complete and (p95 < TARGET_MS or connection.vendor != "postgresql")
    print(f"Machine: {_cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(
        f"Database: {connection.vendor} ({connection.settings_dict['NAME']}); set-up of"
        f" {ACCOUNTS} local meters and accounts {setup_s:.1f} s; {WARM_UP} warm-up sales;"
        f" {len(queries)} queries per sale\n"
    )
    print(
        "| sales | p50 | p95 | p99 | max | mean | CPU/sale | sales/s | target (p95)"
        " | rows complete | met |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|:---:|")
    print(
        f"| {sales} | {p50:.1f} ms | {p95:.1f} ms | {p99:.1f} ms | {max(times):.1f} ms"
        f" | {statistics.fmean(times):.1f} ms | {cpu_ms:.1f} ms | {sales / run_s:.0f}"
        f" | < {TARGET_MS:.0f} ms"
        f" | {'yes' if complete else 'NO'} | {'yes' if ok else 'NO'} |"
    )
    if not complete:
        print(
            f"rows: {timed.count()} sales, {entries} ledger entries, {commands} commands,"
            f" {logs} system-log rows, {len(receipts)} receipt numbers",
            file=sys.stderr,
        )
    return 0 if ok else 1


def main() -> int:
    sales = int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SALES
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openprepaid.settings")
    url = os.environ.get("DATABASE_URL", "")
    with tempfile.TemporaryDirectory(prefix="openprepaid-bench-sale-") as tmp:
        os.environ["OPENPREPAID_DATA_DIR"] = tmp
        if not url.startswith(("postgres://", "postgresql://")):
            os.environ.pop("DATABASE_URL", None)
            return _measure(sales)
        _admin_command(url, f"DROP DATABASE IF EXISTS {BENCH_DB}")
        _admin_command(url, f"CREATE DATABASE {BENCH_DB}")
        os.environ["DATABASE_URL"] = _server_url(url, BENCH_DB)
        try:
            return _measure(sales)
        finally:
            from django.db import connections

            connections.close_all()
            _admin_command(url, f"DROP DATABASE IF EXISTS {BENCH_DB}")


if __name__ == "__main__":
    sys.exit(main())
