"""Reading an uploaded ``.xlsx`` workbook or ``.csv`` file into :class:`ConfigTables`.

Only the shape of the file is checked here (which tables, which columns, how many rows); the
values are checked by the import, row by row. Row numbers are the spreadsheet's own.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from pathlib import PurePath

import openpyxl
from django.conf import settings
from django.utils.translation import gettext as _

from openprepaid.domain.configio.lang import in_language
from openprepaid.domain.configio.spec import (
    INSTRUCTIONS_EN,
    INSTRUCTIONS_ZH,
    TABLES,
    Kind,
    TableSpec,
    normalize_name,
)
from openprepaid.domain.configio.tables import ConfigTables, ImportFileError, cell_text

__all__ = ["ConfigTables", "ImportFileError", "read_upload"]

XLSX_SUFFIXES = (".xlsx", ".xlsm")
CSV_SUFFIXES = (".csv", ".txt")


def read_upload(filename: str, data: bytes) -> ConfigTables:
    """The configuration tables in an uploaded file, or :class:`ImportFileError` saying why not."""
    name = PurePath(filename or "").name
    suffix = PurePath(name).suffix.lower()
    if suffix not in XLSX_SUFFIXES + CSV_SUFFIXES:
        if suffix == ".xls":
            raise ImportFileError(
                _("%(file)s is in the old Excel format (.xls); save it as .xlsx and upload again.")
                % {"file": name}
            )
        raise ImportFileError(
            _("%(file)s is not a spreadsheet: upload an .xlsx or .csv file.") % {"file": name}
        )
    if not data:
        raise ImportFileError(_("%(file)s is empty.") % {"file": name})
    reader = _Reader(name)
    if suffix in XLSX_SUFFIXES:
        reader.read_xlsx(data)
    else:
        reader.read_csv(data)
    return reader.finish()


class _Reader:
    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.tables = ConfigTables()
        self.data_rows = 0
        self.limit = settings.OPENPREPAID_IMPORT_MAX_ROWS

    # ---------------------------------------------------------------------------- formats

    def read_xlsx(self, data: bytes) -> None:
        try:
            workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as error:  # a broken file raises anything from zipfile to lxml
            raise self._corrupt(error) from None
        try:
            for sheet in workbook.worksheets:
                if normalize_name(sheet.title) in _instruction_names():
                    continue
                sheet.reset_dimensions()  # some writers store wrong dimensions
                rows = sheet.iter_rows(values_only=True)
                self.add_table(sheet.title, _sheet_kind(sheet.title), rows, is_sheet=True)
        except ImportFileError:
            raise
        except Exception as error:
            raise self._corrupt(error) from None
        finally:
            workbook.close()

    def read_csv(self, data: bytes) -> None:
        text = _decode(data)
        lines = text.splitlines()
        first = next((line for line in lines if line.strip()), "")
        delimiter = max((",", ";", "\t"), key=first.count)
        rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            found = self.add_table(self.filename, None, rows, is_sheet=False)
        except csv.Error as error:
            raise ImportFileError(
                _("%(file)s is not a valid CSV file (%(error)s).")
                % {"file": self.filename, "error": error}
            ) from None
        if not found:
            raise ImportFileError(self._no_table_message())

    def _corrupt(self, error: Exception) -> ImportFileError:
        return ImportFileError(
            _("%(file)s is not a valid .xlsx workbook or is damaged (%(error)s).")
            % {"file": self.filename, "error": type(error).__name__}
        )

    # ----------------------------------------------------------------------------- tables

    def add_table(
        self, source: str, kind: Kind | None, rows: Iterable[Iterable], *, is_sheet: bool
    ) -> bool:
        """Read one sheet or file. Returns whether it held a table (a recognised header)."""
        numbered = _numbered(rows)
        header = next((cells for _n, cells in numbered if any(cells)), [])
        if not header:
            return False
        kind = kind or _guess_kind(header)
        if kind is None:
            if is_sheet:
                self.tables.ignored_sheets.append(source)
            return False
        if kind in self.tables.sources:
            raise ImportFileError(
                _("Sheets “%(first)s” and “%(second)s” both hold %(table)s; use one sheet a table.")
                % {"first": self.tables.sources[kind], "second": source, "table": kind}
            )
        spec = TABLES[kind]
        where = (_("Sheet “%(name)s”") if is_sheet else _("File “%(name)s”")) % {"name": source}
        columns = _map_header(spec, header, where)
        self.tables.sources[kind] = source
        target = self.tables.rows(kind)
        for number, cells in numbered:
            row = _row_values(columns, cells)
            if row is None:
                continue
            self.data_rows += 1
            if self.data_rows > self.limit:
                raise ImportFileError(
                    _("%(file)s has more than %(limit)d rows; split it into smaller files.")
                    % {"file": self.filename, "limit": self.limit}
                )
            target.append((number, row))
        return True

    def finish(self) -> ConfigTables:
        if not self.tables.sources:
            raise ImportFileError(self._no_table_message())
        return self.tables

    def _no_table_message(self) -> str:
        return _(
            "%(file)s holds no configuration table: name the sheets %(sheets)s, or use the "
            "header row of the template."
        ) % {
            "file": self.filename,
            "sheets": ", ".join(f"{t.zh} / {t.kind}" for t in TABLES.values()),
        }


# -------------------------------------------------------------------------------- helpers


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # Excel in a Chinese locale saves "CSV" in the ANSI code page (GBK).
        return data.decode("gb18030", errors="replace")


def _numbered(rows: Iterable[Iterable]) -> Iterator[tuple[int, list[str]]]:
    for number, cells in enumerate(rows, start=1):
        yield number, [cell_text(c) for c in cells]


def _instruction_names() -> set[str]:
    return {
        normalize_name(INSTRUCTIONS_ZH),
        normalize_name(in_language("en", INSTRUCTIONS_EN)),
        normalize_name(in_language("zh-hans", INSTRUCTIONS_EN)),
    }


def _sheet_kind(title: str) -> Kind | None:
    wanted = normalize_name(title)
    return next((t.kind for t in TABLES.values() if wanted in t.names()), None)


def _column_key(spec: TableSpec, cell: str) -> str | None:
    wanted = normalize_name(cell)
    return next((c.key for c in spec.columns if wanted in c.names()), None)


def _guess_kind(header: list[str]) -> Kind | None:
    """The table whose columns the header matches best (a header is recognised by at least two
    of its columns, preferring the table with none of its required columns missing)."""
    best: tuple[int, int] = (1, -99)
    kind = None
    for spec in TABLES.values():
        keys = {_column_key(spec, cell) for cell in header if cell} - {None}
        score = (len(keys), -sum(1 for c in spec.required if c.key not in keys))
        if score > best:
            best, kind = score, spec.kind
    return kind


def _map_header(spec: TableSpec, header: list[str], where: str) -> dict[int, str]:
    """Column index → key, or ImportFileError naming every unknown, repeated or missing one."""
    columns: dict[int, str] = {}
    problems = []
    for index, cell in enumerate(header):
        if not cell:
            continue
        key = _column_key(spec, cell)
        if key is None:
            problems.append(
                _("%(where)s: unknown column “%(column)s”.") % {"where": where, "column": cell}
            )
        elif key in columns.values():
            problems.append(
                _("%(where)s: column “%(column)s” appears more than once.")
                % {"where": where, "column": cell}
            )
        else:
            columns[index] = key
    for column in spec.required:
        if column.key not in columns.values():
            problems.append(
                _("%(where)s: the required column “%(column)s” is missing.")
                % {"where": where, "column": column.title()}
            )
    if problems:
        raise ImportFileError(" ".join(problems), problems=problems)
    return columns


def _row_values(columns: dict[int, str], cells: list[str]) -> dict[str, str] | None:
    """The row's values by key, or None for a blank row."""
    if not any(cells):
        return None
    values = {key: cells[index] if index < len(cells) else "" for index, key in columns.items()}
    return values if any(values.values()) else None
