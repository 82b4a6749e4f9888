"""The sample site's billing: tariff, thresholds and accounts opened through the billing
services, local meters' purchases queued for the headend; a second call changes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from openprepaid.domain.billing.models import (
    AccountBalance,
    BillingSettings,
    Delivery,
    EntryKind,
    LedgerEntry,
    Sale,
    SaleKind,
    TariffAssignment,
)
from openprepaid.domain.errors import ServiceError
from openprepaid.domain.metering.models import Command
from openprepaid.domain.sample.billing import TARIFF_CODE, open_sample_accounts
from openprepaid.domain.sample.services import load_sample_site
from openprepaid.domain.sites.models import CostControl, Meter
from openprepaid.domain.tenants.models import Account, AccountMeter, AccountStatus


@pytest.mark.django_db
def test_the_sample_accounts_open_through_the_billing_services():
    with pytest.raises(ServiceError) as missing:
        open_sample_accounts()
    assert missing.value.code == "sample_missing"
    load_sample_site(acting_user=None)

    done = open_sample_accounts(amounts=(Decimal(20), Decimal(120)))

    accounts = Account.objects.filter(site__code="DEMO")
    assert done.opened == accounts.count() > 0
    assert not accounts.exclude(status=AccountStatus.OPEN).exists()
    held = AccountMeter.objects.filter(account__in=accounts, detached_at__isnull=True)
    local = held.filter(meter__cost_control=CostControl.LOCAL).count()
    assert (done.local_meters, done.remote_meters) == (local, held.count() - local)
    assert TariffAssignment.objects.get(tariff__code=TARIFF_CODE).scope == "site"
    settings = BillingSettings.objects.get(site__code="DEMO")
    assert (settings.alarm_1, settings.alarm_2) == (Decimal("50.00"), Decimal("20.00"))

    # Each local meter's money goes to the meter: one open-account command, the sale pending.
    commands = Command.objects.filter(kind="open_account")
    assert commands.count() == local
    assert not Command.objects.filter(kind="recharge").exists()
    assert set(commands.values_list("state", flat=True)) == {"queued"}
    assert (
        not Sale.objects.filter(meter__cost_control=CostControl.LOCAL)
        .exclude(delivery=Delivery.PENDING)
        .exists()
    )
    assert Meter.objects.filter(gateway__site__code="DEMO", lifecycle="opened").count() == (
        held.count()
    )

    # Every opening purchase is in the ledger, whole yuan within the range, and adds up.
    sales = Sale.objects.filter(kind__in=(SaleKind.OPENING, SaleKind.SALE))
    amounts = list(sales.values_list("amount", flat=True))
    assert all(Decimal(20) <= a <= Decimal(120) and a == a.to_integral() for a in amounts)
    assert sum(amounts) == done.amount
    opening = LedgerEntry.objects.filter(kind__in=(EntryKind.OPENING, EntryKind.SALE))
    assert opening.count() == len(amounts)
    assert sum(b.balance for b in AccountBalance.objects.all()) == done.amount

    again = open_sample_accounts(amounts=(Decimal(20), Decimal(120)))
    assert (again.opened, again.amount) == (0, Decimal("0.00"))
    assert Sale.objects.count() == len(amounts)
