"""Units: shops, offices, stalls and public areas."""

from __future__ import annotations

from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from openprepaid.domain.operators.roles import Capability
from openprepaid.domain.sites import selectors, services
from openprepaid.web.console.filters import UnitFilterForm
from openprepaid.web.console.forms import UnitForm
from openprepaid.web.console.views.base import (
    ConfirmView,
    ConsoleListView,
    ObjectFormView,
    ServiceFormView,
)

LIST = reverse_lazy("console:unit_list")


class UnitListView(ConsoleListView):
    title = _("Units")
    filter_class = UnitFilterForm
    table_template = "console/tables/units.html"
    testid = "unit-table"
    create_url_name = "console:unit_create"
    create_capability = Capability.CONFIGURE
    create_label = _("New unit")
    row_capability = Capability.CONFIGURE

    def select(self, **filters):
        return selectors.unit_list(self.request.user, **filters)


class UnitCreateView(ServiceFormView):
    title = _("New unit")
    capability = Capability.CONFIGURE
    form_class = UnitForm
    success_message = _("The unit was created.")
    back_url = LIST

    def perform(self, form):
        return services.create_unit(acting_user=self.request.user, **form.cleaned_data)

    def get_success_url(self, result=None) -> str:
        return LIST


class UnitEditView(ObjectFormView):
    title = _("Edit unit")
    capability = Capability.CONFIGURE
    form_class = UnitForm
    back_url = LIST

    def get_queryset(self):
        return selectors.units_for(self.request.user)

    def perform(self, form):
        return services.update_unit(
            self.get_object(), acting_user=self.request.user, **form.changed_values()
        )

    def get_success_url(self, result=None) -> str:
        return LIST


class UnitRetireView(ConfirmView):
    title = _("Retire unit")
    capability = Capability.CONFIGURE
    question = _("Retire this unit?")
    explanation = _("A retired unit stays in the records but can no longer be changed.")
    confirm_label = _("Retire")
    success_message = _("The unit was retired.")

    def get_queryset(self):
        return selectors.units_for(self.request.user)

    def perform(self, obj) -> None:
        services.retire_unit(obj, acting_user=self.request.user)

    def get_success_url(self) -> str:
        return str(LIST)
