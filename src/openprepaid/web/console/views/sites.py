"""Sites, and the buildings and floors of a site."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from openprepaid.domain.operators.roles import Capability
from openprepaid.domain.sites import selectors, services
from openprepaid.web.console.filters import SiteFilterForm
from openprepaid.web.console.forms import BuildingForm, FloorForm, SiteForm
from openprepaid.web.console.views.base import (
    ConsoleListView,
    ConsoleMixin,
    ObjectFormView,
    ObjectMixin,
    ServiceFormView,
)


class SiteListView(ConsoleListView):
    title = _("Sites")
    filter_class = SiteFilterForm
    table_template = "console/tables/sites.html"
    testid = "site-table"
    create_url_name = "console:site_create"
    create_capability = Capability.MANAGE_SITES
    create_label = _("New site")
    row_capability = Capability.MANAGE_SITES

    def select(self, **filters):
        return selectors.site_list(self.request.user, **filters)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # Every row is a site the operator sees; editing one needs the capability in that site,
        # which an administrator limited to some sites has (creating a site it has not).
        context["can_change"] = self.request.user.has_capability(Capability.MANAGE_SITES)
        return context


class SiteCreateView(ServiceFormView):
    title = _("New site")
    capability = Capability.MANAGE_SITES
    form_class = SiteForm
    success_message = _("The site was created.")

    def perform(self, form):
        return services.create_site(acting_user=self.request.user, **form.cleaned_data)

    def get_success_url(self, result=None) -> str:
        return reverse("console:site_detail", args=[result.pk])

    def get_back_url(self) -> str:
        return reverse("console:site_list")


class SiteEditView(ObjectFormView):
    title = _("Edit site")
    capability = Capability.MANAGE_SITES
    form_class = SiteForm
    site_attr = "pk"

    def get_queryset(self):
        return selectors.sites_for(self.request.user)

    def perform(self, form):
        return services.update_site(
            self.get_object(), acting_user=self.request.user, **form.changed_values()
        )

    def get_success_url(self, result=None) -> str:
        return reverse("console:site_detail", args=[self.get_object().pk])

    get_back_url = get_success_url


class _SiteStructure(ObjectMixin):
    """The site detail page: its buildings, floors and unit counts, with the forms that add
    buildings and floors."""

    template_name = "console/site_detail.html"
    site_attr = "pk"

    def get_queryset(self):
        return selectors.sites_for(self.request.user)

    def get_title(self):
        return self.get_object().name

    def structure_context(self, building_form=None, floor_form=None) -> dict:
        site = self.get_object()
        can_configure = self.can(Capability.CONFIGURE, site.pk)
        return {
            "buildings": selectors.site_structure(site),
            "can_configure": can_configure,
            "can_edit": self.can(Capability.MANAGE_SITES, site.pk),
            "building_form": building_form or BuildingForm(operator=self.request.user),
            "floor_form": floor_form or FloorForm(operator=self.request.user, site=site),
        }


class SiteDetailView(_SiteStructure, ConsoleMixin, TemplateView):
    def get_context_data(self, **kwargs):
        kwargs.update(self.structure_context())
        return super().get_context_data(**kwargs)


class _AddToSite(_SiteStructure, ServiceFormView):
    """POST only: on errors the site page is shown again with this form's errors."""

    http_method_names = ["post", "options"]
    capability = Capability.CONFIGURE
    form_key = ""

    def get_success_url(self, result=None) -> str:
        return reverse("console:site_detail", args=[self.get_object().pk])

    def get_context_data(self, **kwargs):
        kwargs.update(self.structure_context(**{self.form_key: kwargs.get("form")}))
        return super().get_context_data(**kwargs)


class BuildingCreateView(_AddToSite):
    form_class = BuildingForm
    form_key = "building_form"
    success_message = _("The building was added.")

    def perform(self, form):
        return services.create_building(
            acting_user=self.request.user, site=self.get_object(), **form.cleaned_data
        )


class FloorCreateView(_AddToSite):
    form_class = FloorForm
    form_key = "floor_form"
    success_message = _("The floor was added.")

    def get_form_kwargs(self) -> dict:
        kwargs = super().get_form_kwargs()
        kwargs["site"] = self.get_object()
        return kwargs

    def perform(self, form):
        return services.create_floor(acting_user=self.request.user, **form.cleaned_data)
