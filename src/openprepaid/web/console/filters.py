"""Filter forms of the list pages. Their cleaned values are the keyword arguments of the list
selectors; a value that is not valid (another site's building, a typo in a date) is ignored.

``dependent`` names the fields whose choices follow another filter (a site's buildings); the
list partial re-renders them out of band when the table is swapped by htmx.
"""

from __future__ import annotations

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from openprepaid.domain.audit import selectors as audit_selectors
from openprepaid.domain.operators import selectors as operator_selectors
from openprepaid.domain.operators.roles import Role
from openprepaid.domain.sites import selectors as site_selectors
from openprepaid.domain.sites.models import CostControl, Lifecycle, Status, Transport, UnitKind
from openprepaid.domain.tenants.models import TenantKind, TenantStatus
from openprepaid.protocol.profiles import Protocol
from openprepaid.web.console.formbase import ConsoleForm
from openprepaid.web.console.labels import METER_STATES, action_label, model_label

ALL = ("", _("All"))


def _choices(choices) -> list:
    return [ALL, *choices]


class FilterForm(ConsoleForm):
    template_name = "console/forms/filters.html"
    small = True
    dependent: tuple[str, ...] = ()

    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    search_hint = ""
    #: the query string of the "clear filters" link
    reset_query = ""

    def setup(self) -> None:
        self.fields["q"].widget.attrs["placeholder"] = self.search_hint
        # The search box goes last.
        self.fields["q"] = self.fields.pop("q")

    def values(self) -> dict:
        """The filters to hand to the selector (only the valid ones)."""
        self.is_valid()
        return {k: v for k, v in getattr(self, "cleaned_data", {}).items() if k in self.fields}

    def dependent_fields(self) -> list:
        return [self[name] for name in self.dependent if name in self.fields]

    def chosen(self, name: str, queryset: QuerySet):
        """The object picked in filter ``name`` before validation, if it is in ``queryset``."""
        raw = self.data.get(name) if self.is_bound else None
        if not raw or not str(raw).isdigit():
            return None
        return queryset.filter(pk=int(raw)).first()

    def model_filter(self, name, queryset, label, label_from_instance=None):
        field = forms.ModelChoiceField(queryset, label=label, required=False, empty_label=ALL[1])
        if label_from_instance is not None:
            field.label_from_instance = label_from_instance
        self.fields[name] = field
        return field

    def site_filter(self):
        sites = site_selectors.sites_for(self.operator)
        self.model_filter("site", sites, _("Site"))
        return self.chosen("site", sites)

    def building_filter(self, site):
        buildings = site_selectors.buildings_for(self.operator, site=site)
        label = (lambda b: b.name) if site else (lambda b: f"{b.site.name} · {b.name}")
        self.model_filter("building", buildings, _("Building"), label)
        return self.chosen("building", buildings)

    def floor_filter(self, site, building):
        floors = site_selectors.floors_for(self.operator, site=site, building=building)
        label = (lambda f: f.name) if building else str
        self.model_filter("floor", floors, _("Floor"), label)


class SiteFilterForm(FilterForm):
    search_hint = _("Code, name or address")


class UnitFilterForm(FilterForm):
    dependent = ("building", "floor")
    search_hint = _("Unit number or name")

    def setup(self) -> None:
        site = self.site_filter()
        building = self.building_filter(site)
        self.floor_filter(site, building)
        self.fields["kind"] = forms.ChoiceField(
            label=_("Kind"), choices=_choices(UnitKind.choices), required=False
        )
        self.fields["status"] = forms.ChoiceField(
            label=_("Status"), choices=_choices(Status.choices), required=False
        )
        super().setup()


class GatewayFilterForm(FilterForm):
    search_hint = _("Name, host or location")

    def setup(self) -> None:
        self.site_filter()
        self.fields["transport"] = forms.ChoiceField(
            label=_("Transport"), choices=_choices(Transport.choices), required=False
        )
        self.fields["status"] = forms.ChoiceField(
            label=_("Status"), choices=_choices(Status.choices), required=False
        )
        super().setup()


