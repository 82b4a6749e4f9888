"""The meter board (电表看板): every meter of a site as a tile coloured by its live state, by
building and floor, updating itself while it is open.

The grid is its own partial (``console/board_grid.html``). It polls itself every few seconds
with the filter it was drawn with and the fingerprint of what it shows; when nothing changed the
answer is ``204 No Content`` and htmx leaves the page alone.

The grid has to stay cheap for ten thousand meters: three queries (meters, their live states,
their accounts) whatever the count, and the tiles are written here as one string per floor rather
than through template tags per tile (a template node costs microseconds; ten thousand tiles of ten
nodes each would cost more than the whole budget).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from html import escape as _escape
from urllib.parse import urlencode

from django.http import HttpResponse
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from openprepaid.domain.metering import selectors as metering
from openprepaid.domain.operators.roles import Capability
from openprepaid.domain.sites import selectors
from openprepaid.domain.sites.models import Lifecycle
from openprepaid.domain.tenants.selectors import current_tenant_names
from openprepaid.web.console.filters import BoardFilterForm
from openprepaid.web.console.labels import METER_STATES
from openprepaid.web.console.views.base import ConsoleMixin, is_partial

POLL_SECONDS = 3
GRID_ID = "board-grid"

_METER_FIELDS = (
    "pk",
    "address",
    "lifecycle",
    "unit__code",
    "unit__name",
    "unit__floor_id",
    "unit__floor__name",
    "unit__floor__building_id",
    "unit__floor__building__name",
)


@dataclass(frozen=True, slots=True)
class _MeterRef:
    """Just enough of a meter for the selectors that take meters (they read ``pk``)."""

    pk: int


@dataclass
class GridFloor:
    name: str
    count: int = 0
    tiles: list[str] = field(default_factory=list)

    @property
    def tiles_html(self) -> SafeString:
        return mark_safe("".join(self.tiles))  # noqa: S308 - built by _tile(), which escapes


@dataclass
class GridBuilding:
    name: str
    floors: list[GridFloor] = field(default_factory=list)

    @property
    def meter_count(self) -> int:
        return sum(f.count for f in self.floors)


def board_grid(operator, *, site, building=None, floor=None, gateway=None, state=""):
    """The grid of ``site``: a list of :class:`GridBuilding` and the state counts of the meters
    it shows (before the ``state`` filter)."""
    given = {
        "unit__floor__building": building,
        "unit__floor": floor,
        "gateway": gateway,
    }
    rows = list(
        selectors.meters_for(operator)
        .filter(gateway__site=site, **{k: v for k, v in given.items() if v is not None})
        .exclude(lifecycle=Lifecycle.RETIRED)
        .order_by(
            "unit__floor__building__name", "unit__floor__level", "unit__floor__name", "unit__code"
        )
        .values_list(*_METER_FIELDS)
    )
    refs = [_MeterRef(row[0]) for row in rows]
    states = metering.meter_states(refs) if refs else {}
    tenants = current_tenant_names(site)
    detail_url = reverse("console:meter_detail", args=[0])[:-2]  # ".../meters/" + pk + "/"
    texts = _Texts()
    buildings: dict[int, GridBuilding] = {}
    floors: dict[int, GridFloor] = {}
    counts = dict.fromkeys(METER_STATES, 0)
    for pk, address, lifecycle, unit_code, unit_name, floor_id, floor_name, bid, bname in rows:
        live = states.get(pk)
        code = live.state if live is not None else _lifecycle_state(lifecycle)
        counts[code] = counts.get(code, 0) + 1
        if state and code != state:
            continue
        grid_floor = floors.get(floor_id)
        if grid_floor is None:
            grid_building = buildings.get(bid)
            if grid_building is None:
                grid_building = buildings[bid] = GridBuilding(bname)
            grid_floor = floors[floor_id] = GridFloor(floor_name)
            grid_building.floors.append(grid_floor)
        grid_floor.count += 1
        grid_floor.tiles.append(
            _tile(texts, detail_url, pk, address, code, live, unit_code, unit_name, tenants.get(pk))
        )
    return list(buildings.values()), counts


def _lifecycle_state(lifecycle: str) -> str:
    return "opened" if lifecycle == Lifecycle.OPENED else "not_opened"


class _Texts:
    """The translated words of the tiles, looked up once per grid."""

    def __init__(self) -> None:
        self.states = {code: _escape(str(label)) for code, label in METER_STATES.items()}
        relay_open = _escape(gettext("Relay open (tripped)"))
        keep_power = _escape(gettext("Keep power"))
        self.relay_mark = f'<i class="bi bi-power" title="{relay_open}"></i>'
        self.keep_mark = f'<i class="bi bi-shield-lock-fill" title="{keep_power}"></i>'


def _tile(texts, detail_url, pk, address, code, live, unit_code, unit_name, tenant) -> str:
    # stdlib escape: the same five characters as Django's, without its lazy-string wrapper,
    # which alone would cost a tenth of the budget for ten thousand tiles
    address = _escape(address)
    unit_code = _escape(unit_code)
    sub = _escape(tenant or unit_name or "")
    state_label = texts.states.get(code) or _escape(code)
    attrs = ""
    marks = ""
    if live is not None:
        if live.relay_open:
            attrs = ' data-relay="open"'
            marks = texts.relay_mark
        if live.keep_power:
            attrs += ' data-keep-power="on"'
            marks += texts.keep_mark
        if marks:
            marks = f'<span class="op-tile-mark">{marks}</span>'
    title = f"{unit_code} · {address} · {state_label}"
    if sub:
        title += f" · {sub}"
    return (
        f'<a class="op-tile op-state-{code}" href="{detail_url}{pk}/" data-testid="meter-tile" '
        f'data-address="{address}" data-state="{code}"{attrs} title="{title}">'
        f'<span class="op-tile-unit">{unit_code}</span>'
        f'<span class="op-tile-sub">{sub or state_label}</span>'
        f'<span class="op-tile-sub op-mono">{address}</span>{marks}</a>'
    )


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

    def is_poll(self) -> bool:
        htmx = getattr(self.request, "htmx", None)
        return bool(htmx) and htmx.trigger == GRID_ID

    def get_context_data(self, **kwargs):
        user = self.request.user
        sites = list(selectors.sites_for(user))
        site = self.chosen_site(sites)
        board, counts, filter_form, query = [], {}, None, ""
        if site is not None:
            data = self.request.GET.copy()
            data["site"] = str(site.pk)
            filter_form = BoardFilterForm(data, operator=user, site=site)
            values = filter_form.values()
            board, counts = board_grid(user, site=site, **values)
            # the filter the grid polls with and hands to a batch: only what is valid
            query = urlencode(
                [("site", site.pk)]
                + [(k, getattr(v, "pk", v)) for k, v in values.items() if v not in ("", None)]
            )
        kwargs.update(
            sites=sites,
            site=site,
            board=board,
            state_counts=[
                (code, label, counts.get(code, 0)) for code, label in METER_STATES.items()
            ],
            filter_form=filter_form,
            filter_query=query,
            meter_count=sum(b.meter_count for b in board),
            partial=is_partial(self.request),
            poll=self.is_poll(),
            poll_seconds=POLL_SECONDS,
            can_control=self.can(Capability.CONTROL_METERS, site.pk if site else None),
        )
        kwargs["grid_version"] = grid_version(
            board, counts, query, kwargs["can_control"], get_language()
        )
        return super().get_context_data(**kwargs)

    def render_to_response(self, context, **kwargs):
        if self.is_poll() and self.request.GET.get("v") == context["grid_version"]:
            response = HttpResponse(status=204)
        else:
            response = super().render_to_response(context, **kwargs)
        patch_vary_headers(response, ["HX-Request"])
        return response


def grid_version(board, counts, *extra) -> str:
    """A fingerprint of what the grid shows: the tiles (their text is already translated), the
    counts and whatever else the caller names."""
    digest = hashlib.blake2s(digest_size=8)
    for building in board:
        digest.update(building.name.encode())
        for floor in building.floors:
            digest.update(floor.name.encode())
            for tile in floor.tiles:
                digest.update(tile.encode())
    digest.update(repr((sorted(counts.items()), extra)).encode())
    return digest.hexdigest()
