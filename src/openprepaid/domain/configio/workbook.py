"""Writing the format's sheets: header row, column widths, text columns, drop-down lists and a
note on every header cell. Shared by the template and the export."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from openprepaid.domain.configio.spec import Column, TableSpec

HEADER_FONT = Font(bold=True, color="FFFFFF")
REQUIRED_FILL = PatternFill("solid", fgColor="1F4E79")
OPTIONAL_FILL = PatternFill("solid", fgColor="5B7FA6")
TEXT = "@"
VALIDATED_ROWS = 2000  # drop-down lists reach this far below the last row


def new_workbook() -> Workbook:
    workbook = Workbook()
    workbook.remove(workbook.active)
    return workbook


def to_bytes(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def add_table_sheet(
    workbook: Workbook, spec: TableSpec, rows: Iterable[Sequence[Any]] = ()
) -> Worksheet:
    """A sheet named after the table, with its header row and ``rows`` below."""
    sheet = workbook.create_sheet(spec.title())
    sheet.append([c.header() for c in spec.columns])
    for index, column in enumerate(spec.columns, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = HEADER_FONT
        cell.fill = REQUIRED_FILL if column.required else OPTIONAL_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center")
        cell.comment = Comment(header_note(column), "OpenPrepaid", width=300, height=160)
        dimension = sheet.column_dimensions[get_column_letter(index)]
        dimension.width = max(column.width, _display_width(column.header()) + 2)
        if column.text:
            dimension.number_format = TEXT  # typed addresses keep their leading zeros
    text_columns = [i for i, c in enumerate(spec.columns, start=1) if c.text]
    last = 1
    for last, row in enumerate(rows, start=2):
        sheet.append(list(row))
        for index in text_columns:
            sheet.cell(row=last, column=index).number_format = TEXT
    _add_validations(sheet, spec, last_row=last + VALIDATED_ROWS)
    sheet.freeze_panes = "A2"
    return sheet


def header_note(column: Column) -> str:
    lines = [str(column.help)] if column.help else []
    if column.choices:
        lines.append(_("Values: %(values)s") % {"values": ", ".join(column.allowed())})
    if column.default:
        lines.append(_("Blank: %(default)s") % {"default": column.shown(column.default)})
    lines.append(_("Required") if column.required else _("Optional"))
    return "\n".join(lines)


def _add_validations(sheet: Worksheet, spec: TableSpec, *, last_row: int) -> None:
    for index, column in enumerate(spec.columns, start=1):
        if not column.choices:
            continue
        values = ",".join(v.replace('"', "") for v in column.allowed())
        validation = DataValidation(
            type="list",
            formula1=f'"{values}"',
            allow_blank=True,
            showErrorMessage=True,
            errorStyle="warning",
            errorTitle=column.title(),
            error=_("Choose one of the listed values."),
        )
        letter = get_column_letter(index)
        validation.add(f"{letter}2:{letter}{last_row}")
        sheet.add_data_validation(validation)


def _display_width(text: str) -> int:
    """Columns Excel needs for ``text``: Chinese characters are about two wide."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
