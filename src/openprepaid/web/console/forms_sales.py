"""Forms of the sales desk (售电): search, sell, refund, correct, open, close, swap.

They only check what the cashier typed — an amount is a positive number of yuan with at most two
decimals that fits a receipt, an energy a positive number of kWh with at most two decimals — and
hand the cleaned values to the billing services, which decide everything else.

Every form that moves money carries ``external_id``: a hidden random id made when the form is
rendered. Submitting the same form twice (a double click, the browser's back button and submit
again) reaches the service with the same id, and the service returns the sale it already recorded
instead of recording a second one.
"""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from openprepaid.calc.money import AmountError, parse_energy, parse_money
from openprepaid.domain.billing.models import PaymentMethod
from openprepaid.domain.sites.models import Meter
from openprepaid.web.console.formbase import ConsoleForm

#: The largest amount one counter transaction takes (a typo guard: a figure above it is refused
#: as input, before any service sees it).
MAX_AMOUNT = Decimal("999999.99")
#: The largest energy one sale by energy takes (kWh).
MAX_ENERGY = Decimal("999999.99")
_EXTERNAL_ID = re.compile(r"^[0-9a-f]{32}$")
#: What a person types as an amount: digits, a point, digits (a sign is checked after parsing).
_PLAIN_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


def new_external_id() -> str:
    return uuid.uuid4().hex


def meter_label(meter: Meter) -> str:
    unit = getattr(meter, "unit", None)
    return f"{meter.address} · {unit.code}" if unit is not None else meter.address


class _DecimalText(forms.CharField):
    """A decimal typed as text, parsed exactly by ``openprepaid.calc.money`` (never float)."""

    parse = staticmethod(parse_money)
    maximum = MAX_AMOUNT
    messages = {
        "invalid": _("Enter an amount in yuan with at most two decimals, e.g. 100.00."),
        "positive": _("Enter an amount greater than zero."),
        "negative": _("Enter an amount of zero or more."),
        "too_large": _("At most %(maximum)s at a time."),
    }

    def __init__(self, *, allow_zero: bool = False, **kwargs):
        self.allow_zero = allow_zero
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.update(inputmode="decimal", autocomplete="off", maxlength="20")
        return attrs

    def to_python(self, value):
        text = super().to_python(value).replace(",", "").replace("，", "").strip()
        if text in self.empty_values:
            return None
        if len(text) > 20 or not _PLAIN_NUMBER.match(text):
            raise forms.ValidationError(self.messages["invalid"], code="invalid")
        try:
            number = self.parse(text)
        except AmountError:
            raise forms.ValidationError(self.messages["invalid"], code="invalid") from None
        if number < 0 and self.allow_zero:
            raise forms.ValidationError(self.messages["negative"], code="negative")
        if number <= 0 and not self.allow_zero:
            raise forms.ValidationError(self.messages["positive"], code="positive")
        if number > self.maximum:
            raise forms.ValidationError(
                self.messages["too_large"] % {"maximum": self.maximum}, code="too_large"
            )
        return number


class MoneyField(_DecimalText):
    pass


class EnergyField(_DecimalText):
    parse = staticmethod(parse_energy)
    maximum = MAX_ENERGY
    messages = {
        "invalid": _("Enter an energy in kWh with at most two decimals, e.g. 150.00."),
        "positive": _("Enter an energy greater than zero."),
        "negative": _("Enter an energy of zero or more."),
        "too_large": _("At most %(maximum)s kWh at a time."),
    }


# ------------------------------------------------------------------------------- search


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=64,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "autocomplete": "off",
                "autofocus": True,
                "class": "form-control form-control-lg",
                "placeholder": _("Unit, tenant name or number, meter address, mobile, account"),
                "aria-label": _("Search accounts"),
            }
        ),
    )

    def query(self) -> str:
        return self.cleaned_data.get("q", "").strip() if self.is_valid() else ""


# ------------------------------------------------------------------------- money forms


