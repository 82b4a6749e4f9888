"""One importer per table: a row's cells into calls of the domain services."""

from __future__ import annotations

from openprepaid.domain.configio.rows.base import RowImporter
from openprepaid.domain.configio.rows.gateways import GatewayRows
from openprepaid.domain.configio.rows.meters import MeterRows
from openprepaid.domain.configio.rows.tenants import TenantRows
from openprepaid.domain.configio.rows.units import UnitRows
from openprepaid.domain.configio.spec import Kind

IMPORTERS: dict[Kind, type[RowImporter]] = {
    Kind.GATEWAYS: GatewayRows,
    Kind.UNITS: UnitRows,
    Kind.METERS: MeterRows,
    Kind.TENANTS: TenantRows,
}
