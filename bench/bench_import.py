"""Benchmark: quick configuration of the sample mall (22 gateways, ~700 units and meters,
~570 tenants) through the spreadsheet import, on a fresh database.

Run with ``make bench`` (SQLite in a temporary folder) or with DATABASE_URL set for PostgreSQL.
Prints a Markdown table; the README keeps the figures with the machine they ran on.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import tempfile
import time


def main() -> int:
    os.environ.setdefault("OPENPREPAID_DATA_DIR", tempfile.mkdtemp(prefix="openprepaid-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openprepaid.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    from openprepaid.domain.configio.export import export_configuration
    from openprepaid.domain.configio.readers import read_upload
    from openprepaid.domain.configio.services import import_configuration
    from openprepaid.domain.configio.tables import ConfigTables
    from openprepaid.domain.sample.sitegen import sample_site_tables
    from openprepaid.domain.sites.models import Meter
    from openprepaid.domain.sites.services import create_site

    old = setup_databases(verbosity=0, interactive=False)
    try:
        data = sample_site_tables(2026)
        create_site(acting_user=None, code="DEMO", name="Starlight Plaza")
        results: dict[str, list[float]] = {"dry run": [], "first import": [], "re-import": []}
        for _ in range(3):
            started = time.perf_counter()
            report = import_configuration(
                acting_user=None, tables=ConfigTables.from_dicts(data), dry_run=True
            )
            results["dry run"].append(time.perf_counter() - started)
            assert report.ok
            assert not Meter.objects.exists()
        started = time.perf_counter()
        report = import_configuration(
            acting_user=None, tables=ConfigTables.from_dicts(data), dry_run=False
        )
        results["first import"].append(time.perf_counter() - started)
        assert report.applied
        meters = Meter.objects.count()
        workbook = export_configuration(acting_user=None)
        for _ in range(3):
            started = time.perf_counter()
            report = import_configuration(
                acting_user=None, tables=read_upload("export.xlsx", workbook), dry_run=True
            )
            results["re-import"].append(time.perf_counter() - started)
            assert {r.outcome for r in report.rows} == {"unchanged"}
        print(
            f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, {connection.vendor}"
        )
        print(f"Rows: {sum(len(v) for v in data.values())} ({meters} meters)\n")
        print("| step | median s | runs |")
        print("|---|---|---|")
        for step, times in results.items():
            print(f"| {step} | {statistics.median(times):.2f} | {len(times)} |")
    finally:
        teardown_databases(old, verbosity=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
