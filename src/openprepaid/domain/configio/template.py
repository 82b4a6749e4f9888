"""The blank template: one sheet per table with its header row, and an instructions sheet that
documents every column. Left empty it imports cleanly (examples live in the instructions)."""

from __future__ import annotations

import contextlib
import csv
import io

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from openprepaid.domain.configio.lang import is_chinese
from openprepaid.domain.configio.spec import (
    INSTRUCTIONS_EN,
    INSTRUCTIONS_ZH,
    KIND_ORDER,
    TABLES,
    Kind,
    TableSpec,
)
from openprepaid.domain.configio.workbook import add_table_sheet, new_workbook, to_bytes

RULES = (
    gettext_lazy(
        "Fill in the sheets you need; a sheet may stay empty. Keep the first row of each sheet: "
        "it names the columns. One row per gateway, unit, meter or tenant."
    ),
    gettext_lazy(
        "Columns marked * are required. A blank cell means the default (or nothing); a column "
        "taken out of a sheet leaves that field of existing records as it is."
    ),
    gettext_lazy(
        "Rows are matched with what is saved: gateways by site and name, units by site and unit "
        "number, meters by gateway and address, tenants by site and tenant number. A matching "
        "record is updated, anything else is created; nothing is deleted."
    ),
    gettext_lazy(
        "Sheets are imported in the order gateways, units, meters, tenants, so meters may refer "
        "to gateways and units of the same file. The site must exist already; buildings and "
        "floors are created when new."
    ),
    gettext_lazy(
        "All or nothing: if any row has an error, nothing at all is saved and every error is "
        "listed with its sheet, row and column. A dry run shows the outcome without saving."
    ),
    gettext_lazy(
        "Keep addresses, unit numbers, tenant numbers and mobile numbers as text, so that Excel "
        "does not drop leading zeros or write them as 2.01E+11."
    ),
    gettext_lazy(
        "CSV files hold one table each (recognised from the header row), in UTF-8 with or "
        "without BOM or in GBK, separated by commas, semicolons or tabs."
    ),
)


def build_template(lang: str | None = None) -> bytes:
    """The ``.xlsx`` template in language ``lang`` (default: the active language)."""
    with _language(lang):
        workbook = new_workbook()
        add_instructions(workbook)
        for kind in KIND_ORDER:
            add_table_sheet(workbook, TABLES[kind])
        workbook.active = 0
        return to_bytes(workbook)


def build_csv_template(kind: Kind | str, lang: str | None = None) -> bytes:
    """The header row of one table as a CSV file, UTF-8 with BOM so Excel shows Chinese."""
    with _language(lang):
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerow(
            [c.header() for c in TABLES[Kind(kind)].columns]
        )
        return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


def instructions_title() -> str:
    return INSTRUCTIONS_ZH if is_chinese() else str(INSTRUCTIONS_EN)


def add_instructions(workbook: Workbook) -> None:
    sheet = workbook.create_sheet(instructions_title())
    bold = Font(bold=True)
    sheet.append([_("OpenPrepaid quick configuration")])
    sheet["A1"].font = Font(bold=True, size=14)
    for number, rule in enumerate(RULES, start=1):
        sheet.append([f"{number}. {rule}"])
    for kind in KIND_ORDER:
        spec = TABLES[kind]
        sheet.append([])
        sheet.append([_("Sheet “%(sheet)s”") % {"sheet": spec.title()}, str(spec.help)])
        sheet.cell(row=sheet.max_row, column=1).font = bold
        sheet.append(
            [
                _("Column"),
                _("Key"),
                _("Required"),
                _("Meaning"),
                _("Allowed values"),
                _("Blank means"),
                _("Example"),
            ]
        )
        for cell in sheet[sheet.max_row]:
            cell.font = bold
        for row in column_rows(spec):
            sheet.append(row)
    for letter, width in zip("ABCDEFG", (24, 14, 8, 60, 40, 12, 20), strict=True):
        sheet.column_dimensions[letter].width = width
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=cell.column_letter in "DE", vertical="top")


def column_rows(spec: TableSpec) -> list[list[str]]:
    """The documentation of each column: name, key, required, meaning, values, blank, example."""
    return [
        [
            c.title(),
            c.key,
            _("yes") if c.required else "",
            str(c.help),
            ", ".join(c.allowed()),
            c.shown(c.default) if c.default else "",
            c.shown(c.example),
        ]
        for c in spec.columns
    ]


def _language(lang: str | None) -> contextlib.AbstractContextManager:
    return translation.override(lang) if lang else contextlib.nullcontext()
