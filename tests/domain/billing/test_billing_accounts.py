"""Closing accounts with settlement and swapping meters, in both cost-control modes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from openprepaid.domain.audit.models import SystemLog
from openprepaid.domain.billing import ledger, services
from openprepaid.domain.billing.ledger import Posting
from openprepaid.domain.billing.models import AccountBalance, LedgerEntry, MeterBilling, Sale
from openprepaid.domain.errors import PermissionDeniedError, ServiceError
from openprepaid.domain.metering.models import Command, MeterReading
from openprepaid.domain.metering.repository import DjangoRepository
from openprepaid.domain.tenants.models import AccountMeter
from openprepaid.headend.model import CommandOutcome, CommandState

pytestmark = pytest.mark.django_db


def entries(account):
    return list(
        LedgerEntry.objects.filter(account=account)
        .order_by("id")
        .values_list("kind", "meter", "amount", "balance_after")
    )


def deliver(sale):
    repo = DjangoRepository()
    for state in ("sending", "confirmed"):
        repo.finish_command(CommandOutcome(sale.command_id, CommandState(state), sale.created_at))


def open_with(register, meter, cashier, amount="100"):
    account = register(meter)
    sale = services.open_account(
        acting_user=cashier,
        account=account,
        amount=amount,
        payment_method="cash",
        external_id=f"o-{account.pk}",
    )
    return account, sale


def test_close_a_remote_account_pays_back_what_remains(register, make_meter, cashier, report):
    meter = make_meter()
    account, _ = open_with(register, meter, cashier)
    services.refund(acting_user=cashier, account=account, amount="30", external_id="r")
    report(meter, energy_total="1234.56")
    sale = services.close_account(acting_user=cashier, account=account, external_id="close")
    account.refresh_from_db()
    meter.refresh_from_db()
    assert sale.kind == "closing"
    assert sale.amount == Decimal("-70.00")
    assert entries(account)[-1] == ("closing", None, Decimal("-70.00"), Decimal("0.00"))
    assert LedgerEntry.objects.get(sale=sale).source["final"][str(meter.pk)]["energy_total"] == (
        "1234.56"
    )
    assert account.status == "closed"
    assert account.closed_at is not None
    assert meter.lifecycle == "not_opened"
    assert AccountMeter.objects.get(meter=meter).detached_at == account.closed_at
    assert AccountBalance.objects.get(account=account).balance == Decimal("0.00")
    assert SystemLog.objects.get(action="account.close").object_id == str(sale.pk)
    assert services.close_account(acting_user=cashier, account=account, external_id="close") == sale


def test_close_in_arrears_is_refused(register, make_meter, cashier):

    account, _ = open_with(register, make_meter(), cashier, amount="10")
    with transaction.atomic():
        ledger.post(
            account.pk,
            [Posting("consumption", Decimal("-12.50"), "use-1", timezone.now())],
            acting_user=None,
        )
    with pytest.raises(ServiceError) as error:
        services.close_account(acting_user=cashier, account=account, external_id="close")
    assert error.value.code == "arrears"
    assert "2.50" in error.value.message
    account.refresh_from_db()
    assert account.status == "open"
    assert not Sale.objects.filter(kind="closing").exists()


def test_close_a_local_account_refunds_the_meters_balance(register, make_meter, cashier, report):
    meter = make_meter(cost_control="local")
    account, opening = open_with(register, meter, cashier)
    deliver(opening)
    report(meter, remaining="63.50", overdraft="0.00", purchase_count=1)
    sale = services.close_account(acting_user=cashier, account=account, external_id="close")
    assert sale.amount == Decimal("-63.50")
    assert entries(account) == [
        ("opening", meter.pk, Decimal("100.00"), Decimal("100.00")),
        ("consumption", meter.pk, Decimal("-36.50"), Decimal("63.50")),
        ("closing", meter.pk, Decimal("-63.50"), Decimal("0.00")),
    ]


def test_close_waits_for_local_deliveries(register, make_meter, cashier, report):
    meter = make_meter(cost_control="local")
    account, _ = open_with(register, meter, cashier)
    report(meter, remaining="0.00")
    with pytest.raises(ServiceError) as error:
        services.close_account(acting_user=cashier, account=account, external_id="close")
    assert error.value.code == "delivery_pending"


def test_only_account_managers_close(register, make_meter, cashier, make_operator, site):
    account, _ = open_with(register, make_meter(), cashier)
    with pytest.raises(PermissionDeniedError):
        services.close_account(
            acting_user=make_operator("auditor", sites=[site]), account=account, external_id="c"
        )


def test_swap_a_remote_meter(register, make_meter, cashier, operations):
    old, new = make_meter(), make_meter()
    account, _ = open_with(register, old, cashier)
    MeterReading.objects.create(
        meter=new, read_at=old.created_at, energy_total=Decimal("3.20"), energy_flat=Decimal("3.20")
    )
    joined = services.swap_meter(
        acting_user=operations,
        old_meter=old,
        new_meter=new,
        external_id="swap",
        final_energy="4321.00",
    )
    old.refresh_from_db()
    new.refresh_from_db()
    assert joined.account == account
    assert joined.meter == new
    assert old.lifecycle == "retired"
    assert new.lifecycle == "opened"
    assert new.unit_id == old.unit_id
    assert AccountMeter.objects.get(meter=old).detached_at is not None
    assert AccountBalance.objects.get(account=account).balance == Decimal("100.00")
    cursor = MeterBilling.objects.get(meter=new)
    assert (cursor.energy_total, cursor.energy_flat) == (Decimal("3.20"), Decimal("3.20"))
    sale = Sale.objects.get(kind="swap")
    assert sale.amount == Decimal("0.00")
    assert sale.meter == new
    log = SystemLog.objects.get(action="meter.swap")
    assert log.after["final"] == {"energy_total": "4321.00"}
    assert SystemLog.objects.filter(action="meter.retire", object_id=str(old.pk)).exists()
    again = services.swap_meter(
        acting_user=operations, old_meter=old, new_meter=new, external_id="swap"
    )
    assert again == joined


def test_swap_a_local_meter_carries_its_balance(register, make_meter, cashier, operations, report):
    old, new = make_meter(cost_control="local"), make_meter(cost_control="local")
    account, opening = open_with(register, old, cashier)
    deliver(opening)
    report(old, remaining="40.00", purchase_count=1, account_opened=True)
    services.swap_meter(acting_user=operations, old_meter=old, new_meter=new, external_id="swap")
    assert entries(account) == [
        ("opening", old.pk, Decimal("100.00"), Decimal("100.00")),
        ("consumption", old.pk, Decimal("-60.00"), Decimal("40.00")),
        ("transfer", old.pk, Decimal("-40.00"), Decimal("0.00")),
        ("transfer", new.pk, Decimal("40.00"), Decimal("40.00")),
    ]
    command = Command.objects.get(meter=new)
    assert command.kind == "open_account"
    assert command.params == {
        "amount": "40.00",
        "purchase_count": 1,
        "customer": f"{account.pk:012d}",
    }
    sale = Sale.objects.get(kind="swap")
    assert (sale.command, sale.delivery, sale.purchase_count) == (command, "pending", 1)


def test_swap_needs_configure_and_a_new_meter(register, make_meter, cashier, operations):
    old, new = make_meter(), make_meter()
    open_with(register, old, cashier)
    with pytest.raises(PermissionDeniedError):
        services.swap_meter(acting_user=cashier, old_meter=old, new_meter=new, external_id="s")
    other, _ = open_with(register, make_meter(), cashier)
    taken = other.meters.get()
    with pytest.raises(ServiceError):
        services.swap_meter(acting_user=operations, old_meter=old, new_meter=taken, external_id="s")
    assert not Sale.objects.filter(kind="swap").exists()
    assert AccountMeter.objects.get(meter=old).detached_at is None
