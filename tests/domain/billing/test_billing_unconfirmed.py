"""A money command the headend sent but could not settle by reading back ("unconfirmed: …")
may be on the meter: the sale stays pending with its purchase count, cannot be corrected, and is
queued again with the same purchase count when the meter next answers a poll."""

from __future__ import annotations

import datetime as dt

import pytest

from openprepaid.domain.audit.models import SystemLog
from openprepaid.domain.billing import services
from openprepaid.domain.billing.models import MeterBilling, Sale
from openprepaid.domain.errors import ConflictError
from openprepaid.domain.metering.models import Command
from openprepaid.domain.metering.repository import DjangoRepository
from openprepaid.headend.model import Batch, CommandOutcome, CommandState, Reading
from openprepaid.headend.money import UNCONFIRMED

pytestmark = pytest.mark.django_db

T = dt.datetime(2026, 11, 24, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
def sale(make_meter, register, cashier):
    meter = make_meter(cost_control="local")
    account = register(meter)
    services.open_account(
        acting_user=cashier, account=account, amount="100", payment_method="cash", external_id="o"
    )
    return Sale.objects.get(external_id="o")


def _fail_unconfirmed(command):
    repo = DjangoRepository()
    Command.objects.filter(pk=command.pk).update(state="sending")
    repo.finish_command(CommandOutcome(command.pk, CommandState.SENT, T))
    repo.finish_command(
        CommandOutcome(command.pk, CommandState.FAILED, T, f"{UNCONFIRMED}no reading back")
    )


def test_an_unconfirmed_failure_keeps_the_sale_pending_and_its_purchase_count(sale, cashier):
    first = sale.command
    _fail_unconfirmed(first)
    sale.refresh_from_db()
    assert (sale.delivery, sale.purchase_count, sale.command_id) == ("pending", 1, first.pk)
    assert MeterBilling.objects.get(meter=sale.meter).purchase_count == 1  # not given back
    with pytest.raises(ConflictError) as refused:
        services.correct(acting_user=cashier, sale=sale, external_id="c")
    assert refused.value.code == "delivery_uncertain"


def test_the_meter_answering_again_queues_the_same_command_once(sale):
    first = sale.command
    _fail_unconfirmed(first)
    repo = DjangoRepository()
    seen = Reading(sale.meter_id, T + dt.timedelta(minutes=1), kind="status", relay_open=False)
    repo.store(Batch(readings=(seen,)))
    repo.store(Batch(readings=(seen,)))  # the next batch finds it queued already: nothing more
    sale.refresh_from_db()
    again = sale.command
    assert again.pk != first.pk
    assert (again.kind, again.state, again.params) == ("open_account", "queued", first.params)
    # It carries the earlier attempt: a meter silent again leaves it unconfirmed, not failed.
    first.refresh_from_db()
    assert again.attempts == first.attempts >= 1
    assert Command.objects.filter(meter=sale.meter).count() == 2
    assert SystemLog.objects.filter(action="sale.redeliver").count() == 1
    # The headend confirms it (the meter shows the purchase count): the sale is delivered.
    Command.objects.filter(pk=again.pk).update(state="sending")
    repo.finish_command(CommandOutcome(again.pk, CommandState.CONFIRMED, T, "already on the meter"))
    sale.refresh_from_db()
    assert sale.delivery == "delivered"


def test_a_definite_failure_still_fails_the_sale(sale):
    repo = DjangoRepository()
    Command.objects.filter(pk=sale.command_id).update(state="sending")
    repo.finish_command(
        CommandOutcome(sale.command_id, CommandState.FAILED, T, "purchase count mismatch")
    )
    sale.refresh_from_db()
    assert sale.delivery == "failed"
    repo.store(Batch(readings=(Reading(sale.meter_id, T, kind="status"),)))
    assert Command.objects.filter(meter=sale.meter).count() == 1  # nothing queued again
