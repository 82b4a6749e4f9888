"""Meters: the list, a meter's page, and creating, changing and retiring one."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from openprepaid.domain.audit.selectors import history_of
from openprepaid.domain.metering import selectors as metering
from openprepaid.domain.operators.roles import Capability
from openprepaid.domain.sites import selectors, services
from openprepaid.domain.sites.models import Lifecycle
from openprepaid.domain.tenants.selectors import current_accounts
from openprepaid.web.console.charts import Series, line_chart
from openprepaid.web.console.filters import MeterFilterForm
from openprepaid.web.console.forms import MeterForm
from openprepaid.web.console.views.base import (
    ConfirmView,
    ConsoleListView,
    ConsoleMixin,
    ObjectFormView,
    ObjectMixin,
    ServiceFormView,
)
from openprepaid.web.console.views.commands import command_buttons, meter_commands_context

LIST = reverse_lazy("console:meter_list")
HISTORY_ROWS = 50
CHART_WINDOWS = {"24h": dt.timedelta(hours=24), "7d": dt.timedelta(days=7)}
CHART_LABELS = {"24h": _("Last 24 hours"), "7d": _("Last 7 days")}


class _MeterObject(ObjectMixin):
    site_attr = "gateway.site_id"

    def get_queryset(self):
        return selectors.meters_for(self.request.user)


class MeterListView(ConsoleListView):
    title = _("Meters")
    filter_class = MeterFilterForm
    table_template = "console/tables/meters.html"
    testid = "meter-table"
    create_url_name = "console:meter_create"
    create_capability = Capability.CONFIGURE
    create_label = _("New meter")
    row_capability = Capability.CONFIGURE

    def select(self, **filters):
        return selectors.meter_list(self.request.user, **filters)


class MeterCreateView(ServiceFormView):
    title = _("New meter")
    capability = Capability.CONFIGURE
    form_class = MeterForm
    success_message = _("The meter was created.")
    back_url = LIST

    def get_initial(self) -> dict:
        # "Add a meter" from a gateway or a unit starts with it chosen.
        return {k: v for k, v in self.request.GET.items() if k in ("gateway", "unit")}

    def perform(self, form):
        return services.create_meter(acting_user=self.request.user, **form.cleaned_data)

    def get_success_url(self, result=None) -> str:
        return reverse("console:meter_detail", args=[result.pk])


class MeterEditView(_MeterObject, ObjectFormView):
    title = _("Edit meter")
    capability = Capability.CONFIGURE
    form_class = MeterForm

    def perform(self, form):
        return services.update_meter(
            self.get_object(), acting_user=self.request.user, **form.changed_values()
        )

    def get_success_url(self, result=None) -> str:
        return reverse("console:meter_detail", args=[self.get_object().pk])

    get_back_url = get_success_url


class MeterRetireView(_MeterObject, ConfirmView):
    title = _("Retire meter")
    capability = Capability.CONFIGURE
    question = _("Retire this meter?")
    explanation = _(
        "A retired meter is no longer read or billed and its address is free for another "
        "meter on the gateway. This cannot be undone."
    )
    confirm_label = _("Retire")
    success_message = _("The meter was retired.")

    def perform(self, obj) -> None:
        services.retire_meter(obj, acting_user=self.request.user)

    def get_success_url(self) -> str:
        return reverse("console:meter_detail", args=[self.get_object().pk])


class MeterDetailView(_MeterObject, ConsoleMixin, TemplateView):
    template_name = "console/meter_detail.html"

    def get_title(self):
        return _("Meter %(address)s") % {"address": self.get_object().address}

    def chart_window(self) -> tuple[str, dt.timedelta]:
        key = self.request.GET.get("range", "")
        return (key, CHART_WINDOWS[key]) if key in CHART_WINDOWS else ("24h", CHART_WINDOWS["24h"])

    def get_context_data(self, **kwargs):
        meter = self.get_object()
        user = self.request.user
        site_id = meter.gateway.site_id
        can_log = self.can(Capability.VIEW_SYSTEM_LOG, site_id)
        kwargs.update(
            account=current_accounts([meter]).get(meter.pk),
            can_configure=self.can(Capability.CONFIGURE, site_id)
            and meter.lifecycle != Lifecycle.RETIRED,
            history=history_of(user, meter)[:HISTORY_ROWS] if can_log else None,
            **self.live_context(meter),
            **meter_commands_context(user, meter),
            **(
                command_buttons(user, meter)
                if meter.lifecycle != Lifecycle.RETIRED
                else {"command_buttons": [], "command_forms": []}
            ),
        )
        return super().get_context_data(**kwargs)

    def live_context(self, meter) -> dict:
        """Latest values (the status row and the latest full reading) and the history chart."""
        live = metering.meter_states([meter]).get(meter.pk)
        status = metering.meter_status(meter)
        reading = metering.latest_reading(meter)
        range_key, window = self.chart_window()
        until = timezone.now()
        since = until - window
        history = metering.reading_history(meter, since=since)
        energy = Series(
            label=str(_("Total energy (kWh)")),
            colour="#1c7ed6",
            points=[(r.read_at, r.energy_total) for r in history],
            empty_text=str(_("No readings in this period.")),
        )
        balance = Series(
            label=str(_("Remaining balance (yuan)")),
            colour="#2f9e44",
            points=[(r.read_at, r.remaining) for r in history],
            empty_text=str(_("No readings in this period.")),
        )
        return {
            "live": live,
            "status": status,
            "reading": reading,
            "chart_range": range_key,
            "chart_ranges": [(key, CHART_LABELS[key]) for key in CHART_WINDOWS],
            "energy_chart": line_chart(energy, since=since, until=until, testid="chart-energy"),
            "balance_chart": line_chart(balance, since=since, until=until, testid="chart-balance"),
            "reading_count": len(history),
        }
