"""Tenant rows: upsert by (site, code) through ``create_tenant`` / ``update_tenant``.

The units column gives the tenant an account holding the meters of those units: a registered
account when it has none (``register_account``), else its first account that is not closed
(``attach_meters``). The import adds meters to accounts and never takes them out — that moves
money and belongs to the counter (close the account, or swap the meter).
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext as _

from openprepaid.domain.configio.cells import Cells, RowFailed
from openprepaid.domain.configio.context import SiteData
from openprepaid.domain.configio.report import Outcome
from openprepaid.domain.configio.rows.base import RowImporter
from openprepaid.domain.configio.spec import Kind
from openprepaid.domain.errors import ServiceError
from openprepaid.domain.operators.roles import Capability
from openprepaid.domain.sites.models import Meter
from openprepaid.domain.tenants.models import Tenant
from openprepaid.domain.tenants.services import (
    attach_meters,
    create_tenant,
    register_account,
    update_tenant,
)

UNIT_SEPARATORS = re.compile(r"[;,，；、\n]+")


def split_units(text: str) -> list[str]:
    """Unit codes in a cell, in order, without blanks or repeats."""
    return list(dict.fromkeys(c.strip() for c in UNIT_SEPARATORS.split(text) if c.strip()))


class TenantRows(RowImporter):
    kind = Kind.TENANTS
    capability = Capability.MANAGE_TENANTS

    def apply(self, number: int, cells: Cells) -> Outcome:
        data = self.site_data(cells)
        code = cells.text("code", max_length=32)
        fields: dict[str, Any] = {
            "name": cells.text("name", max_length=100),
            "kind": cells.choice("kind"),
        }
        if cells.has("contact_name"):
            fields["contact_name"] = cells.text("contact_name", max_length=64)
        if cells.has("mobile"):
            fields["mobile"] = re.sub(r"[\s-]+", "", cells.text("mobile"))
        if data is not None and code:
            self.claim(cells, number, (data.site.pk, code), "code")
        meters = self._meters(cells, data) if cells.has("units") and data is not None else None
        cells.check()
        tenant = data.tenants.get(code)
        if tenant is None:
            tenant = create_tenant(acting_user=self.user, site=data.site, code=code, **fields)
            self.ctx.put(data.tenants, tenant.code, tenant)
            outcome = Outcome.CREATED
        else:
            outcome = self.upsert_update(tenant, update_tenant, fields)
        if meters is not None and self._accounts(cells, data, tenant, meters):
            outcome = outcome if outcome == Outcome.CREATED else Outcome.UPDATED
        return outcome

    def _meters(self, cells: Cells, data: SiteData) -> list[Meter]:
        """The meters in service of the units listed, or errors on the units column."""
        meters: list[Meter] = []
        unknown, meterless = [], []
        for code in split_units(cells.text("units")):
            unit = data.units.get(code)
            if unit is None:
                unknown.append(code)
            elif not data.unit_meters.get(unit.pk):
                meterless.append(code)
            else:
                meters += data.unit_meters[unit.pk]
        if unknown:
            cells.error(
                "units",
                _("Site %(site)s has no unit %(codes)s (saved or in this upload).")
                % {"site": data.site.code, "codes": ", ".join(unknown)},
            )
        elif meterless:
            cells.error(
                "units",
                _("Unit %(codes)s has no meter in service yet; import its meter first.")
                % {"codes": ", ".join(meterless)},
            )
        return meters

    def _accounts(self, cells: Cells, data: SiteData, tenant: Tenant, meters: list[Meter]) -> bool:
        """Give the tenant's account the meters it lacks. Returns whether anything changed."""
        accounts = data.accounts.get(tenant.pk, ())
        held = frozenset().union(*(data.held.get(a.pk, frozenset()) for a in accounts))
        wanted = {m.pk for m in meters}
        extra = held - wanted
        if extra:
            units = sorted({m.unit.code for m in map(data.meter_by_id, extra) if m is not None})
            cells.error(
                "units",
                _(
                    "The tenant's account also holds the meters of %(units)s; the import does not "
                    "take meters out of an account (close the account or swap the meter)."
                )
                % {"units": ", ".join(units)},
            )
            cells.check()
        missing = [m for m in meters if m.pk not in held]
        if not missing:
            return False
        try:
            if accounts:
                account = accounts[0]
                attach_meters(account, missing, acting_user=self.user)
            else:
                account = register_account(acting_user=self.user, tenant=tenant, meters=missing)
                self.ctx.put(data.accounts, tenant.pk, (account,))
        except ServiceError as error:
            raise RowFailed(self.service_errors(error, "units")) from None
        now_held = data.held.get(account.pk, frozenset()) | {m.pk for m in missing}
        self.ctx.put(data.held, account.pk, now_held)
        return True
