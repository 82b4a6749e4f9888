"""The overview: what each site the operator may see is made of."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from openprepaid.domain.operators.roles import Capability
from openprepaid.domain.sites.models import Lifecycle, Transport
from openprepaid.domain.sites.selectors import site_overview
from openprepaid.domain.tenants.models import AccountStatus
from openprepaid.web.console.filters import PROTOCOL_CHOICES
from openprepaid.web.console.views.base import ConsoleMixin


class OverviewView(ConsoleMixin, TemplateView):
    template_name = "console/overview.html"
    title = _("Overview")

    def get_context_data(self, **kwargs):
        kwargs.update(
            overview=site_overview(self.request.user),
            transports=Transport.choices,
            protocols=PROTOCOL_CHOICES,
            lifecycles=Lifecycle.choices,
            account_statuses=AccountStatus.choices,
            can_create_site=self.can(Capability.MANAGE_SITES),
        )
        return super().get_context_data(**kwargs)
