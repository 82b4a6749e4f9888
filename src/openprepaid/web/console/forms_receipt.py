"""The receipt layout of a site as a form over the keys of
:class:`openprepaid.web.receipts.layout.ReceiptLayout`: the paper, which parts and which fields
are printed, title and footer, font size, signature lines and cut lines. Keys the form does not
show (part captions, field labels, margins) are kept as stored. The result is checked by
:func:`~openprepaid.web.receipts.layout.parse_layout`; its complaint appears under the field it
names.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from openprepaid.web.console.formbase import ConsoleForm
from openprepaid.web.receipts.data import FIELDS
from openprepaid.web.receipts.labels import receipt_labels
from openprepaid.web.receipts.layout import (
    FONT_SIZE_RANGE,
    PAPERS,
    PARTS,
    LayoutError,
    ReceiptLayout,
    parse_layout,
)

PAPER_LABELS = {
    "a4": _("A4, three parts on one sheet"),
    "241x93": _("241 × 93 mm continuous form, one part per form"),
}


class ReceiptLayoutForm(ConsoleForm):
    prefix = "layout"
    wide_fields = ("paper", "parts", "fields", "title", "footer")

    def __init__(self, *args, layout: dict | None, disabled: bool = False, **kwargs):
        self.stored = dict(layout or {})
        self.disabled = disabled
        super().__init__(*args, **kwargs)

    def setup(self) -> None:
        words = receipt_labels(get_language() or "zh-hans")
        try:
            current = parse_layout(self.stored)
        except LayoutError:
            current = ReceiptLayout()
        self.fields["paper"] = forms.ChoiceField(
            label=_("Paper"),
            choices=[(code, PAPER_LABELS.get(code, code)) for code in PAPERS],
            initial=current.paper,
        )
        self.fields["parts"] = forms.MultipleChoiceField(
            label=_("Parts printed"),
            choices=[(part, words.captions[part]) for part in PARTS],
            widget=forms.CheckboxSelectMultiple,
            initial=list(current.parts),
        )
        self.fields["fields"] = forms.MultipleChoiceField(
            label=_("Fields printed"),
            choices=[(name, words.fields.get(name, name)) for name in FIELDS],
            widget=forms.CheckboxSelectMultiple,
            initial=list(current.fields),
            required=False,
        )
        self.fields["title"] = forms.CharField(
            label=_("Title"),
            required=False,
            initial=current.title or "",
            help_text=_("Empty: “%(default)s”.") % {"default": words.title},
        )
        self.fields["footer"] = forms.CharField(
            label=_("Footer"),
            required=False,
            initial=current.footer if current.footer is not None else "",
            help_text=_("Empty: “%(default)s”.") % {"default": words.footer},
        )
        self.fields["font_size"] = forms.DecimalField(
            label=_("Font size (pt)"),
            min_value=FONT_SIZE_RANGE[0],
            max_value=FONT_SIZE_RANGE[1],
            decimal_places=1,
            initial=current.font_size,
        )
        self.fields["signatures"] = forms.BooleanField(
            label=_("Signature lines"), required=False, initial=current.signatures
        )
        self.fields["cut_lines"] = forms.BooleanField(
            label=_("Cut lines between the parts"), required=False, initial=current.cut_lines
        )
        for field in self.fields.values():
            field.disabled = self.disabled

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            self._layout = parse_layout(self._merged(data)).to_json()
        except LayoutError as error:
            self.add_error(error.key if error.key in self.fields else None, str(error))
        return data

    def _merged(self, data: dict) -> dict:
        layout = {
            key: self.stored[key]
            for key in ("captions", "labels", "margins_mm")
            if key in self.stored
        }
        font_size = data["font_size"]
        layout.update(
            paper=data["paper"],
            parts=[part for part in PARTS if part in data["parts"]],
            fields=[name for name in FIELDS if name in data["fields"]],
            title=data["title"] or None,
            footer=data["footer"] or None,
            font_size=int(font_size) if font_size == font_size.to_integral() else float(font_size),
            signatures=data["signatures"],
            cut_lines=data["cut_lines"],
        )
        return layout

    def layout(self) -> dict:
        """The complete layout JSON to store."""
        return self._layout
