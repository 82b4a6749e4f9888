"""What one import knows about the database: the operator's sites and, per site, its buildings,
floors, gateways, units, meters, tenants and accounts — each loaded once, in a few queries.

Rows add what they create and change what they update. Every row runs in a savepoint; when a
row fails, its savepoint is rolled back and so are its changes to these caches (the journal), so
the rows after it see exactly what the database holds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from django.db import models

from openprepaid.domain.operators.permissions import limit_to_sites
from openprepaid.domain.sites.models import (
    Building,
    Floor,
    Gateway,
    Lifecycle,
    Meter,
    Site,
    Status,
    Unit,
)
from openprepaid.domain.tenants.models import Account, AccountMeter, AccountStatus, Tenant

_MISSING = object()


@dataclass
class SiteData:
    site: Site
    buildings: dict[str, Building] = field(default_factory=dict)  # by name
    floors: dict[tuple[int, str], Floor] = field(default_factory=dict)  # (building id, name)
    gateways: dict[str, Gateway] = field(default_factory=dict)  # active, by name
    units: dict[str, Unit] = field(default_factory=dict)  # by code, any status
    meters: dict[tuple[int, str], Meter] = field(default_factory=dict)  # (gateway id, address)
    unit_meters: dict[int, tuple[Meter, ...]] = field(default_factory=dict)  # by unit id
    tenants: dict[str, Tenant] = field(default_factory=dict)  # by code
    accounts: dict[int, tuple[Account, ...]] = field(default_factory=dict)  # by tenant id
    held: dict[int, frozenset[int]] = field(default_factory=dict)  # meter ids by account id

    def meter_by_id(self, meter_id: int) -> Meter | None:
        return next((m for m in self.meters.values() if m.pk == meter_id), None)


class ImportContext:
    def __init__(self, acting_user) -> None:
        self.acting_user = acting_user
        sites = list(limit_to_sites(Site.objects.all(), acting_user, "id"))
        self._sites = {s.code: s for s in sites}
        folded: dict[str, list[Site]] = defaultdict(list)
        for s in sites:
            folded[s.code.casefold()].append(s)
        self._sites_folded = {k: v[0] for k, v in folded.items() if len(v) == 1}
        self._data: dict[int, SiteData] = {}
        self._journal: list[Callable[[], None]] = []
        self._touched: list[models.Model] = []
        # Natural keys met so far in this upload → the row that had it first.
        self.seen: dict[tuple, int] = {}

    def site(self, code: str) -> Site | None:
        """A site the operator may see, by code (any letter case when that is unambiguous)."""
        return self._sites.get(code) or self._sites_folded.get(code.casefold())

    def sites_touched(self) -> list[Site]:
        """The sites rows of this import referred to."""
        return [d.site for d in self._data.values()]

    def data(self, site: Site) -> SiteData:
        if site.pk not in self._data:
            self._data[site.pk] = _load(site)
        return self._data[site.pk]

    # ------------------------------------------------------------------------ the journal

    def put(self, mapping: MutableMapping, key: Any, value: Any) -> None:
        """``mapping[key] = value``, undone if the row fails."""
        old = mapping.get(key, _MISSING)
        mapping[key] = value

        def undo() -> None:
            if old is _MISSING:
                mapping.pop(key, None)
            else:
                mapping[key] = old

        self._journal.append(undo)

    def touch(self, instance: models.Model) -> None:
        """A cached instance a service is about to change; reloaded if the row fails."""
        self._touched.append(instance)

    def row_succeeded(self) -> None:
        self._journal.clear()
        self._touched.clear()

    def row_failed(self) -> None:
        """Call after the row's savepoint was rolled back."""
        for undo in reversed(self._journal):
            undo()
        for instance in self._touched:
            instance.refresh_from_db()
        self.row_succeeded()


def _load(site: Site) -> SiteData:
    data = SiteData(site=site)
    buildings = {b.pk: b for b in Building.objects.filter(site=site)}
    for b in buildings.values():
        b.site = site
        data.buildings[b.name] = b
    floors = {}
    for f in Floor.objects.filter(building__site=site):
        f.building = buildings[f.building_id]
        floors[f.pk] = f
        data.floors[f.building_id, f.name] = f
    gateways = {}
    for g in Gateway.objects.filter(site=site, status=Status.ACTIVE):
        g.site = site
        gateways[g.pk] = g
        data.gateways[g.name] = g
    units = {}
    for u in Unit.objects.filter(site=site):
        u.site, u.floor = site, floors[u.floor_id]
        units[u.pk] = u
        data.units[u.code] = u
    by_unit: dict[int, list[Meter]] = defaultdict(list)
    meters = Meter.objects.filter(gateway__site=site).exclude(lifecycle=Lifecycle.RETIRED)
    for m in meters.order_by("id"):
        m.gateway, m.unit = gateways[m.gateway_id], units[m.unit_id]
        data.meters[m.gateway_id, m.address] = m
        by_unit[m.unit_id].append(m)
    data.unit_meters = {k: tuple(v) for k, v in by_unit.items()}
    tenants = {}
    for t in Tenant.objects.filter(site=site):
        t.site = site
        tenants[t.pk] = t
        data.tenants[t.code] = t
    by_tenant: dict[int, list[Account]] = defaultdict(list)
    open_accounts = Account.objects.filter(site=site).exclude(status=AccountStatus.CLOSED)
    for a in open_accounts.order_by("number", "id"):
        a.site, a.tenant = site, tenants[a.tenant_id]
        by_tenant[a.tenant_id].append(a)
    data.accounts = {k: tuple(v) for k, v in by_tenant.items()}
    held: dict[int, set[int]] = defaultdict(set)
    memberships = AccountMeter.objects.filter(account__site=site, detached_at__isnull=True)
    for account_id, meter_id in memberships.values_list("account_id", "meter_id"):
        held[account_id].add(meter_id)
    data.held = {k: frozenset(v) for k, v in held.items()}
    return data
