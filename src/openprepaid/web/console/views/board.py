"""The meter board (电表看板): every meter of a site as a coloured tile, by building and floor.

The tile grid is its own partial (``console/board_grid.html``): an htmx request gets only the
grid, so filtering swaps it now and live updates can poll it later.
"""

from __future__ import annotations

from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from openprepaid.domain.sites import selectors
from openprepaid.domain.tenants.selectors import current_accounts
from openprepaid.web.console.filters import BoardFilterForm
from openprepaid.web.console.views.base import ConsoleMixin, is_partial


class BoardView(ConsoleMixin, TemplateView):
    template_name = "console/board.html"
    grid_template = "console/board_grid.html"
    title = _("Meter board")

    def get_template_names(self) -> list[str]:
        return [self.grid_template] if is_partial(self.request) else [self.template_name]

    def chosen_site(self, sites):
        raw = self.request.GET.get("site", "")
        chosen = next((s for s in sites if str(s.pk) == raw), None)
        return chosen or (sites[0] if sites else None)

    def get_context_data(self, **kwargs):
        user = self.request.user
        sites = list(selectors.sites_for(user))
        site = self.chosen_site(sites)
        board, accounts, filter_form = [], {}, None
        if site is not None:
            data = self.request.GET.copy()
            data["site"] = str(site.pk)
            filter_form = BoardFilterForm(data, operator=user, site=site)
            board = selectors.meter_board(user, site=site, **filter_form.values())
            accounts = current_accounts(m for b in board for f in b.floors for m in f.meters)
        kwargs.update(
            sites=sites,
            site=site,
            board=board,
            accounts=accounts,
            filter_form=filter_form,
            meter_count=sum(b.meter_count for b in board),
            partial=is_partial(self.request),
        )
        return super().get_context_data(**kwargs)

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        patch_vary_headers(response, ["HX-Request"])
        return response
