"""Forms that create and change things. Each one only collects input; the view hands the cleaned
values to a domain service (see :mod:`openprepaid.web.console.formbase`)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from openprepaid.domain.operators.models import Operator
from openprepaid.domain.sites import selectors as site_selectors
from openprepaid.domain.sites.models import Building, Floor, Gateway, Meter, Site, Transport, Unit
from openprepaid.domain.tenants.models import Account, Tenant
from openprepaid.protocol.profiles import PROFILES
from openprepaid.web.console.formbase import ConsoleForm, GroupedModelChoiceField, ServiceModelForm
from openprepaid.web.console.labels import profile_label


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
        fields = ["code", "name", "address"]


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
