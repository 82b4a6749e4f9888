"""Gateway rows: upsert by (site, name) through ``create_gateway`` / ``update_gateway``."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from openprepaid.domain.configio.cells import Cells
from openprepaid.domain.configio.report import Outcome
from openprepaid.domain.configio.rows.base import RowImporter
from openprepaid.domain.configio.spec import Kind
from openprepaid.domain.sites.models import Gateway, Status, Transport
from openprepaid.domain.sites.services import create_gateway, update_gateway


class GatewayRows(RowImporter):
    kind = Kind.GATEWAYS

    def apply(self, number: int, cells: Cells) -> Outcome:
        data = self.site_data(cells)
        name = cells.text("name", max_length=64)
        fields: dict[str, Any] = {"name": name, "transport": cells.choice("transport")}
        if cells.has("host"):
            fields["host"] = cells.text("host", max_length=253)
        if cells.has("port"):
            fields["port"] = cells.integer("port", low=1, high=65535)
        if cells.has("serial_device"):
            fields["serial_device"] = cells.text("serial_device", max_length=128)
        if cells.has("baud_rate"):
            fields["baud_rate"] = int(cells.choice("baud_rate") or 2400)
        if cells.has("parity"):
            fields["parity"] = cells.choice("parity") or "E"
        if cells.has("location"):
            fields["location"] = cells.text("location", max_length=200)
        if data is not None and name:
            self.claim(cells, number, (data.site.pk, name), "name")
        cells.check()
        existing = data.gateways.get(name)
        self._check_endpoint(cells, fields, existing)
        cells.check()
        if existing is not None:
            return self.upsert_update(existing, update_gateway, fields)
        gateway = create_gateway(acting_user=self.user, site=data.site, **fields)
        self.ctx.put(data.gateways, gateway.name, gateway)
        return Outcome.CREATED

    def _check_endpoint(self, cells: Cells, fields: dict[str, Any], existing) -> None:
        """A TCP gateway needs a host and a port not used by another gateway; a serial one a
        device of its own. Fields of the other transport are cleared, as the services do."""

        def value(key: str) -> Any:
            if key in fields:
                return fields[key]
            return getattr(existing, key) if existing is not None else None

        others = Gateway.objects.filter(status=Status.ACTIVE)
        if existing is not None:
            others = others.exclude(pk=existing.pk)
        if fields["transport"] == Transport.SERIAL:
            fields["host"], fields["port"] = "", None
            device = value("serial_device")
            if not device:
                cells.error("serial_device", _("A serial gateway needs its serial device."))
                return
            clash = others.filter(transport=Transport.SERIAL, serial_device=device).first()
            if clash is not None:
                cells.error("serial_device", _in_use(clash, device))
            return
        fields["serial_device"] = ""
        host, port = value("host"), value("port")
        if not host:
            cells.error("host", _("A TCP gateway needs a host (IP address or name)."))
        if port is None:
            cells.error("port", _("A TCP gateway needs a port (1-65535)."))
        if host and port is not None:
            clash = others.exclude(transport=Transport.SERIAL).filter(host=host, port=port).first()
            if clash is not None:
                cells.error("port", _in_use(clash, f"{host}:{port}"))


def _in_use(gateway: Gateway, endpoint: str) -> str:
    return _("Gateway %(name)s on site %(site)s already uses %(endpoint)s.") % {
        "name": gateway.name,
        "site": gateway.site.code,
        "endpoint": endpoint,
    }
