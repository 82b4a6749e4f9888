"""Unit rows: upsert by (site, code) through ``create_unit`` / ``update_unit``; buildings and
floors are created on the way by ``ensure_floor``."""

from __future__ import annotations

from typing import Any

from openprepaid.domain.configio.cells import Cells, RowFailed
from openprepaid.domain.configio.context import SiteData
from openprepaid.domain.configio.report import Outcome
from openprepaid.domain.configio.rows.base import RowImporter
from openprepaid.domain.configio.spec import Kind
from openprepaid.domain.errors import ServiceError
from openprepaid.domain.sites.models import Floor
from openprepaid.domain.sites.services import create_unit, ensure_floor, update_unit


class UnitRows(RowImporter):
    kind = Kind.UNITS

    def apply(self, number: int, cells: Cells) -> Outcome:
        data = self.site_data(cells)
        building = cells.text("building", max_length=64)
        floor_name = cells.text("floor", max_length=32)
        code = cells.text("code", max_length=32)
        fields: dict[str, Any] = {"kind": cells.choice("kind")}
        if cells.has("name"):
            fields["name"] = cells.text("name", max_length=100)
        if cells.has("area"):
            fields["area"] = cells.decimal("area", places=2)
        if data is not None and code:
            self.claim(cells, number, (data.site.pk, code), "code")
        cells.check()
        fields["floor"] = self._floor(data, building, floor_name)
        existing = data.units.get(code)
        if existing is not None:
            return self.upsert_update(existing, update_unit, fields)
        unit = create_unit(acting_user=self.user, code=code, **fields)
        self.ctx.put(data.units, unit.code, unit)
        return Outcome.CREATED

    def _floor(self, data: SiteData, building_name: str, floor_name: str) -> Floor:
        building = data.buildings.get(building_name)
        floor = data.floors.get((building.pk, floor_name)) if building is not None else None
        if floor is not None:
            return floor
        try:
            floor = ensure_floor(
                acting_user=self.user,
                site=data.site,
                building_name=building_name,
                floor_name=floor_name,
            )
        except ServiceError as error:
            column = "building" if building is None else "floor"
            raise RowFailed(self.service_errors(error, column)) from None
        floor.building.site = data.site
        self.ctx.put(data.buildings, building_name, floor.building)
        self.ctx.put(data.floors, (floor.building_id, floor_name), floor)
        return floor