class MoneyForm(ConsoleForm):
    """A form whose submission records money: it carries the idempotency key."""

    external_id = forms.CharField(widget=forms.HiddenInput, max_length=32)

    def __init__(self, *args, account=None, meters=(), **kwargs):
        self.account = account
        self.meters = list(meters)
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("external_id", new_external_id())

    def clean_external_id(self) -> str:
        value = self.cleaned_data["external_id"].strip().lower()
        if not _EXTERNAL_ID.match(value):
            raise forms.ValidationError(_("The form is damaged: reload the page."))
        return value

    def _meter_field(self, *, required: bool, label=None) -> None:
        """A choice of the account's meters, shown only when there is a choice to make."""
        choices = [(str(m.pk), meter_label(m)) for m in self.meters]
        field = forms.TypedChoiceField(
            label=label or _("Meter"),
            choices=([] if required else [("", _("Any"))]) + choices,
            coerce=int,
            required=required,
            empty_value=None,
        )
        if len(choices) == 1:
            field.initial = choices[0][0]
            field.widget = forms.HiddenInput()
        self.fields["meter"] = field

    def chosen_meter(self) -> Meter | None:
        pk = self.cleaned_data.get("meter")
        return next((m for m in self.meters if m.pk == pk), None)


def _payment_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("Payment method"),
        choices=PaymentMethod.choices,
        initial=PaymentMethod.CASH,
        widget=forms.RadioSelect,
    )


def _note_field(label=None, *, required=False) -> forms.CharField:
    return forms.CharField(label=label or _("Note"), max_length=200, required=required)


class SellForm(MoneyForm):
    """Sell by amount (yuan) or by energy (kWh, priced by the service)."""

    BY_AMOUNT = "amount"
    BY_ENERGY = "energy"
    wide_fields = ("by", "payment_method", "note")

    by = forms.ChoiceField(
        label=_("Sell by"),
        choices=[(BY_AMOUNT, _("Amount (yuan)")), (BY_ENERGY, _("Energy (kWh)"))],
        initial=BY_AMOUNT,
        widget=forms.RadioSelect,
    )
    amount = MoneyField(label=_("Amount (yuan)"), required=False)
    energy = EnergyField(label=_("Energy (kWh)"), required=False)

    def setup(self) -> None:
        self._meter_field(required=len(self.meters) > 1)
        self.fields["payment_method"] = _payment_field()
        self.fields["note"] = _note_field()
        self.fields["amount"].widget.attrs.update(
            autofocus=True, placeholder="0.00", **{"class": "op-amount-input"}
        )
        self.fields["energy"].widget.attrs.update(
            placeholder="0.00", **{"class": "op-amount-input"}
        )

    def clean(self):
        data = super().clean()
        by = data.get("by")
        if by == self.BY_AMOUNT and data.get("amount") is None and "amount" not in self.errors:
            self.add_error("amount", _("Enter the amount."))
        if by == self.BY_ENERGY and data.get("energy") is None and "energy" not in self.errors:
            self.add_error("energy", _("Enter the energy."))
        return data

    def service_values(self) -> dict:
        data = self.cleaned_data
        by_energy = data["by"] == self.BY_ENERGY
        return {
            "payment_method": data["payment_method"],
            "external_id": data["external_id"],
            "amount": None if by_energy else data["amount"],
            "energy": data["energy"] if by_energy else None,
            "meter": self.chosen_meter(),
            "note": data.get("note", ""),
        }


class OpenForm(MoneyForm):
    """Open a registered account with its first purchase."""

    wide_fields = ("payment_method", "note")
    amount = MoneyField(
        label=_("First purchase (yuan)"),
        allow_zero=True,
        help_text=_("0.00 opens the account without a purchase."),
    )

    def setup(self) -> None:
        self._meter_field(required=False)
        self.fields["payment_method"] = _payment_field()
        self.fields["note"] = _note_field()
        self.fields["amount"].widget.attrs.update(autofocus=True, placeholder="0.00")

    def service_values(self) -> dict:
        data = self.cleaned_data
        return {
            "amount": data["amount"],
            "payment_method": data["payment_method"],
            "external_id": data["external_id"],
            "meter": self.chosen_meter(),
            "note": data.get("note", ""),
        }


