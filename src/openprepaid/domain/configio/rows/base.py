"""What every table's importer shares: the savepoint a row, the site column, duplicate keys in
the upload, upserts through the services, and turning service errors into column errors."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

from django.db import DatabaseError, models, transaction
from django.utils.translation import gettext as _

from openprepaid.domain.audit.services import snapshot
from openprepaid.domain.configio.cells import Cells, RowFailed
from openprepaid.domain.configio.context import ImportContext, SiteData
from openprepaid.domain.configio.report import Outcome, RowError, RowResult
from openprepaid.domain.configio.spec import NATURAL_KEYS, TABLES, Kind
from openprepaid.domain.errors import ServiceError
from openprepaid.domain.operators.permissions import can
from openprepaid.domain.operators.roles import Capability


class RowImporter(ABC):
    kind: ClassVar[Kind]
    capability: ClassVar[Capability] = Capability.CONFIGURE

    def __init__(self, ctx: ImportContext) -> None:
        self.ctx = ctx
        self.user = ctx.acting_user
        self.spec = TABLES[self.kind]

    @abstractmethod
    def apply(self, number: int, cells: Cells) -> Outcome:
        """Create or update the row's record through the services; raise to fail the row."""

    def run(self, number: int, values: dict[str, str]) -> RowResult:
        """Import one row in its own savepoint: a failed row leaves no trace, the others go on."""
        key = " / ".join(values.get(k, "") for k in NATURAL_KEYS[self.kind])
        try:
            with transaction.atomic():
                outcome = self.apply(number, Cells(self.spec, values))
        except RowFailed as failed:
            errors = failed.errors
        except ServiceError as error:
            errors = self.service_errors(error)
        except DatabaseError as error:
            errors = [
                RowError("", "", _("The database refused the row: %(error)s") % {"error": error})
            ]
        else:
            self.ctx.row_succeeded()
            return RowResult(self.kind, number, key, outcome)
        self.ctx.row_failed()
        return RowResult(self.kind, number, key, Outcome.ERROR, errors)

    # ------------------------------------------------------------------------------ steps

    def site_data(self, cells: Cells) -> SiteData | None:
        """The row's site, if it exists, the operator may see it and do this there."""
        code = cells.text("site")
        if not code:
            return None
        site = self.ctx.site(code)
        if site is None:
            cells.error(
                "site",
                _("There is no site “%(code)s” among the sites you may work on.") % {"code": code},
            )
            return None
        if not can(self.user, self.capability, site.pk):
            cells.error(
                "site",
                _("You are not allowed to change %(table)s on site %(code)s.")
                % {"table": self.spec.title(), "code": site.code},
            )
            return None
        return self.ctx.data(site)

    def claim(self, cells: Cells, number: int, key: tuple, column: str) -> None:
        """Refuse a natural key that an earlier row of this upload already has."""
        first = self.ctx.seen.setdefault((self.kind, *key), number)
        if first != number:
            names = " + ".join(self.spec.by_key[k].title() for k in NATURAL_KEYS[self.kind])
            cells.error(
                column,
                _("Row %(row)d already has the same %(columns)s.")
                % {"row": first, "columns": names},
            )

    def upsert_update(
        self, instance: models.Model, service: Callable[..., Any], fields: dict[str, Any]
    ) -> Outcome:
        """Update ``instance`` through ``service`` with the fields that differ."""
        changes = {k: v for k, v in fields.items() if getattr(instance, k) != v}
        if not changes:
            return Outcome.UNCHANGED
        before = snapshot(instance)
        self.ctx.touch(instance)
        service(instance, acting_user=self.user, **changes)
        return Outcome.UPDATED if snapshot(instance) != before else Outcome.UNCHANGED

    def service_errors(self, error: ServiceError, column: str | None = None) -> list[RowError]:
        """A service's refusal as errors on the columns its fields come from (or on ``column``,
        or on the row as a whole)."""
        if not error.field_errors:
            return [self._error(column or "", error.message)]
        errors = []
        for field, messages in error.field_errors.items():
            target = column or (field if field in self.spec.by_key else "")
            for message in messages:
                if not target and field != "__all__":
                    message = f"{field}: {message}"
                errors.append(self._error(target, message))
        return errors

    def _error(self, column: str, message: str) -> RowError:
        label = self.spec.by_key[column].title() if column else ""
        return RowError(column, label, str(message))
