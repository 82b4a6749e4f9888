"""Forms that create and change things. Each one only collects input; the view hands the cleaned
values to a domain service (see :mod:`openprepaid.web.console.formbase`)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from openprepaid.domain.metering.selectors import select_meters
from openprepaid.domain.operators.models import Operator
from openprepaid.domain.sites import selectors as site_selectors
from openprepaid.domain.sites.models import Building, Floor, Gateway, Meter, Site, Transport, Unit
from openprepaid.domain.tenants.models import Account, Tenant
from openprepaid.protocol.profiles import PROFILES
from openprepaid.web.console.formbase import ConsoleForm, GroupedModelChoiceField, ServiceModelForm
from openprepaid.web.console.labels import COMMAND_KINDS, METER_STATES, profile_label


def _site_field(operator) -> forms.ModelChoiceField:
    sites = site_selectors.sites_for(operator)
    field = forms.ModelChoiceField(sites, label=_("Site"))
    if len(sites) == 1:
        field.initial = sites[0].pk
    return field


# ------------------------------------------------------------------------------ sites


class SiteForm(ServiceModelForm):
    class Meta:
        model = Site
        fields = ["code", "name", "address", "full_reading_minutes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["full_reading_minutes"].required = False  # blank: as it was, or 30

    def clean_full_reading_minutes(self):
        value = self.cleaned_data.get("full_reading_minutes")
        if value is None:
            return self.instance.full_reading_minutes if self.instance.pk else 30
        return value


class BuildingForm(ServiceModelForm):
    prefix = "building"
    wide_fields = ("name",)

    class Meta:
        model = Building
        fields = ["name"]


class FloorForm(ServiceModelForm):
    prefix = "floor"
    wide_fields = ("building", "name")

    class Meta:
        model = Floor
        fields = ["building", "name"]
        help_texts = {"name": _("For example B1, 1F, 2F: the floors are ordered by it.")}

    def __init__(self, *args, site: Site, **kwargs):
        self.site = site
        super().__init__(*args, **kwargs)

    def setup(self) -> None:
        self.fields["building"].queryset = self.site.buildings.order_by("name")


# ------------------------------------------------------------------------------ units


class UnitForm(ServiceModelForm):
    class Meta:
        model = Unit
        fields = ["floor", "code", "name", "kind", "area"]

    def setup(self) -> None:
        self.fields["floor"] = GroupedModelChoiceField(
            site_selectors.floor_choices(self.operator),
            group_by=lambda f: f"{f.building.site.name} · {f.building.name}",
            label=Unit._meta.get_field("floor").verbose_name,
        )
        self.fields["floor"].label_from_instance = lambda f: f.name
        self.fields = {name: self.fields[name] for name in self.Meta.fields}


# ---------------------------------------------------------------------------- gateways

_TCP = ",".join(t.value for t in (Transport.TRANSPARENT_TCP, Transport.MODBUS_TCP))


class GatewayForm(ServiceModelForm):
    class Meta:
        model = Gateway
        fields = [
            "name",
            "transport",
            "host",
            "port",
            "serial_device",
            "baud_rate",
            "parity",
            "location",
            "full_reading_minutes",
        ]
        help_texts = {
            "host": _("IP address or host name of the gateway."),
            "serial_device": _("For example /dev/ttyUSB0."),
        }

    def setup(self) -> None:
        # The page shows either the TCP or the serial fields (console.js); without scripts both
        # show, and the service clears the ones that do not belong to the transport.
        for name in ("host", "port"):
            self.fields[name].widget.attrs["data-show-if"] = f"transport={_TCP}"
        self.fields["serial_device"].widget.attrs["data-show-if"] = "transport=serial"


class GatewayCreateForm(GatewayForm):
    class Meta(GatewayForm.Meta):
        fields = ["site", *GatewayForm.Meta.fields]

    def setup(self) -> None:
        super().setup()
        self.fields["site"] = _site_field(self.operator)
        self.fields["transport"].initial = Transport.TRANSPARENT_TCP
        self.fields = {name: self.fields[name] for name in self.Meta.fields}


# ------------------------------------------------------------------------------ meters


class MeterForm(ServiceModelForm):
    class Meta:
        model = Meter
        fields = [
            "gateway",
            "unit",
            "address",
            "protocol",
            "profile",
            "phases",
            "ct_ratio",
            "cost_control",
        ]

    def setup(self) -> None:
        model = self._meta.model
        self.fields["gateway"] = GroupedModelChoiceField(
            site_selectors.gateway_choices(self.operator),
            group_by=lambda g: g.site.name,
            label=model._meta.get_field("gateway").verbose_name,
        )
        self.fields["unit"] = GroupedModelChoiceField(
            site_selectors.unit_choices(self.operator),
            group_by=lambda u: u.site.name,
            label=model._meta.get_field("unit").verbose_name,
        )
        self.fields["profile"].choices = [
            ("", "---------"),
            *((code, profile_label(code)) for code in PROFILES),
        ]
        self.fields = {name: self.fields[name] for name in self.Meta.fields}


# ----------------------------------------------------------------------------- tenants


class TenantForm(ServiceModelForm):
    wide_fields = ("note",)

    class Meta:
        model = Tenant
        fields = ["code", "name", "kind", "contact_name", "mobile", "note"]


class TenantCreateForm(TenantForm):
    class Meta(TenantForm.Meta):
        fields = ["site", *TenantForm.Meta.fields]

    def setup(self) -> None:
        self.fields["site"] = _site_field(self.operator)
        self.fields = {name: self.fields[name] for name in self.Meta.fields}


class AccountForm(ServiceModelForm):
    wide_fields = ("meters",)
    meters = forms.ModelMultipleChoiceField(
        Meter.objects.none(),
        label=_("Meters"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("One account may hold several meters."),
    )

    class Meta:
        model = Account
        fields = ["number"]
        help_texts = {"number": _("Leave empty to number it automatically.")}

    def __init__(self, *args, meters, **kwargs):
        self.meter_choices = meters
        super().__init__(*args, **kwargs)

    def setup(self) -> None:
        self.fields["number"].required = False
        self.fields["meters"].queryset = self.meter_choices
        self.fields["meters"].label_from_instance = lambda m: f"{m.address} · {m.unit}"


# --------------------------------------------------------------------------- operators


class PasswordMixin(forms.Form):
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 10 characters, not only digits, not a common password."),
    )
    password_confirm = forms.CharField(
        label=_("Password (again)"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password_confirm"):
            self.add_error("password_confirm", _("The two passwords differ."))
        return data


class _OperatorSites:
    wide_fields = ("sites",)

    def setup(self) -> None:
        self.fields["sites"].queryset = site_selectors.sites_for(self.operator)


class OperatorCreateForm(PasswordMixin, _OperatorSites, ServiceModelForm):
    class Meta:
        model = Operator
        fields = ["username", "first_name", "last_name", "email", "mobile", "role", "sites"]
        widgets = {"sites": forms.CheckboxSelectMultiple}


class OperatorEditForm(_OperatorSites, ServiceModelForm):
    class Meta:
        model = Operator
        fields = ["first_name", "last_name", "email", "mobile", "role", "is_active", "sites"]
        widgets = {"sites": forms.CheckboxSelectMultiple}


class PasswordForm(ConsoleForm, PasswordMixin):
    pass


# ----------------------------------------------------------------------- configuration


class ImportForm(ConsoleForm):
    wide_fields = ("file", "dry_run")
    file = forms.FileField(
        label=_("Spreadsheet"),
        help_text=_("An .xlsx workbook made from the template, or a .csv file of one kind."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )
    dry_run = forms.BooleanField(
        label=_("Dry run: check every row and show what would change, write nothing"),
        required=False,
        initial=True,
    )


class ExportForm(ConsoleForm):
    wide_fields = ("sites",)
    sites = forms.ModelMultipleChoiceField(
        Site.objects.none(),
        label=_("Sites"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave empty to export every site you can see."),
    )

    def setup(self) -> None:
        self.fields["sites"].queryset = site_selectors.sites_for(self.operator)


# ----------------------------------------------------------------------------- commands


class ParamsForm(ConsoleForm):
    """The parameters of one command: ``params()`` is what the service takes."""

    small = True

    def params(self) -> dict:
        return {}

    def error_text(self) -> str:
        parts = []
        for name, errors in self.errors.items():
            label = self.fields[name].label if name in self.fields else ""
            parts.extend(f"{label}: {error}" if label else str(error) for error in errors)
        return "; ".join(parts)


class PushPricesForm(ParamsForm):
    """The four tariff prices a meter holds (yuan/kWh, four decimals)."""

    sharp = forms.DecimalField(label=_("Sharp"), max_digits=8, decimal_places=4, min_value=0)
    peak = forms.DecimalField(label=_("Peak"), max_digits=8, decimal_places=4, min_value=0)
    flat = forms.DecimalField(label=_("Flat"), max_digits=8, decimal_places=4, min_value=0)
    valley = forms.DecimalField(label=_("Valley"), max_digits=8, decimal_places=4, min_value=0)

    def params(self) -> dict:
        names = ("sharp", "peak", "flat", "valley")
        return {"prices": [str(self.cleaned_data[name]) for name in names]}


class PushSettingsForm(ParamsForm):
    """Thresholds written to the meter; the ones left empty stay as they are."""

    alarm_1 = forms.DecimalField(
        label=_("Alarm level 1 (yuan)"), required=False, decimal_places=2, min_value=0
    )
    alarm_2 = forms.DecimalField(
        label=_("Alarm level 2 (yuan)"), required=False, decimal_places=2, min_value=0
    )
    overdraft_limit = forms.DecimalField(
        label=_("Overdraft limit (yuan)"), required=False, decimal_places=2, min_value=0
    )
    close_allowed_limit = forms.DecimalField(
        label=_("Closing allowed from (yuan)"), required=False, decimal_places=2, min_value=0
    )
    overload_power_kw = forms.DecimalField(
        label=_("Overload power limit (kW)"), required=False, decimal_places=4, min_value=0
    )

    def clean(self):
        data = super().clean()
        if not any(value is not None for value in data.values()):
            raise forms.ValidationError(_("Give at least one setting."))
        return data

    def params(self) -> dict:
        return {k: str(v) for k, v in self.cleaned_data.items() if v is not None}


PARAMS_FORMS = {"push_prices": PushPricesForm, "push_settings": PushSettingsForm}


def command_params_form(kind, *, data=None, prefix=None) -> ParamsForm:
    """The form of a command's parameters (an empty one for the commands that take none)."""
    return PARAMS_FORMS.get(str(kind), ParamsForm)(data, prefix=prefix)


