"""The rows of one upload, as text, before anything is looked up or checked.

A row is ``(row_number, {column key: text})``. A column missing from a table is missing from its
rows' dicts (an import then leaves that field of existing records alone); a blank cell is ``""``.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from openprepaid.domain.configio.spec import KIND_ORDER, TABLES, Kind
from openprepaid.domain.errors import ServiceError

Row = tuple[int, dict[str, str]]


class ImportFileError(ServiceError):
    """The upload cannot be read as configuration tables. ``problems`` lists every reason."""

    code = "bad_file"

    def __init__(self, message: str, *, problems: list[str] | None = None) -> None:
        self.problems = problems or [message]
        super().__init__(message)


def cell_text(value: Any) -> str:
    """A cell's value as the text an operator sees: numbers without a ".0" artefact, stripped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


@dataclass
class ConfigTables:
    """The four tables of an upload. ``sources`` names the sheet or file each came from."""

    gateways: list[Row] = field(default_factory=list)
    units: list[Row] = field(default_factory=list)
    meters: list[Row] = field(default_factory=list)
    tenants: list[Row] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    ignored_sheets: list[str] = field(default_factory=list)

    def rows(self, kind: Kind | str) -> list[Row]:
        return getattr(self, Kind(kind).value)

    @property
    def row_count(self) -> int:
        return sum(len(self.rows(kind)) for kind in KIND_ORDER)

    @classmethod
    def from_dicts(cls, data: Mapping[str, Iterable[Mapping[str, Any]]]) -> ConfigTables:
        """Tables from Python dicts keyed by column key, e.g. ``{"units": [{"site": …}, …]}``.
        Rows are numbered 2, 3, … as if under a header row. Values are turned into text the way
        a spreadsheet cell would be."""
        tables = cls()
        for name, rows in data.items():
            try:
                kind = Kind(name)
            except ValueError:
                raise ImportFileError(_("Unknown table “%(name)s”.") % {"name": name}) from None
            spec = TABLES[kind]
            for number, row in enumerate(rows, start=2):
                unknown = sorted(set(row) - set(spec.by_key))
                if unknown:
                    raise ImportFileError(
                        _("Table %(table)s, row %(row)d: unknown columns %(columns)s.")
                        % {"table": kind, "row": number, "columns": ", ".join(unknown)}
                    )
                tables.rows(kind).append((number, {k: cell_text(v) for k, v in row.items()}))
            tables.sources[kind] = kind
        return tables