PROTOCOL_CHOICES = [
    (Protocol.DLT645_2007.value, "DL/T 645-2007"),
    (Protocol.MODBUS_RTU.value, "Modbus-RTU"),
]


class MeterFilterForm(FilterForm):
    dependent = ("building", "floor", "gateway")
    search_hint = _("Address, unit number or name")

    def setup(self) -> None:
        site = self.site_filter()
        building = self.building_filter(site)
        self.floor_filter(site, building)
        gateways = site_selectors.gateways_for(self.operator)
        if site is not None:
            gateways = gateways.filter(site=site)
        self.model_filter("gateway", gateways, _("Gateway"))
        self.fields["protocol"] = forms.ChoiceField(
            label=_("Protocol"), choices=_choices(PROTOCOL_CHOICES), required=False
        )
        self.fields["cost_control"] = forms.ChoiceField(
            label=_("Cost control"), choices=_choices(CostControl.choices), required=False
        )
        self.fields["lifecycle"] = forms.ChoiceField(
            label=_("Lifecycle"), choices=_choices(Lifecycle.choices), required=False
        )
        super().setup()


class BoardFilterForm(FilterForm):
    """The board's filters; the site is picked by the tabs above and kept in a hidden field."""

    dependent = ("floor",)

    def __init__(self, *args, site, **kwargs):
        self.site = site
        self.reset_query = f"?site={site.pk}"
        super().__init__(*args, **kwargs)

    def setup(self) -> None:
        del self.fields["q"]
        self.fields["site"] = forms.IntegerField(widget=forms.HiddenInput, required=False)
        building = self.building_filter(self.site)
        self.floor_filter(self.site, building)
        self.model_filter(
            "gateway", site_selectors.gateway_choices(self.operator, site=self.site), _("Gateway")
        )
        self.fields["state"] = forms.ChoiceField(
            label=_("State"), choices=_choices(METER_STATES.items()), required=False
        )

    def values(self) -> dict:
        values = super().values()
        values.pop("site", None)
        return values


class TenantFilterForm(FilterForm):
    search_hint = _("Number, name, mobile or contact")

    def setup(self) -> None:
        self.site_filter()
        self.fields["kind"] = forms.ChoiceField(
            label=_("Kind"), choices=_choices(TenantKind.choices), required=False
        )
        self.fields["status"] = forms.ChoiceField(
            label=_("Status"), choices=_choices(TenantStatus.choices), required=False
        )
        super().setup()


class OperatorFilterForm(FilterForm):
    search_hint = _("User name, name or mobile")

    def setup(self) -> None:
        self.fields["role"] = forms.ChoiceField(
            label=_("Role"), choices=_choices(Role.choices), required=False
        )
        self.fields["active"] = forms.ChoiceField(
            label=_("Status"),
            choices=_choices([("yes", _("Active")), ("no", _("Inactive"))]),
            required=False,
        )
        super().setup()


class SystemLogFilterForm(FilterForm):
    search_hint = _("Operator, object, note or address")

    def setup(self) -> None:
        self.model_filter("actor", operator_selectors.operators_for(self.operator), _("Operator"))
        self.fields["action"] = forms.ChoiceField(
            label=_("Action"),
            choices=_choices(
                (a, action_label(a)) for a in audit_selectors.actions_in_log(self.operator)
            ),
            required=False,
        )
        self.fields["object_type"] = forms.ChoiceField(
            label=_("Object type"),
            choices=_choices(
                (t, model_label(t)) for t in audit_selectors.object_types_in_log(self.operator)
            ),
            required=False,
        )
        self.site_filter()
        date = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
        self.fields["date_from"] = forms.DateField(
            label=_("From date"), required=False, widget=date
        )
        self.fields["date_to"] = forms.DateField(label=_("To date"), required=False, widget=date)
        super().setup()
