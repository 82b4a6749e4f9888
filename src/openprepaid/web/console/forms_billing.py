"""Forms of the billing configuration pages: meter groups, site settings, holidays, per-meter
thresholds, tariff assignments and the alarm filter. The tariff definition editor is in
:mod:`openprepaid.web.console.forms_tariffs`.

As everywhere in the console, a form only checks what a person typed; the billing services
(``openprepaid.domain.billing.services``) decide what is allowed.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from openprepaid.domain.billing import selectors_config as selectors
from openprepaid.domain.billing.models import (
    AssignmentScope,
    BillingAlarmKind,
    BillingSettings,
    Holiday,
    MeterGroup,
    MeterThresholds,
    TariffKind,
)
from openprepaid.domain.sites import selectors as site_selectors
from openprepaid.domain.sites.models import Meter, Site
from openprepaid.web.console.filters import FilterForm, _choices
from openprepaid.web.console.formbase import ConsoleForm, ServiceModelForm

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


def meter_label(meter: Meter) -> str:
    unit = meter.unit
    place = f"{unit.floor.building.name} {unit.floor.name}" if unit.floor_id else ""
    return f"{unit.code} {unit.name} · {meter.address} · {place}".strip(" ·")


# ------------------------------------------------------------------------------ filters


class TariffFilterForm(FilterForm):
    search_hint = _("Code or name")

    def setup(self) -> None:
        self.site_filter()
        self.fields["kind"] = forms.ChoiceField(
            label=_("Kind"), choices=_choices(TariffKind.choices), required=False
        )
        super().setup()


class GroupFilterForm(FilterForm):
    search_hint = _("Group name")

    def setup(self) -> None:
        self.site_filter()
        super().setup()


class HolidayFilterForm(FilterForm):
    def setup(self) -> None:
        del self.fields["q"]
        self.site_filter()
        self.fields["year"] = forms.IntegerField(
            label=_("Year"), required=False, min_value=2000, max_value=2100
        )


class AlarmFilterForm(FilterForm):
    search_hint = _("Account, tenant, unit or meter")

    def setup(self) -> None:
        self.site_filter()
        self.fields["kind"] = forms.ChoiceField(
            label=_("Kind"), choices=_choices(BillingAlarmKind.choices), required=False
        )
        self.fields["open_only"] = forms.TypedChoiceField(
            label=_("State"),
            choices=[("", _("All")), ("1", _("Not cleared"))],
            coerce=lambda value: value == "1",
            empty_value=False,
            required=False,
        )
        super().setup()


# ------------------------------------------------------------------------- meter groups


class GroupCreateForm(ServiceModelForm):
    wide_fields = ("name",)

    class Meta:
        model = MeterGroup
        fields = ["site", "name"]

    def setup(self) -> None:
        sites = site_selectors.sites_for(self.operator)
        self.fields["site"] = forms.ModelChoiceField(sites, label=_("Site"))
        if len(sites) == 1:
            self.fields["site"].initial = sites[0].pk
        self.fields = {name: self.fields[name] for name in self.Meta.fields}


class GroupMemberSearchForm(FilterForm):
    """Narrows the meters offered on the members page (building, floor, unit search)."""

    dependent = ("floor",)
    search_hint = _("Unit number, name or meter address")

    def __init__(self, *args, site: Site, **kwargs):
        self.site = site
        super().__init__(*args, **kwargs)

    def setup(self) -> None:
        building = self.building_filter(self.site)
        self.floor_filter(self.site, building)
        super().setup()


class GroupMembersForm(ConsoleForm):
    """The group's members: the meters shown (a search result) are ticked or not; members not
    shown stay as they are."""

    wide_fields = ("meters",)
    meters = forms.ModelMultipleChoiceField(
        Meter.objects.none(),
        label=_("Meters"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    shown = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, group: MeterGroup, choices, **kwargs):
        self.group = group
        self.choices = choices
        super().__init__(*args, **kwargs)

    def setup(self) -> None:
        self.fields["meters"].queryset = self.choices
        self.fields["meters"].label_from_instance = meter_label
        if not self.is_bound:
            members = set(self.group.meters.values_list("pk", flat=True))
            self.initial.setdefault("meters", [m.pk for m in self.choices if m.pk in members])
            self.initial.setdefault("shown", ",".join(str(m.pk) for m in self.choices))

    def clean_shown(self) -> set[int]:
        raw = self.cleaned_data.get("shown") or ""
        return {int(part) for part in raw.split(",") if part.strip().isdigit()}

    def members(self) -> list[Meter]:
        """The group's meters after this change: the ticked ones, plus the members that were
        not on the page."""
        shown = self.cleaned_data["shown"]
        kept = [m for m in self.group.meters.all() if m.pk not in shown]
        return [*kept, *self.cleaned_data["meters"]]


# ------------------------------------------------------------------------ site settings


class BillingSettingsForm(ServiceModelForm):
    """The thresholds and the receipt number prefix of a site (the layout is its own form)."""

    wide_fields = ("friendly_weekends",)

    class Meta:
        model = BillingSettings
        fields = [
            "alarm_1",
            "alarm_2",
            "overdraft_limit",
            "close_allowed_limit",
            "overload_power_kw",
            "friendly_from",
            "friendly_until",
            "friendly_weekends",
            "receipt_prefix",
            "opening_amount",
        ]
        widgets = {"friendly_from": TIME, "friendly_until": TIME}
        help_texts = {
            "alarm_1": _("The first warning, when the balance falls to this amount."),
            "alarm_2": _("The second warning; not above alarm level 1."),
            "overdraft_limit": _("How far below zero the balance may go before the power is cut."),
            "close_allowed_limit": _(
                "After a recharge the power comes back once the balance is above this."
            ),
            "overload_power_kw": _("Leave empty for no overload alarm."),
            "friendly_from": _(
                "Arrears does not cut the power in these hours (for example 18:00 to 08:00)."
            ),
            "receipt_prefix": _("Letters in front of every receipt number of the site."),
            "opening_amount": _(
                "The first purchase the sales desk offers when opening an account."
            ),
        }

    def setup(self) -> None:
        self.fields["opening_amount"].required = False  # empty keeps the current amount

    def clean(self):
        data = super().clean()
        if data.get("opening_amount") is None:
            data.pop("opening_amount", None)
        return data


class MeterThresholdsForm(ServiceModelForm):
    """Per-meter overrides; an empty field takes the site's value."""

    class Meta:
        model = MeterThresholds
        fields = [
            "alarm_1",
            "alarm_2",
            "overdraft_limit",
            "close_allowed_limit",
            "overload_power_kw",
        ]

    def __init__(self, *args, defaults: BillingSettings, **kwargs):
        self.defaults = defaults
        super().__init__(*args, **kwargs)

    def setup(self) -> None:
        for name, field in self.fields.items():
            field.required = False
            value = getattr(self.defaults, name)
            field.widget.attrs["placeholder"] = "" if value is None else str(value)
            field.help_text = _("Site: %(value)s") % {"value": "—" if value is None else value}


