"""Carrying a sale's money to a meter in local cost control (本地费控).

A sale to a local meter allocates the meter's next purchase count and queues one money command
(``open_account`` for a meter not yet opened — it does not report being opened and no earlier
money command reached it or is on its way — else ``recharge``) with the parameters
``{"amount": "100.00", "purchase_count": N, "customer": "000000000042"}``; the sale is
``pending``. The headend writes it to the meter and confirms it by reading back the purchase
count; :func:`command_finished`, called by ``DjangoRepository.finish_command`` in the same
transaction, then settles the sale: ``delivered`` when the command is confirmed, ``failed`` when
it failed, expired or was superseded — except a failure the headend marks *unconfirmed* (the
command went on the wire but no read-back settled it: the money may be on the meter). Such a
sale stays ``pending`` with its purchase count, and :func:`retry_unconfirmed` queues the same
command again (same purchase count N) as soon as the meter answers a poll: the headend reads
the meter first, so N already on the meter is confirmed without sending, N−1 is sent. The new
command carries the earlier attempts, so a meter that falls silent again leaves it unconfirmed
(pending) rather than "not sent" (failed). Giving the count back or refunding would risk paying
twice.

A failed sale's money stays in the ledger on that meter's wallet: the cashier corrects it (冲正,
the money comes back out of the ledger) and sells again, or closes the account (closing refuses
while a sale is failed and not corrected).

Purchase counts: the next count is ``max(MeterBilling.purchase_count, the count the meter
reports) + 1``, taken under the ``MeterBilling`` row lock. When a command fails or is cancelled,
its count is given back: ``MeterBilling.purchase_count`` becomes the highest count still in use
(the meter's reported count, or a pending or delivered sale's), so the next sale carries the
count the meter expects.

The customer number on the meter is the account's database id as 12 digits (stable, unique in
the installation, independent of the account number's format).
"""

from __future__ import annotations

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from openprepaid.domain.audit.services import record
from openprepaid.domain.billing.models import Delivery, MeterBilling, Sale
from openprepaid.domain.errors import ConflictError, ServiceError
from openprepaid.domain.metering.models import Command, MeterStatus
from openprepaid.domain.metering.services import queue_money_command
from openprepaid.domain.sites.models import Lifecycle, Meter
from openprepaid.headend.model import CommandKind, CommandState, check_transition
from openprepaid.headend.money import UNCONFIRMED

SETTLED = {
    CommandState.CONFIRMED: Delivery.DELIVERED,
    CommandState.FAILED: Delivery.FAILED,
    CommandState.EXPIRED: Delivery.FAILED,
    CommandState.SUPERSEDED: Delivery.FAILED,
}


def customer_number(account) -> str:
    return f"{account.pk:012d}"


def reported_purchase_count(meter_id: int) -> int:
    rows = MeterStatus.objects.filter(meter_id=meter_id).values_list("purchase_count", flat=True)
    return rows.first() or 0


def lock_meter_billing(meter_id: int) -> MeterBilling:
    billing = MeterBilling.objects.select_for_update().filter(meter_id=meter_id).first()
    if billing is None:
        try:
            with transaction.atomic():
                MeterBilling.objects.create(meter_id=meter_id)
        except IntegrityError:
            pass  # created by a concurrent transaction: the lock below waits for it
        billing = MeterBilling.objects.select_for_update().get(meter_id=meter_id)
    return billing


def allocate_purchase_count(meter: Meter) -> int:
    billing = lock_meter_billing(meter.pk)
    count = max(billing.purchase_count, reported_purchase_count(meter.pk)) + 1
    billing.purchase_count = count
    billing.save(update_fields=["purchase_count", "updated_at"])
    return count


def queue_delivery(sale: Sale, meter: Meter, amount: Decimal, *, acting_user) -> Command:
    """Queue the command that carries ``amount`` of ``sale`` to ``meter`` and mark the sale
    pending (inside the sale's transaction)."""
    # Opened on the meter: it says so, or an earlier money command reached it or is on its way.
    opened_on_meter = (
        MeterStatus.objects.filter(meter_id=meter.pk, account_opened=True).exists()
        or Sale.objects.filter(
            meter_id=meter.pk, delivery__in=(Delivery.PENDING, Delivery.DELIVERED)
        )
        .exclude(pk=sale.pk)
        .exists()
    )
    kind = CommandKind.RECHARGE if opened_on_meter else CommandKind.OPEN_ACCOUNT
    count = allocate_purchase_count(meter)
    command = queue_money_command(
        meter,
        kind,
        {
            "amount": str(amount),
            "purchase_count": count,
            "customer": customer_number(sale.account),
        },
        acting_user,
    )
    sale.command = command
    sale.purchase_count = count
    sale.delivery = Delivery.PENDING
    sale.save(update_fields=["command", "purchase_count", "delivery"])
    if meter.lifecycle != Lifecycle.OPENED:
        Meter.objects.filter(pk=meter.pk).update(lifecycle=Lifecycle.OPENED)
        meter.lifecycle = Lifecycle.OPENED
    return command


