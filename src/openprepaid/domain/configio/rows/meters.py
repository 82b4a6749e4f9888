"""Meter rows: upsert by (gateway, address) through ``create_meter`` / ``update_meter``.

The address is the meter's identity on its bus: a row may change a meter's model, phases, CT
ratio or cost control, but an address that already serves another unit is refused (far more
often a typing error than a meter carried to another shop; moving meters is a console task).
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext as _

from openprepaid.domain.configio.cells import Cells
from openprepaid.domain.configio.report import Outcome
from openprepaid.domain.configio.rows.base import RowImporter
from openprepaid.domain.configio.spec import Kind
from openprepaid.domain.sites.models import CostControl
from openprepaid.domain.sites.services import create_meter, update_meter
from openprepaid.protocol.profiles import PROFILES, Protocol, normalize_address

_SCIENTIFIC = re.compile(r"^\d+(\.\d+)?E\+?\d+$", re.IGNORECASE)


class MeterRows(RowImporter):
    kind = Kind.METERS

    def apply(self, number: int, cells: Cells) -> Outcome:
        data = self.site_data(cells)
        gateway_name = cells.text("gateway")
        protocol = cells.choice("protocol")
        address = self._address(cells, protocol)
        unit_code = cells.text("unit")
        fields: dict[str, Any] = {"protocol": protocol, "profile": cells.choice("profile")}
        phases = cells.choice("phases") if cells.has("phases") else None
        if cells.has("ct_ratio"):
            fields["ct_ratio"] = cells.integer("ct_ratio", low=1, high=9999) or 1
        if cells.has("cost_control"):
            fields["cost_control"] = cells.choice("cost_control") or CostControl.REMOTE.value
        if data is None:
            cells.check()
        if gateway_name and address:
            self.claim(cells, number, (data.site.pk, gateway_name, address), "address")
        gateway = data.gateways.get(gateway_name)
        if gateway_name and gateway is None:
            cells.error(
                "gateway",
                _("Site %(site)s has no gateway named “%(name)s” (saved or in this upload).")
                % {"site": data.site.code, "name": gateway_name},
            )
        unit = data.units.get(unit_code)
        if unit_code and unit is None:
            cells.error(
                "unit",
                _("Site %(site)s has no unit “%(code)s” (saved or in this upload).")
                % {"site": data.site.code, "code": unit_code},
            )
        cells.check()
        profile = PROFILES[fields["profile"]]
        if phases:
            fields["phases"] = int(phases)
        elif len(profile.phases) == 1:
            fields["phases"] = next(iter(profile.phases))
        existing = data.meters.get((gateway.pk, address))
        if existing is not None:
            if existing.unit_id != unit.pk:
                cells.error(
                    "address",
                    _(
                        "Gateway %(gateway)s already has meter %(address)s, serving unit "
                        "%(unit)s; check the address (meters are moved in the console)."
                    )
                    % {"gateway": gateway.name, "address": address, "unit": existing.unit.code},
                )
                cells.check()
            return self.upsert_update(existing, update_meter, fields)
        meter = create_meter(
            acting_user=self.user, gateway=gateway, unit=unit, address=address, **fields
        )
        self.ctx.put(data.meters, (gateway.pk, meter.address), meter)
        self.ctx.put(data.unit_meters, unit.pk, (*data.unit_meters.get(unit.pk, ()), meter))
        return Outcome.CREATED

    def _address(self, cells: Cells, protocol: str | None) -> str:
        """The address in its canonical form (DL/T 645: 12 digits, leading zeros restored)."""
        raw = cells.text("address")
        if not raw or protocol is None:
            return ""
        try:
            return normalize_address(protocol, raw)
        except ValueError:
            pass
        if _SCIENTIFIC.match(raw):
            message = _(
                "Excel turned the address into a number (%(value)s) and lost digits; format the "
                "column as text and type the address again."
            ) % {"value": raw}
        elif protocol == Protocol.DLT645_2007:
            message = _(
                "“%(value)s” is not a DL/T 645 address: 1 to 12 digits, not the broadcast "
                "address 999999999999."
            ) % {"value": raw}
        else:
            message = _("“%(value)s” is not a Modbus unit id: a whole number from 1 to 247.") % {
                "value": raw
            }
        cells.error("address", message)
        return ""
