"""Receipts (三联单) as PDF, independent of the database: :class:`ReceiptData` is what a receipt
prints, :class:`ReceiptLayout` what a site configures (``BillingSettings.receipt_layout``,
checked by :func:`parse_layout`), :func:`render_receipt` the PDF. See ``docs/receipts.md``."""

from openprepaid.web.receipts.data import FIELDS, ReceiptData
from openprepaid.web.receipts.fonts import FONT_ENV, ReceiptFontError
from openprepaid.web.receipts.labels import ReceiptLabels, receipt_labels
from openprepaid.web.receipts.layout import (
    PAPERS,
    PARTS,
    LayoutError,
    ReceiptLayout,
    parse_layout,
)
from openprepaid.web.receipts.pdf import render_receipt, render_receipts

__all__ = [
    "FIELDS",
    "FONT_ENV",
    "PAPERS",
    "PARTS",
    "LayoutError",
    "ReceiptData",
    "ReceiptFontError",
    "ReceiptLabels",
    "ReceiptLayout",
    "parse_layout",
    "receipt_labels",
    "render_receipt",
    "render_receipts",
]
