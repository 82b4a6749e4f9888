"""Local cost control: sales queue money commands with purchase counts; delivery is settled when
the headend finishes the command."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from openprepaid.domain.billing import services
from openprepaid.domain.billing.models import LedgerEntry, MeterBilling, Sale
from openprepaid.domain.errors import ConflictError, ServiceError
from openprepaid.domain.metering.models import Command
from openprepaid.domain.metering.repository import DjangoRepository
from openprepaid.headend.model import CommandOutcome, CommandState

pytestmark = pytest.mark.django_db

T = dt.datetime(2026, 11, 24, 8, 0, tzinfo=dt.UTC)


def finish(command, *states):
    repo = DjangoRepository()
    for state in states:
        repo.finish_command(CommandOutcome(command.pk, CommandState(state), T))


def claim(command):
    Command.objects.filter(pk=command.pk).update(state="sending")


@pytest.fixture
def local(make_meter):
    return make_meter(cost_control="local")


@pytest.fixture
def opened(register, local, cashier):
    account = register(local)
    services.open_account(
        acting_user=cashier, account=account, amount="100", payment_method="cash", external_id="o"
    )
    return account


def test_opening_queues_one_open_account_command(opened, local):
    sale = Sale.objects.get(external_id="o")
    command = Command.objects.get()
    assert (command.meter, command.kind, command.state) == (local, "open_account", "queued")
    assert command.params == {
        "amount": "100.00",
        "purchase_count": 1,
        "customer": f"{opened.pk:012d}",
    }
    assert command.expires_at is None
    assert (sale.command, sale.purchase_count, sale.delivery) == (command, 1, "pending")
    entry = LedgerEntry.objects.get()
    assert (entry.meter, entry.amount, entry.balance_after) == (
        local,
        Decimal("100.00"),
        Decimal("100.00"),
    )


def test_a_sale_recharges_with_the_next_purchase_count(opened, local, cashier, report):
    report(local, purchase_count=5, account_opened=True)  # the meter already counts 5
    sale = services.sell(
        acting_user=cashier, account=opened, amount="50", payment_method="cash", external_id="s"
    )
    command = Command.objects.get(pk=sale.command_id)
    assert command.kind == "recharge"
    assert command.params["purchase_count"] == 6 == sale.purchase_count
    assert MeterBilling.objects.get(meter=local).purchase_count == 6
    assert Command.objects.filter(kind="recharge").count() == 1


def test_delivery_is_settled_when_the_command_is_confirmed(opened):
    sale = Sale.objects.get(external_id="o")
    finish(sale.command, "sending", "sent")
    sale.refresh_from_db()
    assert sale.delivery == "pending"
    finish(sale.command, "confirmed")
    sale.refresh_from_db()
    assert sale.delivery == "delivered"
    assert sale.delivered_at == T


def test_a_failed_delivery_gives_its_purchase_count_back(opened, local, cashier):
    sale = Sale.objects.get(external_id="o")
    finish(sale.command, "sending", "failed")
    sale.refresh_from_db()
    assert sale.delivery == "failed"
    assert MeterBilling.objects.get(meter=local).purchase_count == 0
    # The money stays on the meter's wallet until the failed sale is corrected.
    assert LedgerEntry.objects.get(sale=sale).meter == local
    services.correct(acting_user=cashier, sale=sale, external_id="c")
    retry = services.sell(
        acting_user=cashier, account=opened, amount="100", payment_method="cash", external_id="s2"
    )
    assert retry.purchase_count == 1
    assert Command.objects.get(pk=retry.command_id).kind == "open_account"


def test_correcting_a_queued_local_sale_supersedes_its_command(opened, local, cashier):
    sale = services.sell(
        acting_user=cashier, account=opened, amount="50", payment_method="cash", external_id="s"
    )
    services.correct(acting_user=cashier, sale=sale, external_id="c")
    command = Command.objects.get(pk=sale.command_id)
    sale.refresh_from_db()
    assert command.state == "superseded"
    assert sale.delivery == "failed"
    assert MeterBilling.objects.get(meter=local).purchase_count == 1


def test_a_local_sale_on_its_way_or_delivered_is_not_corrected(opened, cashier):
    sale = Sale.objects.get(external_id="o")
    claim(sale.command)
    with pytest.raises(ConflictError) as error:
        services.correct(acting_user=cashier, sale=sale, external_id="c")
    assert error.value.code == "delivery_in_progress"
    finish(sale.command, "confirmed")
    with pytest.raises(ConflictError) as error:
        services.correct(acting_user=cashier, sale=sale, external_id="c")
    assert error.value.code == "delivered_to_meter"
    assert not Sale.objects.filter(kind="correction").exists()


def test_an_earlier_pending_sale_is_not_corrected_before_a_later_one(opened, cashier):
    first = Sale.objects.get(external_id="o")
    services.sell(
        acting_user=cashier, account=opened, amount="5", payment_method="cash", external_id="s"
    )
    with pytest.raises(ConflictError) as error:
        services.correct(acting_user=cashier, sale=first, external_id="c")
    assert error.value.code == "later_delivery_pending"


def test_local_money_is_refunded_only_at_closing(opened, local, cashier):
    with pytest.raises(ServiceError) as error:
        services.refund(
            acting_user=cashier, account=opened, amount="10", external_id="r", meter=local
        )
    assert error.value.code == "local_refund_at_closing"
    with pytest.raises(ServiceError) as error:
        services.refund(acting_user=cashier, account=opened, amount="10", external_id="r")
    assert error.value.code == "refund_above_balance"


def test_several_local_meters_need_a_choice(register, make_meter, cashier):
    a, b = make_meter(cost_control="local"), make_meter(cost_control="local")
    account = register(a, b)
    with pytest.raises(ServiceError) as error:
        services.open_account(
            acting_user=cashier,
            account=account,
            amount="10",
            payment_method="cash",
            external_id="o",
        )
    assert error.value.code == "choose_meter"
    services.open_account(
        acting_user=cashier,
        account=account,
        amount="10",
        payment_method="cash",
        external_id="o",
        meter=b,
    )
    assert list(Command.objects.values_list("meter", "kind")) == [(b.pk, "open_account")]
    sale = services.sell(
        acting_user=cashier,
        account=account,
        amount="10",
        payment_method="cash",
        external_id="s",
        meter=a,
    )
    # a was never opened on the meter: its first money opens it.
    assert (sale.command.kind, sale.purchase_count) == ("open_account", 1)
