"""Billing configuration: meter groups, a site's billing settings and receipt layout,
holidays, a meter's own thresholds, and the billing alarms. Tariffs are in
:mod:`openprepaid.web.console.views.billing_tariffs`.

Everyone who sees a site may read these pages; changing them needs CONFIGURE in the site
(operations, administrators), checked again by the services.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext_lazy as _

from openprepaid.domain.billing import selectors_config as selectors
from openprepaid.domain.billing.models import MeterThresholds
from openprepaid.domain.billing.services import settings as settings_services
from openprepaid.domain.billing.services import tariffs as tariff_services
from openprepaid.domain.operators.roles import Capability
from openprepaid.domain.sites import selectors as site_selectors
from openprepaid.domain.sites.models import Lifecycle
from openprepaid.web.console.forms_billing import (
    AlarmFilterForm,
    BillingSettingsForm,
    GroupCreateForm,
    GroupFilterForm,
    GroupMemberSearchForm,
    GroupMembersForm,
    HolidayFilterForm,
    HolidayForm,
    MeterThresholdsForm,
)
from openprepaid.web.console.forms_receipt import ReceiptLayoutForm
from openprepaid.web.console.views.base import (
    ConfirmView,
    ConsoleListView,
    ConsoleMixin,
    ObjectFormView,
    ObjectMixin,
    ServiceFormView,
)

GROUPS = reverse_lazy("console:metergroup_list")
HOLIDAYS = reverse_lazy("console:holiday_list")

# -------------------------------------------------------------------------- meter groups


class GroupListView(ConsoleListView):
    title = _("Meter groups")
    filter_class = GroupFilterForm
    table_template = "console/billing/tables/groups.html"
    testid = "group-table"
    create_url_name = "console:metergroup_create"
    create_capability = Capability.CONFIGURE
    create_label = _("New meter group")
    row_capability = Capability.CONFIGURE

    def select(self, **filters):
        return selectors.group_list(self.request.user, **filters)


class GroupCreateView(ServiceFormView):
    title = _("New meter group")
    capability = Capability.CONFIGURE
    form_class = GroupCreateForm
    success_message = _("The meter group was created. Now choose its meters.")
    back_url = GROUPS

    def perform(self, form):
        return tariff_services.create_meter_group(
            acting_user=self.request.user, **form.cleaned_data
        )

    def get_success_url(self, result=None) -> str:
        return reverse("console:metergroup_edit", args=[result.pk])


class GroupMembersView(ObjectMixin, ServiceFormView):
    """The group's name and meters; the meters offered follow the search above the list."""

    template_name = "console/billing/group_members.html"
    capability = None  # reading is open to everyone who sees the site
    form_class = GroupMembersForm
    form_testid = "group-form"
    success_message = _("The meter group was saved.")
    back_url = GROUPS

    def get_queryset(self):
        return selectors.groups_for(self.request.user)

    def get_title(self):
        return _("Meter group %(name)s") % {"name": self.get_object().name}

    def can_change(self) -> bool:
        return self.can(Capability.CONFIGURE, self.get_object().site_id)

    def search_form(self) -> GroupMemberSearchForm:
        if not hasattr(self, "_search"):
            self._search = GroupMemberSearchForm(
                self.request.GET, operator=self.request.user, site=self.get_object().site
            )
        return self._search

    def get_form_kwargs(self) -> dict:
        kwargs = super().get_form_kwargs()
        values = self.search_form().values()
        kwargs["group"] = self.get_object()
        kwargs["choices"] = selectors.group_meter_choices(self.get_object().site, **values)
        return kwargs

    def post(self, request, *args, **kwargs):
        if not self.can_change():
            raise PermissionDenied
        return super().post(request, *args, **kwargs)

    def perform(self, form):
        return tariff_services.set_group_meters(
            acting_user=self.request.user, group=self.get_object(), meters=form.members()
        )

    def get_success_url(self, result=None) -> str:
        return self.request.get_full_path()

    def get_context_data(self, **kwargs):
        group = self.get_object()
        kwargs.update(
            search_form=self.search_form(),
            can_change=self.can_change(),
            members=selectors.group_members(group),
            assignments=group.assignments.select_related("tariff").order_by("-effective_from"),
        )
        return super().get_context_data(**kwargs)


# ------------------------------------------------------------------------ site settings


class _SitePage(ConsoleMixin):
    """A page about one site: ``?site=`` or the URL's ``site``, else the operator's first."""

    def sites(self):
        return site_selectors.sites_for(self.request.user).order_by("code")

    def get_site(self):
        if hasattr(self, "_site"):
            return self._site
        sites = self.sites()
        raw = self.kwargs.get("site") or self.request.GET.get("site")
        if raw:
            self._site = get_object_or_404(sites, pk=raw)
        else:
            self._site = sites.first()
            if self._site is None:
                raise Http404
        return self._site

    def get_context_data(self, **kwargs):
        kwargs.update(site=self.get_site(), sites=self.sites())
        return super().get_context_data(**kwargs)


