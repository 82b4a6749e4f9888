"""Load the sample site (星光购物中心, site ``DEMO``) that the demo shows and the simulator mirrors.

The site is created with the ordinary site service and filled through the spreadsheet import,
so the sample takes the same path, checks and system-log rows as a customer's own site.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from openprepaid.domain.configio.readers import ConfigTables
from openprepaid.domain.configio.services import import_configuration
from openprepaid.domain.errors import ConflictError, ServiceError
from openprepaid.domain.sample.sitegen import (
    SITE_ADDRESS,
    SITE_CODE,
    SITE_NAME,
    sample_site_tables,
)
from openprepaid.domain.sites.models import Building, Floor, Gateway, Meter, Site, Unit
from openprepaid.domain.sites.services import create_site
from openprepaid.domain.tenants.models import Account, Tenant
from openprepaid.protocol.profiles import Protocol

_ERRORS_SHOWN = 5


@dataclass(frozen=True, slots=True)
class SampleSummary:
    """What :func:`load_sample_site` put in the database."""

    site_code: str
    site_name: str
    buildings: int
    floors: int
    units: int
    gateways: int
    meters_dlt645: int
    meters_modbus: int
    tenants: int
    accounts: int

    @property
    def meters(self) -> int:
        return self.meters_dlt645 + self.meters_modbus

    def __str__(self) -> str:
        return _(
            "Sample site %(code)s (%(name)s) loaded: %(buildings)d buildings, %(floors)d floors, "
            "%(units)d units, %(gateways)d gateways, %(meters)d meters (%(dlt645)d DL/T 645-2007, "
            "%(modbus)d Modbus-RTU), %(tenants)d tenants and %(accounts)d accounts."
        ) % {
            "code": self.site_code,
            "name": self.site_name,
            "buildings": self.buildings,
            "floors": self.floors,
            "units": self.units,
            "gateways": self.gateways,
            "meters": self.meters,
            "dlt645": self.meters_dlt645,
            "modbus": self.meters_modbus,
            "tenants": self.tenants,
            "accounts": self.accounts,
        }


@transaction.atomic
def load_sample_site(*, acting_user=None, seed: int = 2026) -> SampleSummary:
    """Create site ``DEMO`` and import its buildings, units, gateways, meters and tenants.

    One transaction: on any error nothing is written. ``ConflictError`` if the site exists.
    """
    if Site.objects.filter(code=SITE_CODE).exists():
        raise ConflictError(
            _("A site with code %(code)s already exists; the sample site was not loaded.")
            % {"code": SITE_CODE}
        )
    site = create_site(
        acting_user=acting_user, code=SITE_CODE, name=SITE_NAME, address=SITE_ADDRESS
    )
    tables = ConfigTables.from_dicts(sample_site_tables(seed))
    report = import_configuration(
        acting_user=acting_user, tables=tables, dry_run=False, filename="sample-site"
    )
    if not report.ok:
        errors = [str(error) for error in report.errors]
        shown = "; ".join(errors[:_ERRORS_SHOWN])
        if len(errors) > _ERRORS_SHOWN:
            shown += " …"
        raise ServiceError(
            _("The sample site could not be imported: %(errors)s") % {"errors": shown},
            code="sample_import_failed",
        )
    return summarize(site)


def summarize(site: Site) -> SampleSummary:
    meters = Meter.objects.filter(gateway__site=site)
    return SampleSummary(
        site_code=site.code,
        site_name=site.name,
        buildings=Building.objects.filter(site=site).count(),
        floors=Floor.objects.filter(building__site=site).count(),
        units=Unit.objects.filter(site=site).count(),
        gateways=Gateway.objects.filter(site=site).count(),
        meters_dlt645=meters.filter(protocol=Protocol.DLT645_2007).count(),
        meters_modbus=meters.filter(protocol=Protocol.MODBUS_RTU).count(),
        tenants=Tenant.objects.filter(site=site).count(),
        accounts=Account.objects.filter(site=site).count(),
    )
