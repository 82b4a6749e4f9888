"""The one form pattern of the console: Bootstrap styling, the acting operator, and the mapping
of a service's :class:`~openprepaid.domain.errors.ServiceError` onto form errors.

Forms here only check what a person typed (required, a number, two passwords alike); every
business rule is the service's. Model forms are used as a *field factory* only: labels, help
texts, choices and validators come from the model, but the form never builds or saves an
instance — the service validates against the model and the database and saves.
"""

from __future__ import annotations

import re
from itertools import groupby

from django import forms
from django.core.exceptions import FieldDoesNotExist
from django.forms.models import ModelChoiceIterator

from openprepaid.domain.errors import ServiceError

_CHECK_WIDGETS = {"checkbox", "checkboxselectmultiple", "radioselect"}
_SELECT_WIDGETS = {"select", "selectmultiple", "nullbooleanselect"}


class ConsoleBoundField(forms.BoundField):
    def build_widget_attrs(self, attrs, widget=None):
        attrs = super().build_widget_attrs(attrs, widget)
        if self.form.is_bound and self.errors:
            base = attrs.get("class") or (widget or self.field.widget).attrs.get("class", "")
            attrs["class"] = f"{base} is-invalid".strip()
            attrs["aria-invalid"] = "true"
        return attrs


class ConsoleFormMixin:
    """Mixed into every console form. ``operator`` is the person using the form: choices are
    limited to what they may see."""

    template_name = "console/forms/form.html"
    bound_field_class = ConsoleBoundField
    #: fields that take the whole width of a two-column form
    wide_fields: tuple[str, ...] = ()
    small = False

    def __init__(self, *args, operator=None, **kwargs):
        self.operator = operator
        super().__init__(*args, **kwargs)
        self.setup()
        for name, field in self.fields.items():
            self._style(name, field)

    def setup(self) -> None:
        """Limit querysets and adjust fields for ``self.operator``."""

    def _style(self, name: str, field: forms.Field) -> None:
        widget = field.widget
        kind = re.sub(r"widget$|input$", "", widget.__class__.__name__.lower())
        if kind in _CHECK_WIDGETS:
            css = "form-check-input"
        elif kind in _SELECT_WIDGETS:
            css = "form-select form-select-sm" if self.small else "form-select"
        else:
            css = "form-control form-control-sm" if self.small else "form-control"
        widget.attrs["class"] = f"{css} {widget.attrs.get('class', '')}".strip()

    def is_wide(self, name: str) -> bool:
        return name in self.wide_fields

    def apply_service_error(self, error: ServiceError) -> None:
        """Show a refused request on the form: each field's messages under the field, the rest
        (and a message without fields) at the top."""
        if not error.field_errors:
            self.add_error(None, error.message)
            return
        for name, messages in error.field_errors.items():
            target = name if name in self.fields else None
            for message in messages:
                if target is None and name not in ("__all__", ""):
                    message = f"{self._label_of(name)}: {message}"
                self.add_error(target, message)

    def _label_of(self, name: str) -> str:
        model = getattr(getattr(self, "_meta", None), "model", None)
        if model is not None:
            try:
                return str(model._meta.get_field(name).verbose_name)
            except FieldDoesNotExist:
                return name
        return name

    def changed_values(self) -> dict:
        """The cleaned values of the fields the person changed (for ``update_*`` services)."""
        return {name: self.cleaned_data[name] for name in self.changed_data}


class ConsoleForm(ConsoleFormMixin, forms.Form):
    pass


class ServiceModelForm(ConsoleFormMixin, forms.ModelForm):
    """Fields from the model; the service does the rest (see the module docstring)."""

    def _post_clean(self) -> None:
        # No construct_instance/full_clean here: the service validates and saves.
        return


class GroupedModelChoiceIterator(ModelChoiceIterator):
    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for group, objs in groupby(self.queryset, key=self.field.group_by):
            yield (group, [self.choice(obj) for obj in objs])


class GroupedModelChoiceField(forms.ModelChoiceField):
    """A model choice shown as ``<optgroup>`` per ``group_by(obj)``; the queryset must be ordered
    by the group."""

    iterator = GroupedModelChoiceIterator

    def __init__(self, queryset, *, group_by, **kwargs):
        self.group_by = group_by
        super().__init__(queryset, **kwargs)
