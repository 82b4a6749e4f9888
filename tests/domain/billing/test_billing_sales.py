from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from openprepaid.domain.audit.models import SystemLog
from openprepaid.domain.billing import ledger, services
from openprepaid.domain.billing.models import (
    AccountBalance,
    LedgerEntry,
    ReceiptCounter,
    Sale,
)
from openprepaid.domain.billing.services.tariffs import assign_tariff, create_tariff
from openprepaid.domain.errors import ConflictError, PermissionDeniedError, ServiceError

pytestmark = pytest.mark.django_db


def entries(account):
    return list(
        LedgerEntry.objects.filter(account=account)
        .order_by("id")
        .values_list("kind", "amount", "balance_after")
    )


def balance(account):
    return AccountBalance.objects.get(account=account).balance


def today():
    return timezone.localdate().strftime("%Y%m%d")


@pytest.fixture
def account(register, make_meter, cashier, next_id):
    account = register(make_meter())
    services.open_account(
        acting_user=cashier,
        account=account,
        amount="100.00",
        payment_method="cash",
        external_id="open-1",
    )
    return account


def test_open_account_with_first_purchase(register, make_meter, cashier):
    meter = make_meter()
    account = register(meter)
    sale = services.open_account(
        acting_user=cashier,
        account=account,
        amount=Decimal("100.00"),
        payment_method="cash",
        external_id="open-1",
    )
    account.refresh_from_db()
    meter.refresh_from_db()
    assert account.status == "open"
    assert account.opened_at is not None
    assert meter.lifecycle == "opened"
    assert sale.kind == "opening"
    assert sale.amount == Decimal("100.00")
    assert sale.receipt_number == f"MALL-{today()}-0001"
    assert sale.delivery == "not_needed"
    assert sale.command is None
    assert entries(account) == [("opening", Decimal("100.00"), Decimal("100.00"))]
    assert balance(account) == Decimal("100.00")
    log = SystemLog.objects.get(action="account.open")
    assert log.actor == cashier
    assert log.object_id == str(sale.pk)
    assert log.after["amount"] == "100.00"
    assert log.after["receipt_number"] == sale.receipt_number


def test_open_with_one_click_and_nothing_paid(register, make_meter, cashier):
    account = register(make_meter(), make_meter())  # 一户多表
    sale = services.open_account(
        acting_user=cashier, account=account, amount="0", payment_method="cash", external_id="o"
    )
    account.refresh_from_db()
    assert account.status == "open"
    assert sale.amount == Decimal("0.00")
    assert entries(account) == []
    with pytest.raises(ConflictError) as error:
        services.open_account(
            acting_user=cashier, account=account, amount="5", payment_method="cash", external_id="p"
        )
    assert error.value.code == "account_open"


def test_sell_by_amount(account, cashier):
    sale = services.sell(
        acting_user=cashier,
        account=account,
        amount="50.50",
        payment_method="card",
        external_id="pay-2",
    )
    assert sale.kind == "sale"
    assert sale.amount == Decimal("50.50")
    assert sale.receipt_number == f"MALL-{today()}-0002"
    assert entries(account) == [
        ("opening", Decimal("100.00"), Decimal("100.00")),
        ("sale", Decimal("50.50"), Decimal("150.50")),
    ]
    assert balance(account) == Decimal("150.50") == ledger.recompute(account.pk)
    assert SystemLog.objects.filter(action="sale.sell", object_id=str(sale.pk)).count() == 1


def test_sell_by_energy_at_the_meters_price(account, cashier, site, admin):
    tariff = create_tariff(
        acting_user=admin,
        site=site,
        code="FLAT",
        name="Flat",
        kind="flat",
        definition={"price": "1.2345"},
        effective_from=timezone.now() - timezone.timedelta(days=1),
    )
    assign_tariff(
        acting_user=admin,
        tariff=tariff,
        scope="site",
        effective_from=timezone.now() - timezone.timedelta(days=1),
    )
    sale = services.sell(
        acting_user=cashier, account=account, energy="10.00", payment_method="cash", external_id="e"
    )
    # 10.00 kWh × 1.2345 = 12.345 → 12.35 (half up)
    assert (sale.energy, sale.unit_price, sale.amount) == (
        Decimal("10.00"),
        Decimal("1.2345"),
        Decimal("12.35"),
    )
    assert entries(account)[-1] == ("sale", Decimal("12.35"), Decimal("112.35"))
    assert LedgerEntry.objects.get(sale=sale).energy == Decimal("10.00")


def test_sell_by_energy_without_a_tariff_is_refused(account, cashier):
    with pytest.raises(ServiceError) as error:
        services.sell(
            acting_user=cashier, account=account, energy="5", payment_method="cash", external_id="e"
        )
    assert error.value.code == "no_tariff"
    assert Sale.objects.count() == 1


def test_the_same_external_id_credits_once(account, cashier):
    first = services.sell(
        acting_user=cashier, account=account, amount="20", payment_method="online", external_id="tx"
    )
    again = services.sell(
        acting_user=cashier, account=account, amount="20", payment_method="online", external_id="tx"
    )
    assert again.pk == first.pk
    assert balance(account) == Decimal("120.00")
    assert LedgerEntry.objects.filter(sale=first).count() == 1
    assert SystemLog.objects.filter(action="sale.sell").count() == 1
    with pytest.raises(ConflictError) as error:
        services.sell(
            acting_user=cashier,
            account=account,
            amount="25",
            payment_method="online",
            external_id="tx",
        )
    assert error.value.code == "external_id_reused"
    with pytest.raises(ConflictError):
        services.refund(acting_user=cashier, account=account, amount="20", external_id="tx")
    assert balance(account) == Decimal("120.00")


