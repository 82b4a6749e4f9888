"""Import a configuration upload: all of it, or nothing.

Every row goes through the same domain services as the console (same checks, constraints,
permissions and system-log rows), each row in its own savepoint so that one bad row does not
stop the others from being checked. At the end a dry run, or a run with any bad row, is rolled
back whole: the dry run reports exactly what the real run would do, and a failed import leaves
nothing behind, not even system-log rows.
"""

from __future__ import annotations

import time

from django.db import transaction

from openprepaid.domain.audit.services import record
from openprepaid.domain.configio.context import ImportContext
from openprepaid.domain.configio.report import ImportReport
from openprepaid.domain.configio.rows import IMPORTERS
from openprepaid.domain.configio.spec import KIND_ORDER
from openprepaid.domain.configio.tables import ConfigTables

__all__ = ["import_configuration"]


def import_configuration(
    *, acting_user, tables: ConfigTables, dry_run: bool, filename: str = ""
) -> ImportReport:
    """Create or update the gateways, units, meters and tenants of ``tables``, in that order.

    Returns the report of every row. Nothing is written when ``dry_run`` is set or when any row
    has an error (``report.applied`` says whether it was).
    """
    started = time.monotonic()
    report = ImportReport(dry_run=dry_run, filename=filename)
    with transaction.atomic():
        ctx = ImportContext(acting_user)
        for kind in KIND_ORDER:
            importer = IMPORTERS[kind](ctx)
            for number, values in tables.rows(kind):
                report.rows.append(importer.run(number, values))
        if report.applied:
            _record_summary(acting_user, report, ctx)
        else:
            transaction.set_rollback(True)
    report.seconds = round(time.monotonic() - started, 3)
    return report


def _record_summary(acting_user, report: ImportReport, ctx: ImportContext) -> None:
    sites = ctx.sites_touched()
    record(
        acting_user=acting_user,
        action="configuration.import",
        site=sites[0] if len(sites) == 1 else None,
        after={"filename": report.filename, "counts": report.counts},
        note=f"{report.filename}: {report.summary()}" if report.filename else report.summary(),
    )
