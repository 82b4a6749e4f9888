"""Tariffs: the list per site, a new tariff with its first version, a tariff's page (versions
history, where it applies), a new version (a price change from a date) and assignments.

Everyone who sees the site may read; creating, changing and assigning needs CONFIGURE.
"""

from __future__ import annotations

from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from openprepaid.calc.tariffs.calendar import PERIODS
from openprepaid.domain.billing import selectors_config as selectors
from openprepaid.domain.billing.services import tariffs as services
from openprepaid.domain.operators.roles import Capability
from openprepaid.web.console.forms_billing import AssignTariffForm, TariffFilterForm
from openprepaid.web.console.forms_tariffs import TIER_KINDS, TOU_KINDS, TariffForm
from openprepaid.web.console.tariff_display import describe, legend
from openprepaid.web.console.views.base import (
    ConsoleListView,
    ConsoleMixin,
    ObjectMixin,
    ServiceFormView,
)

LIST = reverse_lazy("console:tariff_list")
HOURS = (0, 6, 12, 18, 24)  # marks under the day bars


def detail_url(tariff) -> str:
    return reverse("console:tariff_detail", args=[tariff.pk])


class _TariffObject(ObjectMixin):
    def get_queryset(self):
        return selectors.tariffs_for(self.request.user)


class TariffListView(ConsoleListView):
    title = _("Tariffs")
    filter_class = TariffFilterForm
    table_template = "console/billing/tables/tariffs.html"
    testid = "tariff-table"
    create_url_name = "console:tariff_create"
    create_capability = Capability.CONFIGURE
    create_label = _("New tariff")

    def select(self, **filters):
        return selectors.tariff_list(self.request.user, **filters)


class _TariffFormView(ServiceFormView):
    template_name = "console/billing/tariff_form.html"
    form_testid = "tariff-form"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context["form"]
        kind, fixed = form.kind(), form.tariff is not None
        context.update(
            main_fields=("site", "code", "name", "kind", "effective_from", "note"),
            price_fields=(
                "price",
                *(f"price_{period}" for period in PERIODS),
                "cycle",
                "monthly_service_charge",
            ),
            calendar_fields=("holidays", "weekends_are_holidays"),
            show_tou=not fixed or kind in TOU_KINDS,
            show_tiers=not fixed or kind in TIER_KINDS,
            tou_kinds=",".join(TOU_KINDS),
            tier_kinds=",".join(TIER_KINDS),
            legend=legend(),
        )
        return context


class TariffCreateView(_TariffFormView):
    title = _("New tariff")
    capability = Capability.CONFIGURE
    form_class = TariffForm
    success_message = _("The tariff was created.")
    back_url = LIST

    def get_initial(self) -> dict:
        site = self.request.GET.get("site")
        return {"site": site} if site and site.isdigit() else {}

    def perform(self, form):
        data = form.cleaned_data
        return services.create_tariff(
            acting_user=self.request.user,
            site=data["site"],
            code=data["code"],
            name=data["name"],
            kind=data["kind"],
            definition=form.definition(),
            effective_from=data["effective_from"],
            note=data.get("note") or "",
        )

    def get_success_url(self, result=None) -> str:
        return detail_url(result)


class TariffVersionCreateView(_TariffObject, _TariffFormView):
    """A price change: the editor starts from the latest version."""

    capability = Capability.CONFIGURE
    form_class = TariffForm
    submit_label = _("Add version")
    success_message = _("The new version was added; the earlier ones are kept.")

    def get_title(self):
        return _("New version of %(tariff)s") % {"tariff": self.get_object()}

    def get_form_kwargs(self) -> dict:
        kwargs = super().get_form_kwargs()
        tariff = self.get_object()
        latest = selectors.latest_version(tariff)
        kwargs.update(tariff=tariff, definition=latest.definition if latest else None)
        return kwargs

    def perform(self, form):
        return services.add_tariff_version(
            acting_user=self.request.user,
            tariff=self.get_object(),
            definition=form.definition(),
            effective_from=form.cleaned_data["effective_from"],
        )

    def get_success_url(self, result=None) -> str:
        return detail_url(self.get_object())

    get_back_url = get_success_url


class _TariffPage(_TariffObject):
    template_name = "console/billing/tariff_detail.html"

    def get_title(self):
        return str(self.get_object())

    def page_context(self, assign_form=None) -> dict:
        tariff = self.get_object()
        can_configure = self.can(Capability.CONFIGURE, tariff.site_id)
        versions = selectors.tariff_versions(tariff)
        for version in versions:
            version.view = describe(tariff.kind, version.definition)
        return {
            "versions": versions,
            "assignments": selectors.tariff_assignments(tariff),
            "can_configure": can_configure,
            "assign_form": (
                assign_form or AssignTariffForm(operator=self.request.user, tariff=tariff)
                if can_configure
                else None
            ),
            "legend": legend(),
            "hours": HOURS,
        }


class TariffDetailView(_TariffPage, ConsoleMixin, TemplateView):
    def get_context_data(self, **kwargs):
        kwargs.update(self.page_context())
        return super().get_context_data(**kwargs)


class TariffAssignView(_TariffPage, ServiceFormView):
    """POST only: on errors the tariff page is shown again with the form's errors."""

    http_method_names = ["post", "options"]
    capability = Capability.CONFIGURE
    form_class = AssignTariffForm
    success_message = _("The tariff was assigned.")

    def get_form_kwargs(self) -> dict:
        kwargs = super().get_form_kwargs()
        kwargs["tariff"] = self.get_object()
        return kwargs

    def perform(self, form):
        return services.assign_tariff(
            acting_user=self.request.user, tariff=self.get_object(), **form.target()
        )

    def get_success_url(self, result=None) -> str:
        return detail_url(self.get_object())

    def get_context_data(self, **kwargs):
        kwargs.update(self.page_context(assign_form=kwargs.get("form")))
        return super().get_context_data(**kwargs)
