from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from openprepaid.domain.sites.models import Building, Floor, Gateway, Meter, Unit
from openprepaid.domain.tenants.models import Account, AccountMeter, Tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def meter(site):
    floor = Floor.objects.create(building=Building.objects.create(site=site, name="A"), name="1F")
    unit = Unit.objects.create(site=site, floor=floor, code="A-101", kind="shop")
    gateway = Gateway.objects.create(
        site=site, name="GW1", transport="transparent_tcp", host="10.0.0.5", port=10001
    )
    return Meter.objects.create(
        gateway=gateway,
        unit=unit,
        address="201000000012",
        protocol="dlt645_2007",
        profile="dlt645-prepaid-1p",
    )


@pytest.fixture
def tenant(site):
    return Tenant.objects.create(site=site, code="T1", name="川味小馆", kind="company")


def refused(make):
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


def test_a_meter_belongs_to_one_account_at_a_time(site, tenant, meter):
    now = timezone.now()
    first = Account.objects.create(site=site, number="A1", tenant=tenant)
    second = Account.objects.create(site=site, number="A2", tenant=tenant)
    membership = AccountMeter.objects.create(account=first, meter=meter, attached_at=now)
    refused(lambda: AccountMeter.objects.create(account=second, meter=meter, attached_at=now))
    AccountMeter.objects.filter(pk=membership.pk).update(detached_at=now)
    AccountMeter.objects.create(account=second, meter=meter, attached_at=now)
    assert list(second.meters.all()) == [meter]


def test_one_account_holds_several_meters(site, tenant, meter):
    other = Meter.objects.create(
        gateway=meter.gateway,
        unit=meter.unit,
        address="201000000013",
        protocol="dlt645_2007",
        profile="dlt645-prepaid-1p",
    )
    account = Account.objects.create(site=site, number="A1", tenant=tenant)
    now = timezone.now()
    AccountMeter.objects.create(account=account, meter=meter, attached_at=now)
    AccountMeter.objects.create(account=account, meter=other, attached_at=now)
    assert account.meters.count() == 2


def test_account_status_needs_its_times(site, tenant):
    refused(lambda: Account.objects.create(site=site, number="A1", tenant=tenant, status="open"))
    refused(
        lambda: Account.objects.create(
            site=site, number="A2", tenant=tenant, status="registered", opened_at=timezone.now()
        )
    )
    refused(lambda: Account.objects.create(site=site, number="A3", tenant=tenant, status="closed"))
    Account.objects.create(
        site=site, number="A4", tenant=tenant, status="open", opened_at=timezone.now()
    )


def test_account_number_unique_on_site(site, tenant):
    Account.objects.create(site=site, number="A1", tenant=tenant)
    refused(lambda: Account.objects.create(site=site, number="A1", tenant=tenant))


def test_tenant_checks(site, tenant):
    refused(lambda: Tenant.objects.create(site=site, code="T1", name="dup", kind="person"))
    refused(lambda: Tenant.objects.create(site=site, code="T2", name="x", kind="alien"))
    refused(
        lambda: Tenant.objects.create(
            site=site, code="T3", name="x", kind="person", mobile="1234567"
        )
    )
    Tenant.objects.create(site=site, code="T4", name="x", kind="person", mobile="13800138000")


def test_detached_not_before_attached(site, tenant, meter):
    account = Account.objects.create(site=site, number="A1", tenant=tenant)
    now = timezone.now()
    refused(
        lambda: AccountMeter.objects.create(
            account=account,
            meter=meter,
            attached_at=now,
            detached_at=now - timezone.timedelta(days=1),
        )
    )
