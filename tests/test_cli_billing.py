"""``openprepaid check-ledger``: zero differences pass; a forged cached balance, a forged meter
balance are found (the ledger itself is append-only, so the forgery is elsewhere)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tests.domain.billing.billing_helpers import at, open_account, post_amount, reading, store

from openprepaid.cli import main
from openprepaid.domain.billing.models import AccountBalance
from openprepaid.domain.metering.models import MeterReading
from openprepaid.domain.sites import services as site_services
from openprepaid.domain.tenants import services as tenant_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def accounts(site):
    floor = site_services.ensure_floor(
        acting_user=None, site=site, building_name="A", floor_name="1F"
    )
    gateway = site_services.create_gateway(
        acting_user=None, site=site, name="GW", transport="transparent_tcp", host="h", port=1
    )
    tenant = tenant_services.create_tenant(
        acting_user=None, site=site, code="T1", name="Tenant", kind="company"
    )
    made = {}
    for n, cost in enumerate(("remote", "local"), start=1):
        unit = site_services.create_unit(
            acting_user=None, floor=floor, code=f"1F-{n:03d}", kind="shop"
        )
        meter = site_services.create_meter(
            acting_user=None,
            gateway=gateway,
            unit=unit,
            address=f"{n:012d}",
            protocol="dlt645_2007",
            profile="dlt645-prepaid-1p",
            cost_control=cost,
        )
        account = tenant_services.register_account(acting_user=None, tenant=tenant, meters=[meter])
        made[cost] = (meter, open_account(account, amount="0.00"))
    meter, account = made["local"]
    post_amount(account, "100.00", "sale-local", meter=meter)
    store(reading(meter, at(0), "10.00", remaining="100.00"))
    store(reading(meter, at(1), "12.00", remaining="98.40"))  # mirrored: 1.60 consumed
    _meter, remote_account = made["remote"]
    post_amount(remote_account, "50.00", "sale-remote")
    return made


def test_zero_differences_pass(accounts, capsys):
    assert main(["check-ledger"]) == 0
    out = capsys.readouterr().out
    assert "2 accounts, 5 entries, 1 local meters checked: 0 differences" in out


def test_a_forged_cached_balance_is_found(accounts, capsys):
    _meter, account = accounts["remote"]
    AccountBalance.objects.filter(account=account).update(balance=Decimal("60.00"))
    assert main(["check-ledger", "--site", "MALL"]) == 1
    out = capsys.readouterr().out
    assert f"account {account.number}: cached balance 60.00, ledger 50.00, difference 10.00" in out
    assert "1 differences" in out


def test_a_forged_meter_balance_is_found(accounts, capsys):
    meter, account = accounts["local"]
    MeterReading.objects.filter(meter=meter, read_at=at(1)).update(remaining=Decimal("99.40"))
    assert main(["check-ledger"]) == 1
    out = capsys.readouterr().out
    assert (
        f"account {account.number}: meter balance 99.40, ledger 98.40, difference 1.00"
        f" (meter {meter.address})" in out
    )


def test_unknown_site_is_a_usage_error(db, capsys):
    assert main(["check-ledger", "--site", "NOPE"]) == 2
    assert "no site 'NOPE'" in capsys.readouterr().err
