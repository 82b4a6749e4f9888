"""The current configuration as a workbook in the import format: what an operator may see, in
service (nothing retired or archived). Imported again unchanged, every row is "unchanged"."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db.models import QuerySet

from openprepaid.domain.configio.spec import GATEWAYS, METERS, TENANTS, UNITS, Column, TableSpec
from openprepaid.domain.configio.template import add_instructions
from openprepaid.domain.configio.workbook import add_table_sheet, new_workbook, to_bytes
from openprepaid.domain.operators.permissions import limit_to_sites, require
from openprepaid.domain.operators.roles import Capability
from openprepaid.domain.sites.models import Gateway, Lifecycle, Meter, Site, Status, Unit
from openprepaid.domain.tenants.models import AccountMeter, AccountStatus, Tenant, TenantStatus


def export_configuration(*, acting_user, sites: Iterable[Site | int] | None = None) -> bytes:
    """An ``.xlsx`` of the gateways, units, meters and tenants of ``sites`` (default: every site
    the operator may see), with the instructions sheet, in the active language."""
    require(acting_user, Capability.EXPORT)
    chosen = limit_to_sites(Site.objects.all(), acting_user, "id")
    if sites is not None:
        chosen = chosen.filter(pk__in=[getattr(s, "pk", s) for s in sites])
    site_ids = list(chosen.values_list("id", flat=True))
    workbook = new_workbook()
    add_instructions(workbook)
    add_table_sheet(workbook, GATEWAYS, _gateway_rows(site_ids))
    add_table_sheet(workbook, UNITS, _unit_rows(site_ids))
    add_table_sheet(workbook, METERS, _meter_rows(site_ids))
    add_table_sheet(workbook, TENANTS, _tenant_rows(site_ids))
    workbook.active = 1
    return to_bytes(workbook)


def _row(spec: TableSpec, values: dict[str, object]) -> list[object]:
    """The cells of a row in column order, enumerated values shown as the column shows them."""
    return [_cell(column, values.get(column.key)) for column in spec.columns]


def _cell(column: Column, value: object) -> object:
    if value is None or value == "":
        return None
    if column.choices and isinstance(value, str):
        return column.shown(value)
    return value


def _gateway_rows(site_ids: list[int]) -> Iterable[list[object]]:
    gateways: QuerySet[Gateway] = Gateway.objects.filter(
        site_id__in=site_ids, status=Status.ACTIVE
    ).select_related("site")
    for g in gateways.order_by("site__code", "name"):
        yield _row(
            GATEWAYS,
            {
                "site": g.site.code,
                "name": g.name,
                "transport": g.transport,
                "host": g.host,
                "port": g.port,
                "serial_device": g.serial_device,
                "baud_rate": g.baud_rate,
                "parity": g.parity,
                "location": g.location,
            },
        )


def _unit_rows(site_ids: list[int]) -> Iterable[list[object]]:
    units = Unit.objects.filter(site_id__in=site_ids, status=Status.ACTIVE).select_related(
        "site", "floor__building"
    )
    for u in units.order_by("site__code", "code"):
        yield _row(
            UNITS,
            {
                "site": u.site.code,
                "building": u.floor.building.name,
                "floor": u.floor.name,
                "code": u.code,
                "name": u.name,
                "kind": u.kind,
                "area": u.area,
            },
        )


def _meter_rows(site_ids: list[int]) -> Iterable[list[object]]:
    meters = (
        Meter.objects.filter(gateway__site_id__in=site_ids)
        .exclude(lifecycle=Lifecycle.RETIRED)
        .select_related("gateway__site", "unit")
    )
    for m in meters.order_by("gateway__site__code", "gateway__name", "address"):
        yield _row(
            METERS,
            {
                "site": m.gateway.site.code,
                "gateway": m.gateway.name,
                "address": m.address,
                "protocol": m.protocol,
                "profile": m.profile,
                "phases": m.phases,
                "ct_ratio": m.ct_ratio,
                "cost_control": m.cost_control,
                "unit": m.unit.code,
            },
        )


def _tenant_rows(site_ids: list[int]) -> Iterable[list[object]]:
    held: dict[int, set[str]] = defaultdict(set)
    memberships = AccountMeter.objects.filter(
        account__site_id__in=site_ids, detached_at__isnull=True
    ).exclude(account__status=AccountStatus.CLOSED)
    for tenant_id, unit_code in memberships.values_list("account__tenant_id", "meter__unit__code"):
        held[tenant_id].add(unit_code)
    tenants = Tenant.objects.filter(site_id__in=site_ids, status=TenantStatus.ACTIVE)
    for t in tenants.select_related("site").order_by("site__code", "code"):
        yield _row(
            TENANTS,
            {
                "site": t.site.code,
                "code": t.code,
                "name": t.name,
                "kind": t.kind,
                "contact_name": t.contact_name,
                "mobile": t.mobile,
                "units": "; ".join(sorted(held.get(t.pk, ()))),
            },
        )