class RefundForm(MoneyForm):
    """Money paid back to the tenant (退电)."""

    wide_fields = ("note",)
    amount = MoneyField(label=_("Refund (yuan)"))

    def setup(self) -> None:
        self._meter_field(required=len(self.meters) > 1)
        self.fields["note"] = _note_field(_("Reason"), required=True)
        self.fields["amount"].widget.attrs.update(autofocus=True, placeholder="0.00")

    def service_values(self) -> dict:
        data = self.cleaned_data
        return {
            "amount": data["amount"],
            "external_id": data["external_id"],
            "meter": self.chosen_meter(),
            "note": data["note"],
        }


class ConfirmedForm(MoneyForm):
    """A reversal or settlement: a reason and an explicit confirmation."""

    wide_fields = ("note", "confirm")
    confirm_label = _("I have checked the figures above")

    def setup(self) -> None:
        self.fields["note"] = _note_field(_("Reason"), required=True)
        self.fields["confirm"] = forms.BooleanField(label=self.confirm_label, required=True)

    def service_values(self) -> dict:
        return {
            "external_id": self.cleaned_data["external_id"],
            "note": self.cleaned_data["note"],
        }


class CorrectForm(ConfirmedForm):
    confirm_label = _("Reverse this sale with a correction entry")


class CloseForm(ConfirmedForm):
    wide_fields = ("payment_method", "note", "confirm")
    confirm_label = _("Close the account and settle the balance shown above")

    def setup(self) -> None:
        self.fields["payment_method"] = _payment_field()
        self.fields["payment_method"].label = _("Paid back by")
        super().setup()

    def service_values(self) -> dict:
        return super().service_values() | {"payment_method": self.cleaned_data["payment_method"]}


class SwapForm(MoneyForm):
    """Replace one of the account's meters by a meter of the site that belongs to no account."""

    wide_fields = ("note",)
    new_meter = forms.TypedChoiceField(
        label=pgettext_lazy("meter swap", "New meter"), coerce=int, choices=()
    )
    final_energy = EnergyField(
        label=_("Final reading of the old meter (kWh)"),
        required=False,
        help_text=_("Leave empty to take the meter's last reading."),
    )
    final_balance = MoneyField(
        label=_("Balance shown by the old meter (yuan)"),
        required=False,
        allow_zero=True,
        help_text=_(
            "Local meters only, when the meter can no longer be read: the balance on its display."
        ),
    )

    def __init__(self, *args, new_meters=(), **kwargs):
        self.new_meters = list(new_meters)
        super().__init__(*args, **kwargs)

    def setup(self) -> None:
        self._meter_field(required=True, label=_("Old meter"))
        self.fields["new_meter"].choices = [("", "---------")] + [
            (str(m.pk), meter_label(m)) for m in self.new_meters
        ]
        self.fields["note"] = _note_field(_("Reason"), required=True)
        self.fields = {
            name: self.fields[name]
            for name in (
                "external_id",
                "meter",
                "new_meter",
                "final_energy",
                "final_balance",
                "note",
            )
        }

    def service_values(self) -> dict:
        data = self.cleaned_data
        new_meter = next(m for m in self.new_meters if m.pk == data["new_meter"])
        return {
            "old_meter": self.chosen_meter(),
            "new_meter": new_meter,
            "external_id": data["external_id"],
            "final_energy": data.get("final_energy"),
            "final_balance": data.get("final_balance"),
            "note": data["note"],
        }


class CashUpForm(forms.Form):
    """The day (and, for those who may see everyone's, the cashier) of a cash-up."""

    day = forms.DateField(
        label=_("Day"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    cashier = forms.TypedChoiceField(label=_("Cashier"), coerce=int, required=False, choices=())

    def __init__(self, *args, cashiers=None, **kwargs):
        super().__init__(*args, **kwargs)
        if cashiers is None:
            del self.fields["cashier"]
        else:
            self.fields["cashier"].choices = [
                (str(c.pk), c.get_full_name() or c.get_username()) for c in cashiers
            ]
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs["class"] = css
