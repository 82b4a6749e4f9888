"""Operators: who may log in, with which role, in which sites."""

from __future__ import annotations

from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from openprepaid.domain.operators import selectors, services
from openprepaid.domain.operators.roles import Capability
from openprepaid.web.console.filters import OperatorFilterForm
from openprepaid.web.console.forms import OperatorCreateForm, OperatorEditForm, PasswordForm
from openprepaid.web.console.views.base import (
    ConfirmView,
    ConsoleListView,
    ObjectFormView,
    ObjectMixin,
    ServiceFormView,
)

LIST = reverse_lazy("console:operator_list")


class _OperatorObject(ObjectMixin):
    site_attr = None

    def get_queryset(self):
        return selectors.operators_for(self.request.user)


class OperatorListView(ConsoleListView):
    title = _("Operators")
    capability = Capability.MANAGE_OPERATORS
    filter_class = OperatorFilterForm
    table_template = "console/tables/operators.html"
    testid = "operator-table"
    create_url_name = "console:operator_create"
    create_label = _("New operator")
    row_capability = Capability.MANAGE_OPERATORS

    def select(self, **filters):
        return selectors.operator_list(self.request.user, **filters)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        names = [o.username for o in context["object_list"]]
        context["locked"] = selectors.locked_usernames(names)
        return context


class OperatorCreateView(ServiceFormView):
    title = _("New operator")
    capability = Capability.MANAGE_OPERATORS
    form_class = OperatorCreateForm
    success_message = _("The operator was created.")
    back_url = LIST

    def perform(self, form):
        data = dict(form.cleaned_data)
        data.pop("password_confirm")
        return services.create_operator(acting_user=self.request.user, **data)

    def get_success_url(self, result=None) -> str:
        return LIST


class OperatorEditView(_OperatorObject, ObjectFormView):
    title = _("Edit operator")
    capability = Capability.MANAGE_OPERATORS
    form_class = OperatorEditForm
    back_url = LIST

    def perform(self, form):
        changes = form.changed_values()
        sites = changes.pop("sites", None)
        return services.update_operator(
            self.get_object(), acting_user=self.request.user, sites=sites, **changes
        )

    def get_success_url(self, result=None) -> str:
        return LIST


class OperatorPasswordView(_OperatorObject, ObjectFormView):
    title = _("Set password")
    capability = Capability.MANAGE_OPERATORS
    form_class = PasswordForm
    success_message = _("The password was set.")
    back_url = LIST

    def get_form_kwargs(self) -> dict:
        kwargs = super().get_form_kwargs()
        kwargs.pop("instance")
        return kwargs

    def perform(self, form):
        return services.set_password(
            self.get_object(), acting_user=self.request.user, password=form.cleaned_data["password"]
        )

    def get_success_url(self, result=None) -> str:
        return LIST


class OperatorUnlockView(_OperatorObject, ConfirmView):
    title = _("Unlock operator")
    capability = Capability.MANAGE_OPERATORS
    question = _("Lift the lockout of this operator?")
    explanation = _("The failed logins are forgotten and the operator may log in again at once.")
    confirm_label = _("Unlock")
    success_message = _("The operator can log in again.")
    danger = False

    def perform(self, obj) -> None:
        services.unlock_operator(obj, acting_user=self.request.user)

    def get_success_url(self) -> str:
        return str(LIST)