def command_finished(command_id: int) -> Sale | None:
    """Settle the sale whose money ``command_id`` carries, once the command is final. Called
    inside the transaction that finished the command; does nothing for other commands, for
    commands not yet final and for sales already settled."""
    sale = Sale.objects.select_for_update().filter(command_id=command_id).first()
    if sale is None or sale.delivery != Delivery.PENDING:
        return sale
    command = Command.objects.get(pk=command_id)
    outcome = SETTLED.get(CommandState(command.state))
    if outcome is None or is_unconfirmed(command):
        return sale  # not final, or perhaps on the meter: stays pending (retry_unconfirmed)
    sale.delivery = outcome
    if outcome == Delivery.DELIVERED:
        sale.delivered_at = command.finished_at or timezone.now()
        sale.save(update_fields=["delivery", "delivered_at"])
    else:
        sale.save(update_fields=["delivery"])
        _give_back_count(sale)
    return sale


def is_unconfirmed(command: Command) -> bool:
    """A money command that failed after going on the wire without a read-back settling it."""
    return command.state == CommandState.FAILED and command.detail.startswith(UNCONFIRMED)


def retry_unconfirmed(meter_ids) -> int:
    """Queue again, with the same purchase count, the money commands of pending sales that
    failed *unconfirmed* on meters that have just answered a poll. One query when there are
    none (the headend calls this after each stored batch). Returns how many were queued."""
    ids = list(meter_ids)
    if not ids:
        return 0
    waiting = Sale.objects.filter(
        delivery=Delivery.PENDING,
        meter_id__in=ids,
        command__state=CommandState.FAILED,
        command__detail__startswith=UNCONFIRMED,
    )
    if not waiting.exists():
        return 0
    queued = 0
    with transaction.atomic():
        for sale in waiting.select_for_update(of=("self",)).select_related("command", "meter"):
            old = sale.command
            try:
                command = queue_money_command(
                    sale.meter, old.kind, old.params, None, attempts=max(1, old.attempts)
                )
            except ServiceError:
                continue  # the meter was retired meanwhile: the cashier settles it at the desk
            sale.command = command
            sale.save(update_fields=["command"])
            record(
                acting_user=None,
                action="sale.redeliver",
                obj=sale,
                site=sale.site,
                before={"command": old.pk, "detail": old.detail},
                after={"command": command.pk, "purchase_count": sale.purchase_count},
            )
            queued += 1
    return queued


def cancel_delivery(sale: Sale) -> None:
    """Stop a pending sale's command before it reaches the meter (a correction). Refused when
    the money is on the meter or on its way."""
    if sale.delivery == Delivery.DELIVERED:
        raise ConflictError(
            _("The money is already on the meter; it cannot be corrected."),
            code="delivered_to_meter",
        )
    if sale.delivery != Delivery.PENDING or sale.command_id is None:
        return
    command = Command.objects.select_for_update().get(pk=sale.command_id)
    state = CommandState(command.state)
    if state in (CommandState.SENDING, CommandState.SENT):
        raise ConflictError(
            _("The money is being written to the meter; wait for the outcome, then correct."),
            code="delivery_in_progress",
        )
    if state == CommandState.CONFIRMED:
        raise ConflictError(
            _("The money is already on the meter; it cannot be corrected."),
            code="delivered_to_meter",
        )
    if is_unconfirmed(command):
        raise ConflictError(
            _(
                "The money may already be on the meter: it is written again when the meter"
                " answers; correct it once the outcome is known."
            ),
            code="delivery_uncertain",
        )
    later = Sale.objects.filter(
        meter_id=sale.meter_id,
        delivery=Delivery.PENDING,
        purchase_count__gt=sale.purchase_count or 0,
    ).exists()
    if later:
        raise ConflictError(
            _("A later sale to this meter is waiting for delivery; correct that one first."),
            code="later_delivery_pending",
        )
    if state == CommandState.QUEUED:
        check_transition(state, CommandState.SUPERSEDED)
        now = timezone.now()
        Command.objects.filter(pk=command.pk).update(
            state=CommandState.SUPERSEDED,
            finished_at=now,
            updated_at=now,
            detail="cancelled by a correction at the sales desk",
        )
    sale.delivery = Delivery.FAILED
    sale.save(update_fields=["delivery"])
    _give_back_count(sale)


def _give_back_count(sale: Sale) -> None:
    if sale.meter_id is None or sale.purchase_count is None:
        return
    billing = lock_meter_billing(sale.meter_id)
    in_use = (
        Sale.objects.filter(
            meter_id=sale.meter_id,
            delivery__in=(Delivery.PENDING, Delivery.DELIVERED),
            purchase_count__isnull=False,
        ).aggregate(top=Max("purchase_count"))["top"]
        or 0
    )
    highest = max(in_use, reported_purchase_count(sale.meter_id))
    if billing.purchase_count > highest:
        billing.purchase_count = highest
        billing.save(update_fields=["purchase_count", "updated_at"])
