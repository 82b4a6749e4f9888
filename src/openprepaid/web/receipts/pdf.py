"""Receipts as PDF: each part (存根 / 客户 / 财务) a bordered form with the header, the table of
fields, signature lines and the footer, in the embedded CJK font.

On A4 the parts of one receipt are stacked on one page with dashed cut lines; on 241 × 93 mm
continuous form paper each part is its own page. :func:`render_receipts` puts several receipts
(a day's reprints) into one PDF.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO

from reportlab.lib.colors import Color, black
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from openprepaid.web.receipts.data import (
    EMPHASISED_FIELDS,
    WIDE_FIELDS,
    ReceiptData,
    field_values,
    format_time,
)
from openprepaid.web.receipts.fonts import receipt_font
from openprepaid.web.receipts.labels import ReceiptLabels, receipt_labels
from openprepaid.web.receipts.layout import ReceiptLayout

NUMBER_RED = Color(0.70, 0.05, 0.05)
RULE_GREY = Color(0.20, 0.20, 0.20)
LABEL_FILL = Color(0.94, 0.94, 0.94)
FOOTER_GREY = Color(0.30, 0.30, 0.30)
CUT_GREY = Color(0.55, 0.55, 0.55)
MIN_TEXT_SIZE = 5.0


def render_receipt(
    receipt: ReceiptData,
    layout: ReceiptLayout | None = None,
    *,
    language: str = "zh-hans",
    labels: ReceiptLabels | None = None,
) -> bytes:
    """One receipt, all parts of ``layout``, as PDF bytes. ``labels`` (the words of the form)
    default to the translations for ``language``."""
    return render_receipts([receipt], layout, language=language, labels=labels)


def render_receipts(
    receipts: Sequence[ReceiptData],
    layout: ReceiptLayout | None = None,
    *,
    language: str = "zh-hans",
    labels: ReceiptLabels | None = None,
) -> bytes:
    """Several receipts in one PDF, each starting on a new page."""
    if not receipts:
        raise ValueError("no receipts to render")
    layout = layout or ReceiptLayout()
    labels = labels or receipt_labels(language)
    font = receipt_font()
    sheet = layout.sheet
    page_width, page_height = sheet.width_mm * mm, sheet.height_mm * mm
    part_height = sheet.part_height_mm * mm
    buffer = BytesIO()
    canvas = Canvas(
        buffer,
        pagesize=(page_width, page_height),
        initialFontName=font,
        initialFontSize=layout.font_size,
        invariant=True,
        pageCompression=1,
    )
    first = receipts[0]
    title = layout.title if layout.title is not None else labels.title
    canvas.setTitle(f"{title} {first.receipt_number}")
    canvas.setAuthor(first.site_name)
    canvas.setCreator("OpenPrepaid")
    form = _Form(layout, labels, font)
    for receipt in receipts:
        slot = 0
        for part in layout.parts:
            if slot == sheet.parts_per_page:
                canvas.showPage()
                slot = 0
            bottom = page_height - (slot + 1) * part_height
            form.draw(canvas, receipt, part, x=0, y=bottom, width=page_width, height=part_height)
            if layout.cut_lines and bottom > 1:
                _cut_line(canvas, bottom, page_width)
            slot += 1
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


@dataclass(frozen=True, slots=True)
class _Cell:
    label: str
    value: str
    emphasised: bool


class _Form:
    """Draws one part of a receipt into a rectangle of the page."""

    def __init__(self, layout: ReceiptLayout, labels: ReceiptLabels, font: str) -> None:
        self.layout = layout
        self.labels = labels
        self.font = font
        self.size = float(layout.font_size)
        self.title = layout.title if layout.title is not None else labels.title
        self.footer = layout.footer if layout.footer is not None else labels.footer

    def caption(self, part: str) -> str:
        return self.layout.captions.get(part) or self.labels.captions[part]

    def field_label(self, name: str) -> str:
        return self.layout.labels.get(name) or self.labels.fields[name]

    def rows(self, receipt: ReceiptData) -> list[tuple[_Cell, _Cell | None, bool]]:
        """(left cell, right cell, wide) per table row, in the layout's field order."""
        values = field_values(receipt)
        shown = [name for name in self.layout.fields if name in values]
        paired_amount = "amount_in_words" in shown and "amount" in shown

        def cell(name: str) -> _Cell:
            return _Cell(self.field_label(name), values[name], name in EMPHASISED_FIELDS)

        rows: list[tuple[_Cell, _Cell | None, bool]] = []
        pending: _Cell | None = None
        for name in shown:
            if name == "amount" and paired_amount:
                continue
            if name in WIDE_FIELDS or name == "amount_in_words":
                if pending is not None:
                    rows.append((pending, None, False))
                    pending = None
                if name == "amount_in_words" and paired_amount:
                    rows.append((cell(name), cell("amount"), False))
                else:
                    rows.append((cell(name), None, True))
            elif pending is None:
                pending = cell(name)
            else:
                rows.append((pending, cell(name), False))
                pending = None
        if pending is not None:
            rows.append((pending, None, False))
        return rows

    def draw(
        self,
        c: Canvas,
        receipt: ReceiptData,
        part: str,
        *,
        x: float,
        y: float,
        width: float,
        height: float,
    ) -> None:
        top_margin, right_margin, bottom_margin, left_margin = (
            value * mm for value in self.layout.margins()
        )
        left, right = x + left_margin, x + width - right_margin
        top, bottom = y + height - top_margin, y + bottom_margin
        size = self.size
        inner = right - left

        # Title, centred and spaced, with a double rule under it; the part's caption boxed at
        # the right end of the same line.
        title_size = size * 1.75
        title_base = top - title_size
        caption = self.caption(part)
        caption_size = size * 1.05
        caption_text, caption_size = _fit(caption, self.font, caption_size, inner * 0.3)
        caption_width = stringWidth(caption_text, self.font, caption_size)
        pad = caption_size * 0.45
        c.setStrokeColor(black)
        c.setLineWidth(0.8)
        c.rect(
            right - caption_width - 2 * pad,
            title_base - caption_size * 0.35,
            caption_width + 2 * pad,
            caption_size * 1.6,
        )
        _text(
            c,
            right - pad,
            title_base + caption_size * 0.12,
            caption_text,
            self.font,
            caption_size,
            align="right",
            bold=True,
        )
        title_room = inner - 2 * (caption_width + 3 * pad)
        spacing = title_size * 0.5 if _all_wide(self.title) else 0
        title_text, title_fitted = _fit(self.title, self.font, title_size, title_room, spacing)
        title_width = _width(title_text, self.font, title_fitted, spacing)
        centre = (left + right) / 2
        _text(
            c,
            centre,
            title_base,
            title_text,
            self.font,
            title_fitted,
            align="centre",
            bold=True,
            char_space=spacing,
        )
        c.setLineWidth(0.6)
        for drop in (0.28, 0.42):
            rule_y = title_base - title_fitted * drop
            c.line(centre - title_width / 2 - 4, rule_y, centre + title_width / 2 + 4, rule_y)

        # Payee and date on the left, the receipt number in red on the right.
        info_base = title_base - title_size * 0.55 - size * 1.35
        number = f"{self.labels.number} {receipt.receipt_number}"
        number_text, number_size = _fit(number, self.font, size * 1.2, inner * 0.36)
        _text(
            c,
            right,
            info_base,
            number_text,
            self.font,
            number_size,
            align="right",
            color=NUMBER_RED,
            bold=True,
        )
        date = _pair(self.labels.date, format_time(receipt.created_at))
        date_text, date_size = _fit(date, self.font, size, inner * 0.3)
        _text(c, left + inner * 0.36, info_base, date_text, self.font, date_size)
        payee = _pair(self.labels.payee, receipt.site_name)
        payee_text, payee_size = _fit(payee, self.font, size, inner * 0.34)
        _text(c, left, info_base, payee_text, self.font, payee_size)

        # The table, then the signature lines and the footer right under it.
        footer_size = size * 0.85
        printed = (
            _pair(self.labels.printed, format_time(receipt.printed_at))
            if receipt.printed_at is not None
            else ""
        )
        has_footer = bool(self.footer or printed)
        signature_room = size * 2.4 if self.layout.signatures else 0
        footer_room = footer_size * 1.9 if has_footer else 0
        table_top = info_base - size * 0.8
        table_bottom = self._table(
            c, self.rows(receipt), left, right, table_top, bottom + signature_room + footer_room
        )
        below = table_bottom
        if self.layout.signatures:
            below -= signature_room
            self._signature(
                c, left, below + size * 0.7, inner / 2 - size, self.labels.cashier_signature
            )
            self._signature(
                c, left + inner / 2, below + size * 0.7, inner / 2, self.labels.customer_signature
            )
        if has_footer:
            below -= footer_room
            footer_base = below + footer_size * 0.5
            if printed:
                _text(
                    c,
                    right,
                    footer_base,
                    printed,
                    self.font,
                    footer_size * 0.95,
                    align="right",
                    color=FOOTER_GREY,
                )
            if self.footer:
                room = inner - stringWidth(printed, self.font, footer_size) - size
                footer_text, fitted = _fit(self.footer, self.font, footer_size, room)
                _text(c, left, footer_base, footer_text, self.font, fitted, color=FOOTER_GREY)

    def _signature(self, c: Canvas, x: float, base: float, room: float, label: str) -> None:
        text = _pair(label, "")
        text, size = _fit(text, self.font, self.size, room * 0.5)
        _text(c, x, base, text, self.font, size)
        start = x + stringWidth(text, self.font, size) + 2
        end = min(x + room, start + 38 * mm)
        c.setLineWidth(0.5)
        c.setStrokeColor(black)
        c.line(start, base - 1.5, end, base - 1.5)

    def _table(
        self,
        c: Canvas,
        rows: list[tuple[_Cell, _Cell | None, bool]],
        left: float,
        right: float,
        top: float,
        bottom: float,
    ) -> float:
        """Draws the table from ``top`` down, no lower than ``bottom``; returns where it ends."""
        if not rows:
            return top
        width = right - left
        size = self.size
        row_height = min(size * 2.3, (top - bottom) / len(rows))
        size = min(size, row_height / 1.3)
        labels = [cell.label for row in rows for cell in row[:2] if cell is not None]
        label_width = max(stringWidth(label, self.font, size) for label in labels) + size * 1.4
        label_width = min(max(label_width, width * 0.12), width * 0.22)
        value_width = (width - 2 * label_width) / 2
        columns = [
            left,
            left + label_width,
            left + label_width + value_width,
            left + 2 * label_width + value_width,
            right,
        ]
        height = row_height * len(rows)

        for index, (first, second, wide) in enumerate(rows):
            row_top = top - index * row_height
            row_bottom = row_top - row_height
            c.setFillColor(LABEL_FILL)
            c.rect(columns[0], row_bottom, label_width, row_height, stroke=0, fill=1)
            if second is not None or not wide:
                c.rect(columns[2], row_bottom, label_width, row_height, stroke=0, fill=1)
            c.setFillColor(black)
            value_end = columns[4] if wide else columns[2]
            for cell, start, end in ((first, columns[0], value_end), (second, columns[2], right)):
                if cell is None:
                    continue
                self._cell(c, cell, start, start + label_width, end, row_bottom, row_height, size)

        c.setStrokeColor(RULE_GREY)
        c.setLineWidth(0.4)
        for index in range(1, len(rows)):
            rule_y = top - index * row_height
            c.line(left, rule_y, right, rule_y)
        for index, (_, _, wide) in enumerate(rows):
            row_top = top - index * row_height
            row_bottom = row_top - row_height
            stops = columns[1:2] if wide else columns[1:4]
            for stop in stops:
                c.line(stop, row_bottom, stop, row_top)
        c.setStrokeColor(black)
        c.setLineWidth(1.0)
        c.rect(left, top - height, width, height)
        return top - height

    def _cell(
        self,
        c: Canvas,
        cell: _Cell,
        label_start: float,
        value_start: float,
        value_end: float,
        row_bottom: float,
        row_height: float,
        size: float,
    ) -> None:
        label_width = value_start - label_start
        label, label_size = _fit(cell.label, self.font, size, label_width - size * 0.6)
        base = row_bottom + row_height / 2 - label_size * 0.36
        _text(c, label_start + label_width / 2, base, label, self.font, label_size, align="centre")
        value_size = size * 1.15 if cell.emphasised else size
        pad = size * 0.5
        value, value_size = _fit(
            cell.value, self.font, value_size, value_end - value_start - 2 * pad
        )
        base = row_bottom + row_height / 2 - value_size * 0.36
        _text(c, value_start + pad, base, value, self.font, value_size, bold=cell.emphasised)


