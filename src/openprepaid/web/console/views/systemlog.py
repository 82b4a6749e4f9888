"""The system log: read-only. These views answer GET only; there is no page that changes or
deletes a row (and the database refuses it anyway)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from openprepaid.domain.audit import selectors
from openprepaid.domain.operators.roles import Capability
from openprepaid.web.console.filters import SystemLogFilterForm
from openprepaid.web.console.labels import field_label
from openprepaid.web.console.views.base import ConsoleListView, ConsoleMixin, ObjectMixin

READ_ONLY = ["get", "head", "options"]


class SystemLogListView(ConsoleListView):
    http_method_names = READ_ONLY
    title = _("System log")
    capability = Capability.VIEW_SYSTEM_LOG
    filter_class = SystemLogFilterForm
    table_template = "console/tables/systemlog.html"
    testid = "systemlog-table"

    def select(self, **filters):
        return selectors.system_log_list(self.request.user, **filters)


class SystemLogDetailView(ObjectMixin, ConsoleMixin, TemplateView):
    http_method_names = READ_ONLY
    template_name = "console/systemlog_detail.html"
    title = _("System log entry")
    capability = Capability.VIEW_SYSTEM_LOG
    site_attr = "site_id"

    def get_queryset(self):
        return selectors.system_log_for(self.request.user).select_related("actor")

    def get_context_data(self, **kwargs):
        entry = self.get_object()
        kwargs["changes"] = [
            (field_label(entry.object_type, name), name, before, after)
            for name, before, after in entry.changed_fields()
        ]
        return super().get_context_data(**kwargs)
