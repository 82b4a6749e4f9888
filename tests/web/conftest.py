"""Fixtures for the operator console tests: a small configured site, logged-in clients, and
a way to count system-log rows."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.test import Client

from openprepaid.domain.audit.models import SystemLog
from openprepaid.domain.sites import services as site_services
from openprepaid.domain.tenants import services as tenant_services

CLIENT_ADDRESS = "198.51.100.7"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def build_site(site, *, prefix: str = "A", port: int = 4001, address: str = "000000000001"):
    """One building with one floor and two units; a TCP gateway with two DL/T 645 meters and a
    serial gateway without meters; a tenant with a registered account holding the first meter,
    and a tenant without accounts."""
    building = site_services.create_building(acting_user=None, site=site, name=f"{prefix}座")
    floor = site_services.create_floor(acting_user=None, building=building, name="1F")
    unit = site_services.create_unit(
        acting_user=None, floor=floor, code=f"{prefix}-101", kind="shop", name="星辰名表"
    )
    spare_unit = site_services.create_unit(
        acting_user=None, floor=floor, code=f"{prefix}-102", kind="office", name="Spare office"
    )
    gateway = site_services.create_gateway(
        acting_user=None,
        site=site,
        name=f"{prefix}-GW1",
        transport="transparent_tcp",
        host=f"10.0.{port % 250}.1",
        port=port,
        location="东侧强电井",
    )
    meter = site_services.create_meter(
        acting_user=None,
        gateway=gateway,
        unit=unit,
        address=address,
        protocol="dlt645_2007",
        profile="dlt645-prepaid-1p",
        phases=1,
    )
    spare_gateway = site_services.create_gateway(
        acting_user=None,
        site=site,
        name=f"{prefix}-GW2",
        transport="serial",
        serial_device=f"/dev/ttyUSB{port % 10}",
    )
    spare_meter = site_services.create_meter(
        acting_user=None,
        gateway=gateway,
        unit=spare_unit,
        address=address[:-2] + "11",
        protocol="dlt645_2007",
        profile="dlt645-prepaid-3p",
        phases=3,
        ct_ratio=20,
    )
    spare_tenant = tenant_services.create_tenant(
        acting_user=None, site=site, code=f"{prefix}T02", name="Spare tenant", kind="person"
    )
    tenant = tenant_services.create_tenant(
        acting_user=None,
        site=site,
        code=f"{prefix}T01",
        name="星辰钟表行",
        kind="company",
        mobile="13800138000",
        contact_name="王经理",
    )
    account = tenant_services.register_account(acting_user=None, tenant=tenant, meters=[meter])
    return SimpleNamespace(
        site=site,
        building=building,
        floor=floor,
        unit=unit,
        spare_unit=spare_unit,
        gateway=gateway,
        spare_gateway=spare_gateway,
        meter=meter,
        spare_meter=spare_meter,
        tenant=tenant,
        spare_tenant=spare_tenant,
        account=account,
    )


@pytest.fixture
def data(site):
    return build_site(site)


@pytest.fixture
def other(other_site):
    return build_site(other_site, prefix="B", port=4002, address="000000000002")


def _client(user) -> Client:
    client = Client(REMOTE_ADDR=CLIENT_ADDRESS)
    if user is not None:
        client.force_login(user, backend=MODEL_BACKEND)
    return client


@pytest.fixture
def client_for():
    """``client_for(user)`` → a test client logged in as ``user``, from CLIENT_ADDRESS."""
    return _client


@pytest.fixture
def admin_client(admin):
    return _client(admin)


class LogCounter:
    """Counts system-log rows written after it was made (logins excluded)."""

    def __init__(self) -> None:
        self.start = SystemLog.objects.order_by("-id").values_list("id", flat=True).first() or 0

    def rows(self, **filters):
        return list(
            SystemLog.objects.filter(id__gt=self.start, **filters)
            .exclude(action__in=["operator.login", "operator.logout"])
            .order_by("id")
        )


@pytest.fixture
def log():
    """Call ``log()`` right before the action; ``.rows()`` are the rows it wrote."""
    return LogCounter
