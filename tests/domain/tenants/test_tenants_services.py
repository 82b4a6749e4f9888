from __future__ import annotations

import pytest

from openprepaid.domain.audit.models import SystemLog
from openprepaid.domain.errors import ConflictError, PermissionDeniedError, ServiceError
from openprepaid.domain.sites import services as site_services
from openprepaid.domain.tenants import services
from openprepaid.domain.tenants.models import Account, Tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def meters(site):
    floor = site_services.ensure_floor(
        acting_user=None, site=site, building_name="A", floor_name="1F"
    )
    gateway = site_services.create_gateway(
        acting_user=None, site=site, name="GW", transport="transparent_tcp", host="h", port=1
    )
    result = []
    for n in range(1, 4):
        unit = site_services.create_unit(
            acting_user=None, floor=floor, code=f"A-10{n}", kind="shop"
        )
        result.append(
            site_services.create_meter(
                acting_user=None,
                gateway=gateway,
                unit=unit,
                address=str(n),
                protocol="dlt645_2007",
                profile="dlt645-prepaid-1p",
            )
        )
    return result


@pytest.fixture
def tenant(site, cashier):
    return services.create_tenant(
        acting_user=cashier,
        site=site,
        code="T1",
        name="川味小馆",
        kind="company",
        mobile="13800138000",
    )


def test_register_account_with_several_meters(tenant, meters, cashier):
    account = services.register_account(acting_user=cashier, tenant=tenant, meters=meters[:2])
    assert account.number == "A000001"
    assert account.status == "registered"
    assert set(account.meters.all()) == set(meters[:2])
    second = services.register_account(acting_user=cashier, tenant=tenant, meters=[meters[2]])
    assert second.number == "A000002"
    actions = list(
        SystemLog.objects.filter(object_type="account")
        .order_by("id")
        .values_list("action", "actor")
    )
    assert actions == [
        ("account.register", cashier.pk),
        ("account.attach_meters", cashier.pk),
        ("account.register", cashier.pk),
        ("account.attach_meters", cashier.pk),
    ]


def test_a_meter_cannot_join_a_second_account(tenant, meters, cashier, site):
    services.register_account(acting_user=cashier, tenant=tenant, meters=[meters[0]])
    other = services.create_tenant(
        acting_user=cashier, site=site, code="T2", name="B", kind="person"
    )
    with pytest.raises(ConflictError):
        services.register_account(acting_user=cashier, tenant=other, meters=[meters[0]])
    assert not Account.objects.filter(tenant=other).exists()


def test_bad_mobile_is_a_field_error(site, cashier):
    with pytest.raises(ServiceError) as error:
        services.create_tenant(
            acting_user=cashier, site=site, code="T9", name="x", kind="person", mobile="555-1234"
        )
    assert "mobile" in error.value.field_errors
    assert not Tenant.objects.filter(code="T9").exists()


def test_archive_refused_with_an_account(tenant, meters, cashier):
    services.register_account(acting_user=cashier, tenant=tenant, meters=[meters[0]])
    with pytest.raises(ConflictError):
        services.archive_tenant(tenant, acting_user=cashier)


def test_operations_cannot_manage_tenants(site, operations, tenant):
    with pytest.raises(PermissionDeniedError):
        services.create_tenant(
            acting_user=operations, site=site, code="T5", name="x", kind="person"
        )
    with pytest.raises(PermissionDeniedError):
        services.update_tenant(tenant, acting_user=operations, name="y")
    tenant.refresh_from_db()
    assert tenant.name == "川味小馆"