def _cut_line(c: Canvas, y: float, page_width: float) -> None:
    c.saveState()
    c.setStrokeColor(CUT_GREY)
    c.setLineWidth(0.5)
    c.setDash(4, 3)
    c.line(6 * mm, y, page_width - 6 * mm, y)
    c.restoreState()


def _pair(label: str, value: str) -> str:
    """``label：value`` with a full-width colon after Chinese, ``label: value`` otherwise."""
    if label and _is_wide(label[-1]):
        return f"{label}：{value}"
    return f"{label}: {value}" if value else f"{label}:"


def _is_wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def _all_wide(text: str) -> bool:
    return bool(text) and all(_is_wide(char) for char in text if not char.isspace())


def _width(text: str, font: str, size: float, char_space: float = 0) -> float:
    return stringWidth(text, font, size) + char_space * max(len(text) - 1, 0)


def _fit(
    text: str, font: str, size: float, room: float, char_space: float = 0
) -> tuple[str, float]:
    """``text`` at ``size`` or smaller (down to a readable minimum) so that it fits ``room``;
    what still does not fit is cut with an ellipsis."""
    width = _width(text, font, size, char_space)
    if width <= room:
        return text, size
    size = max(MIN_TEXT_SIZE, size * room / width)
    if _width(text, font, size, char_space) <= room:
        return text, size
    while len(text) > 1 and _width(text + "…", font, size, char_space) > room:
        text = text[:-1]
    return text + "…", size


def _text(
    c: Canvas,
    x: float,
    y: float,
    text: str,
    font: str,
    size: float,
    *,
    align: str = "left",
    bold: bool = False,
    color: Color = black,
    char_space: float = 0,
) -> None:
    """One line of text; ``bold`` strokes the outline as well (the CJK font has no bold face)."""
    if align != "left":
        width = _width(text, font, size, char_space)
        x -= width if align == "right" else width / 2
    c.saveState()
    c.setFillColor(color)
    c.setStrokeColor(color)
    line = c.beginText(x, y)
    line.setFont(font, size)
    if char_space:
        line.setCharSpace(char_space)
    if bold:
        c.setLineWidth(size * 0.035)
        line.setTextRenderMode(2)
    line.textOut(text)
    c.drawText(line)
    c.restoreState()