class BillingSettingsView(_SitePage, ServiceFormView):
    template_name = "console/billing/settings.html"
    title = _("Billing settings")
    form_class = BillingSettingsForm
    form_testid = "settings-form"
    success_message = _("The billing settings were saved.")

    def can_change(self) -> bool:
        return self.can(Capability.CONFIGURE, self.get_site().pk)

    def get_form_kwargs(self) -> dict:
        kwargs = super().get_form_kwargs()
        kwargs["instance"] = selectors.billing_settings(self.get_site())
        return kwargs

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        if not self.can_change():
            for field in form.fields.values():
                field.disabled = True
        return form

    def post(self, request, *args, **kwargs):
        if not self.can_change():
            raise PermissionDenied
        return super().post(request, *args, **kwargs)

    def perform(self, form):
        return settings_services.update_billing_settings(
            acting_user=self.request.user, site=self.get_site(), **form.cleaned_data
        )

    def get_success_url(self, result=None) -> str:
        return reverse("console:billingsettings_site", args=[self.get_site().pk])

    def get_context_data(self, **kwargs):
        site = self.get_site()
        kwargs.setdefault(
            "layout_form",
            ReceiptLayoutForm(
                operator=self.request.user,
                layout=selectors.billing_settings(site).receipt_layout,
                disabled=not self.can_change(),
            ),
        )
        kwargs.update(can_change=self.can_change())
        return super().get_context_data(**kwargs)


class ReceiptLayoutView(BillingSettingsView):
    """POST only: the receipt layout card of the settings page."""

    http_method_names = ["post", "options"]
    success_message = _("The receipt layout was saved.")

    def get_form(self, form_class=None):
        return ReceiptLayoutForm(
            self.request.POST,
            operator=self.request.user,
            layout=selectors.billing_settings(self.get_site()).receipt_layout,
        )

    def perform(self, form):
        return settings_services.update_billing_settings(
            acting_user=self.request.user, site=self.get_site(), receipt_layout=form.layout()
        )

    def form_invalid(self, form):
        settings_form = BillingSettingsForm(
            operator=self.request.user, instance=selectors.billing_settings(self.get_site())
        )
        return self.render_to_response(self.get_context_data(form=settings_form, layout_form=form))


# ------------------------------------------------------------------------------ holidays


class HolidayListView(ConsoleListView):
    title = _("Holidays")
    filter_class = HolidayFilterForm
    table_template = "console/billing/tables/holidays.html"
    testid = "holiday-table"
    create_url_name = "console:holiday_create"
    create_capability = Capability.CONFIGURE
    create_label = _("Add a holiday")
    row_capability = Capability.CONFIGURE
    paginate_by = 100

    def select(self, **filters):
        return selectors.holiday_list(self.request.user, **filters)


class HolidayCreateView(ServiceFormView):
    title = _("Add a holiday")
    capability = Capability.CONFIGURE
    form_class = HolidayForm
    success_message = _("The holiday was added.")
    back_url = HOLIDAYS

    def perform(self, form):
        return settings_services.add_holiday(acting_user=self.request.user, **form.cleaned_data)

    def get_success_url(self, result=None) -> str:
        return f"{HOLIDAYS}?site={result.site_id}&year={result.day.year}"


class HolidayRemoveView(ConfirmView):
    title = _("Remove holiday")
    capability = Capability.CONFIGURE
    question = _("Remove this holiday?")
    explanation = _("On this day arrears will cut the power again, as on any other day.")
    confirm_label = _("Remove")
    success_message = _("The holiday was removed.")

    def get_queryset(self):
        return selectors.holidays_for(self.request.user)

    def perform(self, obj) -> None:
        settings_services.remove_holiday(acting_user=self.request.user, holiday=obj)

    def get_success_url(self) -> str:
        return f"{HOLIDAYS}?site={self.get_object().site_id}"


# -------------------------------------------------------------------- meter thresholds


class MeterThresholdsView(ObjectFormView):
    title = _("Thresholds of this meter")
    capability = Capability.CONFIGURE
    form_class = MeterThresholdsForm
    form_testid = "thresholds-form"
    success_message = _("The meter's thresholds were saved.")
    site_attr = "gateway.site_id"

    def get_queryset(self):
        return site_selectors.meters_for(self.request.user).exclude(lifecycle=Lifecycle.RETIRED)

    def get_form_kwargs(self) -> dict:
        kwargs = super().get_form_kwargs()
        meter = self.get_object()
        kwargs["instance"] = selectors.meter_thresholds(meter) or MeterThresholds(meter=meter)
        kwargs["defaults"] = selectors.billing_settings(meter.gateway.site)
        return kwargs

    def perform(self, form):
        return settings_services.set_meter_thresholds(
            acting_user=self.request.user, meter=self.get_object(), **form.cleaned_data
        )

    def get_success_url(self, result=None) -> str:
        return reverse("console:meter_detail", args=[self.get_object().pk])

    get_back_url = get_success_url


# ------------------------------------------------------------------------------- alarms


class AlarmListView(ConsoleListView):
    title = _("Billing alarms")
    filter_class = AlarmFilterForm
    table_template = "console/billing/tables/alarms.html"
    testid = "alarm-table"

    def select(self, **filters):
        return selectors.alarm_list(self.request.user, **filters)