class BatchCommandForm(ConsoleForm):
    """Which meters (site, building, floor, board state) and which command; the parameter
    fields of push prices and push settings count only for those commands."""

    def setup(self) -> None:
        operator = self.operator
        sites = site_selectors.sites_for(operator)
        self.fields["site"] = forms.ModelChoiceField(sites, label=_("Site"))
        if len(sites) == 1:
            self.fields["site"].initial = sites[0].pk
        site = self._chosen("site", sites) or (sites[0] if len(sites) == 1 else None)
        buildings = site_selectors.buildings_for(operator, site=site)
        self.fields["building"] = forms.ModelChoiceField(
            buildings, label=_("Building"), required=False, empty_label=_("All")
        )
        self.fields["building"].label_from_instance = lambda b: b.name
        building = self._chosen("building", buildings)
        floors = site_selectors.floors_for(operator, site=site, building=building)
        self.fields["floor"] = forms.ModelChoiceField(
            floors, label=_("Floor"), required=False, empty_label=_("All")
        )
        self.fields["floor"].label_from_instance = (
            (lambda f: f.name) if building else (lambda f: f"{f.building.name} · {f.name}")
        )
        self.fields["state"] = forms.ChoiceField(
            label=_("Board state"),
            choices=[("", _("All")), *METER_STATES.items()],
            required=False,
        )
        self.fields["kind"] = forms.ChoiceField(label=_("Command"), choices=COMMAND_KINDS.items())
        self.fields["description"] = forms.CharField(
            label=_("Description"), max_length=200, required=False
        )
        self.params_forms = {
            kind: form_class(self.data if self.is_bound else None, prefix=kind, operator=operator)
            for kind, form_class in PARAMS_FORMS.items()
        }
        for kind, params_form in self.params_forms.items():
            for field in params_form.fields.values():
                field.widget.attrs["data-show-if"] = f"kind={kind}"

    def _chosen(self, name, queryset):
        raw = self.data.get(name) if self.is_bound else self.initial.get(name)
        if not raw or not str(raw).isdigit():
            return None
        return queryset.filter(pk=int(raw)).first()

    def clean(self):
        data = super().clean()
        site, building, floor = data.get("site"), data.get("building"), data.get("floor")
        if building is not None and site is not None and building.site_id != site.pk:
            self.add_error("building", _("This building is not on the chosen site."))
        if floor is not None and building is not None and floor.building_id != building.pk:
            self.add_error("floor", _("This floor is not in the chosen building."))
        if floor is not None and site is not None and floor.building.site_id != site.pk:
            self.add_error("floor", _("This floor is not on the chosen site."))
        kind = data.get("kind")
        params_form = self.params_forms.get(kind)
        if params_form is not None and not params_form.is_valid():
            self.add_error(None, params_form.error_text())
        return data

    def kind(self) -> str:
        return self.cleaned_data["kind"]

    def params(self) -> dict:
        params_form = self.params_forms.get(self.cleaned_data["kind"])
        return params_form.params() if params_form is not None else {}

    def selected_meters(self) -> list:
        data = self.cleaned_data
        return select_meters(
            self.operator,
            site=data["site"],
            building=data.get("building"),
            floor=data.get("floor"),
            state=data.get("state") or None,
        )