def test_receipt_numbers_are_sequential_per_site_and_day(
    account, cashier, make_site, make_operator, next_id
):
    numbers = [
        services.sell(
            acting_user=cashier,
            account=account,
            amount="1",
            payment_method="cash",
            external_id=next_id(),
        ).receipt_number
        for _ in range(3)
    ]
    assert numbers == [f"MALL-{today()}-000{n}" for n in (2, 3, 4)]
    assert ReceiptCounter.objects.get(site=account.site).last == 4


def test_refund_up_to_the_balance(account, cashier):
    sale = services.refund(acting_user=cashier, account=account, amount="30", external_id="r1")
    assert sale.kind == "refund"
    assert sale.amount == Decimal("-30.00")
    assert entries(account)[-1] == ("refund", Decimal("-30.00"), Decimal("70.00"))
    with pytest.raises(ServiceError) as error:
        services.refund(acting_user=cashier, account=account, amount="70.01", external_id="r2")
    assert error.value.code == "refund_above_balance"
    assert balance(account) == Decimal("70.00")
    assert not Sale.objects.filter(external_id="r2").exists()
    assert SystemLog.objects.filter(action="sale.refund").count() == 1


def test_correction_reverses_a_sale_once(account, cashier):
    wrong = services.sell(
        acting_user=cashier, account=account, amount="500", payment_method="cash", external_id="w"
    )
    correction = services.correct(acting_user=cashier, sale=wrong, external_id="c", note="typo")
    assert correction.kind == "correction"
    assert correction.corrects == wrong
    assert correction.amount == Decimal("-500.00")
    original = LedgerEntry.objects.get(sale=wrong)
    reversal = LedgerEntry.objects.get(sale=correction)
    assert reversal.reverses == original
    assert entries(account)[-2:] == [
        ("sale", Decimal("500.00"), Decimal("600.00")),
        ("correction", Decimal("-500.00"), Decimal("100.00")),
    ]
    assert services.correct(acting_user=cashier, sale=wrong, external_id="c") == correction
    with pytest.raises(ConflictError) as error:
        services.correct(acting_user=cashier, sale=wrong, external_id="c2")
    assert error.value.code == "already_corrected"
    with pytest.raises(ConflictError) as error:
        services.correct(acting_user=cashier, sale=correction, external_id="c3")
    assert error.value.code == "correction_of_correction"
    assert balance(account) == Decimal("100.00")
    log = SystemLog.objects.get(action="sale.correct")
    assert log.after["corrects_receipt"] == wrong.receipt_number


def test_a_refund_can_be_corrected(account, cashier):
    refund = services.refund(acting_user=cashier, account=account, amount="40", external_id="r")
    services.correct(acting_user=cashier, sale=refund, external_id="c")
    assert entries(account)[-1] == ("correction", Decimal("40.00"), Decimal("100.00"))


@pytest.mark.parametrize("role", ["auditor", "operations"])
def test_only_cashiers_sell(account, make_operator, role, site):
    user = make_operator(role, sites=[site])
    with pytest.raises(PermissionDeniedError):
        services.sell(
            acting_user=user, account=account, amount="10", payment_method="cash", external_id="p"
        )
    with pytest.raises(PermissionDeniedError):
        services.refund(acting_user=user, account=account, amount="10", external_id="p")
    assert Sale.objects.count() == 1
    assert balance(account) == Decimal("100.00")


def test_a_cashier_of_another_site_cannot_sell(account, make_operator, other_site):
    user = make_operator("cashier", sites=[other_site])
    with pytest.raises(PermissionDeniedError):
        services.sell(
            acting_user=user, account=account, amount="10", payment_method="cash", external_id="p"
        )


def test_errors_leave_nothing_half_written(register, make_meter, cashier, account):
    registered = register(make_meter())
    with pytest.raises(ServiceError) as error:
        services.sell(
            acting_user=cashier,
            account=registered,
            amount="10",
            payment_method="cash",
            external_id="p",
        )
    assert error.value.code == "account_not_open"
    for bad in ({"amount": "0"}, {"amount": "1.234"}, {"amount": 1.5}, {}):
        with pytest.raises(ServiceError):
            services.sell(
                acting_user=cashier, account=account, payment_method="cash", external_id="q", **bad
            )
    with pytest.raises(ServiceError):
        services.sell(
            acting_user=cashier,
            account=account,
            amount="1",
            payment_method="bitcoin",
            external_id="q",
        )
    assert Sale.objects.count() == 1
    assert ReceiptCounter.objects.get().last == 1
    assert LedgerEntry.objects.count() == 1
    assert not AccountBalance.objects.filter(account=registered, balance__gt=0).exists()


def test_a_sale_must_name_one_of_the_accounts_meters(account, cashier, make_meter):
    with pytest.raises(ServiceError) as error:
        services.sell(
            acting_user=cashier,
            account=account,
            amount="10",
            payment_method="cash",
            external_id="p",
            meter=make_meter(),
        )
    assert error.value.code == "meter_not_in_account"
