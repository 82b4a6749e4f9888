"""The sales desk (售电): sell by amount or by energy, refund (退电), correct (冲正).

Each verb is one transaction: permission (``SELL``), the account's balance row locked first
(then the day's receipt counter, then a local meter's billing row — always in this order, so
concurrent verbs never deadlock), the external id checked (the same id returns the sale already
made and posts nothing; the same id with other data is ``external_id_reused``), the sale document
with its receipt number, the ledger entries, the command to a local meter, the system-log row.

- A sale to a **remote** meter (or to an account holding only remote meters) credits the
  account's wallet (ledger entries without a meter). A sale to a **local** meter credits that
  meter's wallet and queues the command that writes the money to the meter
  (:mod:`.delivery`).
- A **refund** pays back from the account's wallet, at most what it holds (the balance less the
  money held by its local meters). Money on a local meter is refunded only when the account is
  closed (the meter's reported balance is what is paid back), so a refund naming a local meter is
  refused (``local_refund_at_closing``); a local sale that failed to reach its meter is
  corrected instead.
- A **correction** reverses every ledger entry of one sale, opening sale or refund (entries of
  kind ``correction`` linked by ``reverses``), as a new sale document of kind ``correction``
  pointing at it. A sale is corrected at most once; corrections, closings and swaps are not
  corrected. A local sale whose money reached the meter is not corrected
  (``delivered_to_meter``); one still queued has its command superseded; one being written is
  refused until the outcome is known (``delivery_in_progress``).
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from openprepaid.calc.money import money
from openprepaid.domain.audit.services import record
from openprepaid.domain.billing import ledger
from openprepaid.domain.billing.ledger import Posting
from openprepaid.domain.billing.models import EntryKind, LedgerEntry, PaymentMethod, Sale, SaleKind
from openprepaid.domain.billing.services import delivery
from openprepaid.domain.billing.services.documents import (
    amount_field,
    choose_meter,
    create_sale,
    energy_field,
    entry_id,
    external_id_field,
    is_local,
    local_wallets,
    lock_account,
    payment_field,
    replayed,
    require_open,
    sale_log,
)
from openprepaid.domain.errors import ConflictError, ServiceError
from openprepaid.domain.operators.permissions import require
from openprepaid.domain.operators.roles import Capability
from openprepaid.domain.sites.models import Meter
from openprepaid.domain.tenants.models import Account

#: Sale kinds a correction may reverse.
CORRECTABLE = (SaleKind.OPENING, SaleKind.SALE, SaleKind.REFUND)


@transaction.atomic
def sell(
    *,
    acting_user,
    account: Account,
    payment_method: str,
    external_id: str,
    amount: Decimal | str | None = None,
    energy: Decimal | str | None = None,
    meter: Meter | None = None,
    note: str = "",
) -> Sale:
    """Sell electricity to an open account, by ``amount`` (yuan) or by ``energy`` (kWh, priced
    at the meter's sale unit price now, the amount rounded half-up to fen)."""
    require(acting_user, Capability.SELL, account.site_id)
    external_id = external_id_field(external_id)
    payment_method = payment_field(payment_method)
    if (amount is None) == (energy is None):
        raise ServiceError(_("Sell either an amount or an energy."), code="amount_or_energy")
    amount = None if amount is None else amount_field(amount)
    energy = None if energy is None else energy_field(energy)
    lock_account(account)
    existing = replayed(
        external_id,
        kind=SaleKind.SALE,
        account_id=account.pk,
        amount=amount,
        energy=energy,
        payment_method=payment_method,
        meter_id=None if meter is None else meter.pk,
    )
    if existing is not None:
        return existing
    require_open(account)
    return _sell(
        acting_user=acting_user,
        account=account,
        kind=SaleKind.SALE,
        payment_method=payment_method,
        external_id=external_id,
        amount=amount,
        energy=energy,
        meter=meter,
        note=note,
        action="sale.sell",
    )


def _sell(
    *,
    acting_user,
    account: Account,
    kind: SaleKind,
    payment_method: str,
    external_id: str,
    amount: Decimal | None,
    energy: Decimal | None,
    meter: Meter | None,
    note: str,
    action: str,
    minimum: Decimal = Decimal("0.01"),
) -> Sale:
    """A sale or an opening purchase, once the account is locked and the external id is new."""
    at = timezone.now()
    meter = choose_meter(account, meter, need_meter=energy is not None)
    unit_price = None
    if energy is not None:
        from openprepaid.domain.billing import pricing

        unit_price = pricing.sale_unit_price(meter, at)
        amount = amount_field(money(energy * unit_price), minimum=minimum)
    sale = create_sale(
        acting_user=acting_user,
        account=account,
        kind=kind,
        amount=amount,
        external_id=external_id,
        at=at,
        payment_method=payment_method,
        meter=meter,
        energy=energy,
        unit_price=unit_price,
        note=note,
    )
    local = is_local(meter)
    if amount:
        ledger.post(
            account.pk,
            [
                Posting(
                    kind=EntryKind.OPENING if kind == SaleKind.OPENING else EntryKind.SALE,
                    amount=amount,
                    external_id=entry_id(sale),
                    effective_at=at,
                    meter_id=meter.pk if local else None,
                    energy=energy,
                    sale_id=sale.pk,
                    source={"receipt": sale.receipt_number},
                )
            ],
            acting_user=acting_user,
        )
    if local:
        delivery.queue_delivery(sale, meter, amount, acting_user=acting_user)
    record(acting_user=acting_user, action=action, obj=sale, after=sale_log(sale))
    return sale


@transaction.atomic
def refund(
    *,
    acting_user,
    account: Account,
    amount: Decimal | str,
    external_id: str,
    meter: Meter | None = None,
    payment_method: str = PaymentMethod.CASH,
    note: str = "",
) -> Sale:
    """Pay money back from the account's wallet (at most what it holds)."""
    require(acting_user, Capability.SELL, account.site_id)
    external_id = external_id_field(external_id)
    payment_method = payment_field(payment_method)
    amount = amount_field(amount)
    balance = lock_account(account)
    existing = replayed(
        external_id,
        kind=SaleKind.REFUND,
        account_id=account.pk,
        amount=-amount,
        meter_id=None if meter is None else meter.pk,
    )
    if existing is not None:
        return existing
    require_open(account)
    if meter is not None:
        meter = choose_meter(account, meter)
    if is_local(meter):
        raise ServiceError(
            _(
                "Money on a local meter is refunded when the account is closed; a sale that "
                "did not reach the meter is corrected."
            ),
            code="local_refund_at_closing",
        )
    refundable = balance.balance - local_wallets(account)
    if amount > refundable:
        raise ServiceError(
            _("At most %(amount)s yuan can be refunded.") % {"amount": max(refundable, 0)},
            code="refund_above_balance",
        )
    at = timezone.now()
    sale = create_sale(
        acting_user=acting_user,
        account=account,
        kind=SaleKind.REFUND,
        amount=-amount,
        external_id=external_id,
        at=at,
        payment_method=payment_method,
        meter=meter,
        note=note,
    )
    ledger.post(
        account.pk,
        [
            Posting(
                kind=EntryKind.REFUND,
                amount=-amount,
                external_id=entry_id(sale),
                effective_at=at,
                sale_id=sale.pk,
                source={"receipt": sale.receipt_number},
            )
        ],
        acting_user=acting_user,
    )
    record(acting_user=acting_user, action="sale.refund", obj=sale, after=sale_log(sale))
    return sale


@transaction.atomic
def correct(*, acting_user, sale: Sale, external_id: str, note: str = "") -> Sale:
    """Reverse a wrong sale (冲正) with a correction document and linked reversing entries."""
    require(acting_user, Capability.SELL, sale.site_id)
    external_id = external_id_field(external_id)
    account = sale.account
    lock_account(account)
    sale = Sale.objects.select_for_update().get(pk=sale.pk)
    existing = replayed(
        external_id, kind=SaleKind.CORRECTION, account_id=account.pk, corrects_id=sale.pk
    )
    if existing is not None:
        return existing
    if sale.kind == SaleKind.CORRECTION:
        raise ConflictError(_("A correction cannot be corrected."), code="correction_of_correction")
    if sale.kind not in CORRECTABLE:
        raise ConflictError(
            _("A %(kind)s cannot be corrected.") % {"kind": sale.get_kind_display().lower()},
            code="not_correctable",
        )
    if sale.corrections.exists():
        raise ConflictError(_("This sale is already corrected."), code="already_corrected")
    require_open(account)
    delivery.cancel_delivery(sale)
    entries = list(
        LedgerEntry.objects.filter(sale=sale).exclude(reversed_by__isnull=False).order_by("id")
    )
    at = timezone.now()
    correction = create_sale(
        acting_user=acting_user,
        account=account,
        kind=SaleKind.CORRECTION,
        amount=-sale.amount,
        external_id=external_id,
        at=at,
        payment_method=sale.payment_method,
        meter=sale.meter,
        energy=None if sale.energy is None else -sale.energy,
        unit_price=sale.unit_price,
        corrects=sale,
        note=note,
    )
    if entries:
        ledger.post(
            account.pk,
            [
                Posting(
                    kind=EntryKind.CORRECTION,
                    amount=-entry.amount,
                    external_id=entry_id(correction, str(entry.pk)),
                    effective_at=at,
                    meter_id=entry.meter_id,
                    energy=None if entry.energy is None else -entry.energy,
                    sale_id=correction.pk,
                    reverses_id=entry.pk,
                    source={
                        "receipt": correction.receipt_number,
                        "corrects": sale.receipt_number,
                    },
                )
                for entry in entries
            ],
            acting_user=acting_user,
        )
    record(
        acting_user=acting_user,
        action="sale.correct",
        obj=correction,
        after=sale_log(correction, corrects_receipt=sale.receipt_number),
    )
    return correction