class HolidayForm(ServiceModelForm):
    prefix = "holiday"

    class Meta:
        model = Holiday
        fields = ["site", "day", "name"]
        widgets = {"day": DATE}

    def setup(self) -> None:
        sites = site_selectors.sites_for(self.operator)
        self.fields["site"] = forms.ModelChoiceField(sites, label=_("Site"))
        if len(sites) == 1:
            self.fields["site"].initial = sites[0].pk
        self.fields = {name: self.fields[name] for name in self.Meta.fields}


# -------------------------------------------------------------------------- assignments


class AssignTariffForm(ConsoleForm):
    """Give a tariff to the whole site, a meter group or one meter, from a moment on."""

    prefix = "assign"
    wide_fields = ("scope",)

    def __init__(self, *args, tariff, **kwargs):
        self.tariff = tariff
        super().__init__(*args, **kwargs)

    def setup(self) -> None:
        site = self.tariff.site
        self.fields["scope"] = forms.ChoiceField(
            label=_("Applies to"),
            choices=AssignmentScope.choices,
            initial=AssignmentScope.SITE,
        )
        self.fields["group"] = forms.ModelChoiceField(
            selectors.site_groups(site), label=_("Meter group"), required=False
        )
        self.fields["group"].widget.attrs["data-show-if"] = "assign-scope=group"
        self.fields["meter"] = forms.ModelChoiceField(
            selectors.group_meter_choices(site), label=_("Meter"), required=False
        )
        self.fields["meter"].label_from_instance = meter_label
        self.fields["meter"].widget.attrs["data-show-if"] = "assign-scope=meter"
        self.fields["effective_from"] = forms.DateTimeField(
            label=_("Effective from"), widget=DATETIME
        )

    def clean(self):
        data = super().clean()
        scope = data.get("scope")
        if scope == AssignmentScope.GROUP and data.get("group") is None:
            self.add_error("group", _("Choose the meter group."))
        if scope == AssignmentScope.METER and data.get("meter") is None:
            self.add_error("meter", _("Choose the meter."))
        return data

    def target(self) -> dict:
        """The keyword arguments of ``assign_tariff`` that say where it applies."""
        data = self.cleaned_data
        scope = data["scope"]
        return {
            "scope": scope,
            "group": data["group"] if scope == AssignmentScope.GROUP else None,
            "meter": data["meter"] if scope == AssignmentScope.METER else None,
            "effective_from": data["effective_from"],
        }
