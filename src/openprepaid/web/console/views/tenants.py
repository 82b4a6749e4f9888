"""Tenants (商户) and their accounts."""

from __future__ import annotations

from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from openprepaid.domain.operators.roles import Capability
from openprepaid.domain.tenants import selectors, services
from openprepaid.domain.tenants.models import TenantStatus
from openprepaid.web.console.filters import TenantFilterForm
from openprepaid.web.console.forms import AccountForm, TenantCreateForm, TenantForm
from openprepaid.web.console.views.base import (
    ConfirmView,
    ConsoleListView,
    ConsoleMixin,
    ObjectFormView,
    ObjectMixin,
    ServiceFormView,
)

LIST = reverse_lazy("console:tenant_list")


def detail_url(tenant) -> str:
    return reverse("console:tenant_detail", args=[tenant.pk])


class _TenantObject(ObjectMixin):
    def get_queryset(self):
        return selectors.tenants_for(self.request.user)


class TenantListView(ConsoleListView):
    title = _("Tenants")
    filter_class = TenantFilterForm
    table_template = "console/tables/tenants.html"
    testid = "tenant-table"
    create_url_name = "console:tenant_create"
    create_capability = Capability.MANAGE_TENANTS
    create_label = _("New tenant")
    row_capability = Capability.MANAGE_TENANTS

    def select(self, **filters):
        return selectors.tenant_list(self.request.user, **filters)


class TenantCreateView(ServiceFormView):
    title = _("New tenant")
    capability = Capability.MANAGE_TENANTS
    form_class = TenantCreateForm
    success_message = _("The tenant was created.")
    back_url = LIST

    def perform(self, form):
        return services.create_tenant(acting_user=self.request.user, **form.cleaned_data)

    def get_success_url(self, result=None) -> str:
        return detail_url(result)


class TenantEditView(_TenantObject, ObjectFormView):
    title = _("Edit tenant")
    capability = Capability.MANAGE_TENANTS
    form_class = TenantForm

    def perform(self, form):
        return services.update_tenant(
            self.get_object(), acting_user=self.request.user, **form.changed_values()
        )

    def get_success_url(self, result=None) -> str:
        return detail_url(self.get_object())

    get_back_url = get_success_url


class TenantArchiveView(_TenantObject, ConfirmView):
    title = _("Archive tenant")
    capability = Capability.MANAGE_TENANTS
    question = _("Archive this tenant?")
    explanation = _("Close the tenant's accounts first. An archived tenant cannot be changed.")
    confirm_label = _("Archive")
    success_message = _("The tenant was archived.")

    def perform(self, obj) -> None:
        services.archive_tenant(obj, acting_user=self.request.user)

    def get_success_url(self) -> str:
        return detail_url(self.get_object())


class TenantDetailView(_TenantObject, ConsoleMixin, TemplateView):
    template_name = "console/tenant_detail.html"

    def get_title(self):
        return str(self.get_object())

    def get_context_data(self, **kwargs):
        tenant = self.get_object()
        can_manage = (
            self.can(Capability.MANAGE_TENANTS, tenant.site_id)
            and tenant.status == TenantStatus.ACTIVE
        )
        kwargs.update(accounts=selectors.tenant_accounts(tenant), can_manage=can_manage)
        return super().get_context_data(**kwargs)


class AccountRegisterView(_TenantObject, ServiceFormView):
    title = _("Register an account")
    capability = Capability.MANAGE_TENANTS
    form_class = AccountForm
    submit_label = _("Register")
    success_message = _("The account was registered.")
    form_testid = "account-form"

    def get_form_kwargs(self) -> dict:
        kwargs = super().get_form_kwargs()
        kwargs["meters"] = selectors.attachable_meters(self.get_object())
        return kwargs

    def perform(self, form):
        return services.register_account(
            acting_user=self.request.user,
            tenant=self.get_object(),
            number=form.cleaned_data["number"] or "",
            meters=form.cleaned_data["meters"],
        )

    def get_success_url(self, result=None) -> str:
        return detail_url(self.get_object())

    get_back_url = get_success_url
