"""Fixtures for billing tests: a site with meters of both cost-control modes, a tenant, and
helpers to register and open accounts and to play the headend."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from openprepaid.domain.metering.models import MeterStatus
from openprepaid.domain.sites import services as site_services
from openprepaid.domain.tenants import services as tenant_services

_external = itertools.count(1)


@pytest.fixture
def next_id():
    """A fresh external id per call (``"x-1"``, ``"x-2"`` …)."""
    return lambda: f"x-{next(_external)}"


@pytest.fixture
def floor(site):
    return site_services.ensure_floor(
        acting_user=None, site=site, building_name="A座", floor_name="1F"
    )


@pytest.fixture
def gateway(site):
    return site_services.create_gateway(
        acting_user=None, site=site, name="GW-1", transport="transparent_tcp", host="h", port=1
    )


@pytest.fixture
def make_meter(floor, gateway):
    counter = itertools.count(1)

    def make(*, cost_control: str = "remote", unit_code: str | None = None):
        n = next(counter)
        unit = site_services.create_unit(
            acting_user=None, floor=floor, code=unit_code or f"1F-{n:03d}", kind="shop"
        )
        return site_services.create_meter(
            acting_user=None,
            gateway=gateway,
            unit=unit,
            address=f"{n:012d}",
            protocol="dlt645_2007",
            profile="dlt645-prepaid-1p",
            cost_control=cost_control,
        )

    return make


@pytest.fixture
def tenant(site):
    return tenant_services.create_tenant(
        acting_user=None,
        site=site,
        code="T1",
        name="川味小馆",
        kind="company",
        mobile="13800138000",
    )


@pytest.fixture
def register(tenant):
    def make(*meters, number: str = ""):
        return tenant_services.register_account(
            acting_user=None, tenant=tenant, meters=meters, number=number
        )

    return make


@pytest.fixture
def report(db):
    """Play the headend: ``report(meter, remaining="80.00", purchase_count=1)`` stores what the
    meter reports on its status row."""

    def store(meter, **values):
        for key, value in values.items():
            if key in ("remaining", "overdraft", "energy_total") and value is not None:
                values[key] = Decimal(value)
        MeterStatus.objects.update_or_create(meter=meter, defaults=values)

    return store
