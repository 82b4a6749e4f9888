"""Reads of the site configuration for pages and reports.

Every function takes the operator whose view it is and returns only rows of the sites that
operator may see (:func:`~openprepaid.domain.operators.permissions.limit_to_sites`); querysets
come with the related rows a page shows already joined, so listing them costs one query.
Pagination is the caller's job.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet

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

# ---------------------------------------------------------------------------- querysets


def sites_for(operator) -> QuerySet[Site]:
    return limit_to_sites(Site.objects.all(), operator, "id")


def buildings_for(operator, *, site=None) -> QuerySet[Building]:
    qs = limit_to_sites(Building.objects.select_related("site"), operator)
    if site is not None:
        qs = qs.filter(site=site)
    return qs.order_by("site__code", "name")


def floors_for(operator, *, site=None, building=None) -> QuerySet[Floor]:
    qs = limit_to_sites(Floor.objects.select_related("building__site"), operator, "building__site")
    if site is not None:
        qs = qs.filter(building__site=site)
    if building is not None:
        qs = qs.filter(building=building)
    return qs.order_by("building__site__code", "building__name", "level", "name")


def units_for(operator) -> QuerySet[Unit]:
    return limit_to_sites(
        Unit.objects.select_related("site", "floor__building"), operator
    ).order_by("site__code", "code")


def gateways_for(operator) -> QuerySet[Gateway]:
    return limit_to_sites(Gateway.objects.select_related("site"), operator).order_by(
        "site__code", "name"
    )


def meters_for(operator) -> QuerySet[Meter]:
    return limit_to_sites(
        Meter.objects.select_related("gateway__site", "unit__floor__building", "unit__site"),
        operator,
        "gateway__site",
    ).order_by("gateway__site__code", "gateway__name", "address")


def _search(qs: QuerySet, text: str, *fields: str) -> QuerySet:
    text = (text or "").strip()
    if not text:
        return qs
    condition = Q()
    for name in fields:
        condition |= Q(**{f"{name}__icontains": text})
    return qs.filter(condition)


def _given(**filters) -> dict:
    return {key: value for key, value in filters.items() if value not in (None, "")}


# ------------------------------------------------------------------------------ filtered


def site_list(operator, *, q: str = "") -> QuerySet[Site]:
    qs = sites_for(operator).annotate(
        building_count=Count("buildings", distinct=True),
        unit_count=Count("units", distinct=True),
        gateway_count=Count("gateways", filter=Q(gateways__status=Status.ACTIVE), distinct=True),
    )
    return _search(qs, q, "code", "name", "address").order_by("code")


def unit_list(
    operator, *, site=None, building=None, floor=None, kind="", status="", q=""
) -> QuerySet[Unit]:
    qs = units_for(operator).filter(
        **_given(site=site, floor__building=building, floor=floor, kind=kind, status=status)
    )
    return _search(qs, q, "code", "name")


def gateway_list(operator, *, site=None, transport="", status="", q="") -> QuerySet[Gateway]:
    qs = gateways_for(operator).filter(**_given(site=site, transport=transport, status=status))
    qs = qs.annotate(meter_count=Count("meters", filter=~Q(meters__lifecycle=Lifecycle.RETIRED)))
    return _search(qs, q, "name", "host", "serial_device", "location")


def meter_list(
    operator,
    *,
    site=None,
    building=None,
    floor=None,
    gateway=None,
    protocol="",
    cost_control="",
    lifecycle="",
    q="",
) -> QuerySet[Meter]:
    qs = meters_for(operator).filter(
        **_given(
            gateway__site=site,
            unit__floor__building=building,
            unit__floor=floor,
            gateway=gateway,
            protocol=protocol,
            cost_control=cost_control,
            lifecycle=lifecycle,
        )
    )
    return _search(qs, q, "address", "unit__code", "unit__name")


# -------------------------------------------------------------------------- choice lists


def floor_choices(operator) -> QuerySet[Floor]:
    """Floors a unit may be placed on."""
    return floors_for(operator)


def gateway_choices(operator, *, site=None) -> QuerySet[Gateway]:
    """Gateways in service that a meter may be put on."""
    qs = gateways_for(operator).filter(status=Status.ACTIVE)
    return qs.filter(site=site) if site is not None else qs


def unit_choices(operator, *, site=None) -> QuerySet[Unit]:
    """Units in service that a meter may serve."""
    qs = units_for(operator).filter(status=Status.ACTIVE)
    return qs.filter(site=site) if site is not None else qs


# ---------------------------------------------------------------------------- structure


def site_structure(site: Site) -> list[Building]:
    """The site's buildings, each with ``floor_list``: its floors with ``unit_count`` and
    ``meter_count`` (units and meters in service)."""
    buildings = list(site.buildings.order_by("name"))
    floors = (
        Floor.objects.filter(building__site=site)
        .annotate(
            unit_count=Count("units", filter=Q(units__status=Status.ACTIVE), distinct=True),
            meter_count=Count(
                "units__meters",
                filter=~Q(units__meters__lifecycle=Lifecycle.RETIRED),
                distinct=True,
            ),
        )
        .order_by("level", "name")
    )
    by_building: dict[int, list[Floor]] = defaultdict(list)
    for floor in floors:
        by_building[floor.building_id].append(floor)
    for building in buildings:
        building.floor_list = by_building[building.pk]
        building.unit_count = sum(f.unit_count for f in building.floor_list)
    return buildings


@dataclass
class SiteCounts:
    site: Site
    buildings: int = 0
    floors: int = 0
    units: int = 0
    gateways: dict[str, int] = field(default_factory=dict)  # by transport, in service
    meters_by_protocol: dict[str, int] = field(default_factory=dict)  # not retired
    meters_by_lifecycle: dict[str, int] = field(default_factory=dict)
    tenants: int = 0
    accounts: dict[str, int] = field(default_factory=dict)  # by status

    @property
    def gateway_total(self) -> int:
        return sum(self.gateways.values())

    @property
    def meter_total(self) -> int:
        return sum(self.meters_by_protocol.values())

    @property
    def account_total(self) -> int:
        return sum(self.accounts.values())


def site_overview(operator) -> list[SiteCounts]:
    """Counts per visible site: a fixed number of grouped queries, whatever the site count."""
    from openprepaid.domain.tenants.models import Account, Tenant, TenantStatus

    result = {site.pk: SiteCounts(site=site) for site in sites_for(operator)}
    if not result:
        return []
    ids = list(result)

    def grouped(qs: QuerySet, site_path: str, *keys: str):
        return (
            qs.filter(**{f"{site_path}__in": ids})
            .values(site_path, *keys)
            .annotate(n=Count("id"))
            .order_by()
        )

    for row in grouped(Building.objects.all(), "site"):
        result[row["site"]].buildings = row["n"]
    for row in grouped(Floor.objects.all(), "building__site"):
        result[row["building__site"]].floors = row["n"]
    for row in grouped(Unit.objects.filter(status=Status.ACTIVE), "site"):
        result[row["site"]].units = row["n"]
    for row in grouped(Gateway.objects.filter(status=Status.ACTIVE), "site", "transport"):
        result[row["site"]].gateways[row["transport"]] = row["n"]
    meters = Meter.objects.all()
    for row in grouped(meters, "gateway__site", "protocol", "lifecycle"):
        counts = result[row["gateway__site"]]
        lifecycle = counts.meters_by_lifecycle
        lifecycle[row["lifecycle"]] = lifecycle.get(row["lifecycle"], 0) + row["n"]
        if row["lifecycle"] != Lifecycle.RETIRED:
            by_protocol = counts.meters_by_protocol
            by_protocol[row["protocol"]] = by_protocol.get(row["protocol"], 0) + row["n"]
    for row in grouped(Tenant.objects.filter(status=TenantStatus.ACTIVE), "site"):
        result[row["site"]].tenants = row["n"]
    for row in grouped(Account.objects.all(), "site", "status"):
        result[row["site"]].accounts[row["status"]] = row["n"]
    return list(result.values())


# ------------------------------------------------------------------------------ the board


@dataclass
class BoardFloor:
    floor: Floor
    meters: list[Meter]


@dataclass
class BoardBuilding:
    building: Building
    floors: list[BoardFloor]

    @property
    def meter_count(self) -> int:
        return sum(len(f.meters) for f in self.floors)


def meter_board(
    operator, *, site: Site, building=None, floor=None, gateway=None
) -> list[BoardBuilding]:
    """The site's meters in service grouped by building and floor, in floor order."""
    meters = meters_for(operator).filter(gateway__site=site).exclude(lifecycle=Lifecycle.RETIRED)
    meters = meters.filter(
        **_given(unit__floor__building=building, unit__floor=floor, gateway=gateway)
    ).order_by(
        "unit__floor__building__name", "unit__floor__level", "unit__floor__name", "unit__code"
    )
    buildings: dict[int, BoardBuilding] = {}
    floors: dict[int, BoardFloor] = {}
    for meter in meters:
        floor_obj = meter.unit.floor
        board_building = buildings.get(floor_obj.building_id)
        if board_building is None:
            board_building = buildings[floor_obj.building_id] = BoardBuilding(
                building=floor_obj.building, floors=[]
            )
        board_floor = floors.get(floor_obj.pk)
        if board_floor is None:
            board_floor = floors[floor_obj.pk] = BoardFloor(floor=floor_obj, meters=[])
            board_building.floors.append(board_floor)
        board_floor.meters.append(meter)
    return list(buildings.values())
