"""A mall-sized site (22 gateways, 704 units and meters, 600 tenants) imports in one piece, and
its export imports again as all unchanged. (How fast is measured in bench/, not here.)"""

from __future__ import annotations

import pytest

from openprepaid.domain.configio.export import export_configuration
from openprepaid.domain.configio.readers import read_upload
from openprepaid.domain.configio.services import import_configuration
from openprepaid.domain.configio.tables import ConfigTables
from openprepaid.domain.sites.models import Meter
from openprepaid.domain.tenants.models import AccountMeter

pytestmark = pytest.mark.django_db

GATEWAYS, METERS_A_BUS, TENANTS = 22, 32, 600
# The aim is SQLite (the embedded default); PostgreSQL pays a round trip a query.


def mall() -> dict[str, list[dict[str, str]]]:
    gateways, units, meters, tenants = [], [], [], []
    for g in range(1, GATEWAYS + 1):
        modbus = g > GATEWAYS - 2
        floor = f"{(g + 1) // 2}F"
        gateways.append(
            {"site": "MALL", "name": f"GW{g:02d}", "host": "127.0.0.1", "port": str(10000 + g),
             "transport": "modbus_tcp" if modbus else "transparent_tcp",
             "baud_rate": "9600" if modbus else "2400", "parity": "E", "location": floor}
        )  # fmt: skip
        for n in range(1, METERS_A_BUS + 1):
            code = f"{g:02d}-{n:02d}"
            units.append(
                {"site": "MALL", "building": "A座", "floor": floor, "code": code,
                 "name": f"商铺{code}", "kind": "shop", "area": f"{20 + n}.5"}
            )  # fmt: skip
            meters.append(
                {"site": "MALL", "gateway": f"GW{g:02d}", "unit": code,
                 "address": str(n) if modbus else f"2010{g:02d}{n:06d}",
                 "protocol": "modbus_rtu" if modbus else "dlt645_2007",
                 "profile": "acrel-ddsy1352" if modbus else "dlt645-prepaid-1p",
                 "cost_control": "local" if n % 3 == 0 else "remote"}
            )  # fmt: skip
    codes = [u["code"] for u in units]
    for t in range(TENANTS):
        held = codes[t : t + 1] if t < TENANTS - 100 else codes[t + (t - 500) : t + (t - 500) + 2]
        tenants.append(
            {"site": "MALL", "code": f"T{t:04d}", "name": f"商户{t}", "kind": "company",
             "mobile": f"139{t:08d}", "units": ";".join(held)}
        )  # fmt: skip
    return {"gateways": gateways, "units": units, "meters": meters, "tenants": tenants}


def test_a_mall_imports_and_its_export_reimports_unchanged(site, admin):
    data = mall()
    report = import_configuration(
        acting_user=admin, tables=ConfigTables.from_dicts(data), dry_run=False
    )

    assert report.errors == []
    assert report.counts["meters"]["created"] == GATEWAYS * METERS_A_BUS
    assert report.counts["tenants"]["created"] == TENANTS
    assert Meter.objects.count() == 704
    assert AccountMeter.objects.count() == 700

    again = import_configuration(
        acting_user=admin,
        tables=read_upload("export.xlsx", export_configuration(acting_user=admin)),
        dry_run=True,
    )

    assert again.ok
    assert {r.outcome for r in again.rows} == {"unchanged"}
    assert len(again.rows) == 22 + 704 + 704 + 600
