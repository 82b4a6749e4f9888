"""What an import did, or would do, row by row."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from openprepaid.domain.configio.spec import KIND_ORDER, TABLES, Kind


class Outcome(models.TextChoices):
    CREATED = "created", gettext_lazy("Created")
    UPDATED = "updated", gettext_lazy("Updated")
    UNCHANGED = "unchanged", gettext_lazy("Unchanged")
    ERROR = "error", gettext_lazy("Error")


class RowError(NamedTuple):
    """One thing wrong with a row. ``column`` is a column key, or "" for the row as a whole;
    ``label`` is that column's name in the operator's language."""

    column: str
    label: str
    message: str


@dataclass
class RowResult:
    kind: Kind
    row: int
    key: str  # the natural key as text, e.g. "MALL / A-1F-GW1"
    outcome: Outcome
    errors: list[RowError] = field(default_factory=list)


class ReportError(NamedTuple):
    """A :class:`RowError` with the table and row it belongs to."""

    kind: Kind
    row: int
    key: str
    column: str
    label: str
    message: str

    def __str__(self) -> str:
        where = _("%(table)s row %(row)d") % {"table": TABLES[self.kind].title(), "row": self.row}
        if self.label:
            where = f"{where}, {self.label}"
        return f"{where}: {self.message}"


@dataclass
class ImportReport:
    dry_run: bool
    filename: str = ""
    rows: list[RowResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """No row has an error."""
        return not any(r.errors for r in self.rows)

    @property
    def applied(self) -> bool:
        """The changes were written (a real run without errors)."""
        return self.ok and not self.dry_run

    @property
    def counts(self) -> dict[str, dict[str, int]]:
        """Rows per table and outcome, every table and outcome present."""
        counts = {kind.value: dict.fromkeys(Outcome.values, 0) for kind in KIND_ORDER}
        for row in self.rows:
            counts[row.kind][row.outcome] += 1
        return counts

    @property
    def errors(self) -> list[ReportError]:
        return [
            ReportError(r.kind, r.row, r.key, e.column, e.label, e.message)
            for r in self.rows
            for e in r.errors
        ]

    def summary(self) -> str:
        """One line of counts, e.g. for the system log."""
        parts = []
        for kind, outcomes in self.counts.items():
            if any(outcomes.values()):
                shown = ", ".join(f"{n} {o}" for o, n in outcomes.items() if n)
                parts.append(f"{kind}: {shown}")
        return "; ".join(parts) or _("no rows")
