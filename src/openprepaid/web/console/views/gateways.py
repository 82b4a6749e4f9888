"""Gateways (通讯管理机) and the server's own serial ports."""

from __future__ import annotations

from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from openprepaid.domain.operators.roles import Capability
from openprepaid.domain.sites import selectors, services
from openprepaid.web.console.filters import GatewayFilterForm
from openprepaid.web.console.forms import GatewayCreateForm, GatewayForm
from openprepaid.web.console.views.base import (
    ConfirmView,
    ConsoleListView,
    ObjectFormView,
    ServiceFormView,
)

LIST = reverse_lazy("console:gateway_list")


class GatewayListView(ConsoleListView):
    title = _("Gateways")
    filter_class = GatewayFilterForm
    table_template = "console/tables/gateways.html"
    testid = "gateway-table"
    create_url_name = "console:gateway_create"
    create_capability = Capability.CONFIGURE
    create_label = _("New gateway")
    row_capability = Capability.CONFIGURE

    def select(self, **filters):
        return selectors.gateway_list(self.request.user, **filters)


class GatewayCreateView(ServiceFormView):
    title = _("New gateway")
    capability = Capability.CONFIGURE
    form_class = GatewayCreateForm
    success_message = _("The gateway was created.")
    back_url = LIST

    def perform(self, form):
        return services.create_gateway(acting_user=self.request.user, **form.cleaned_data)

    def get_success_url(self, result=None) -> str:
        return LIST


class GatewayEditView(ObjectFormView):
    title = _("Edit gateway")
    capability = Capability.CONFIGURE
    form_class = GatewayForm
    back_url = LIST

    def get_queryset(self):
        return selectors.gateways_for(self.request.user)

    def perform(self, form):
        return services.update_gateway(
            self.get_object(), acting_user=self.request.user, **form.changed_values()
        )

    def get_success_url(self, result=None) -> str:
        return LIST


class GatewayRetireView(ConfirmView):
    title = _("Retire gateway")
    capability = Capability.CONFIGURE
    question = _("Retire this gateway?")
    explanation = _("Its meters must be moved or retired first. This cannot be undone.")
    confirm_label = _("Retire")
    success_message = _("The gateway was retired.")

    def get_queryset(self):
        return selectors.gateways_for(self.request.user)

    def perform(self, obj) -> None:
        services.retire_gateway(obj, acting_user=self.request.user)

    def get_success_url(self) -> str:
        return str(LIST)
