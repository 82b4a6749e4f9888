"""Accounts at the sales desk: open (开户), close with settlement (销户), swap a meter (换表).

- **Open**: a registered account becomes open with its first purchase (an ``opening`` sale; the
  amount may be 0.00 for a pre-registered account opened with one click). Every meter it holds
  is marked opened; a local meter that receives money gets the ``open_account`` command.
  Permission ``MANAGE_TENANTS``.
- **Close**: settles with what the headend last stored. Each local meter's wallet is brought to
  the balance the meter last reported (a ``consumption`` entry for the difference, the use the
  mirror had not yet booked), then every wallet is paid out by ``closing`` entries: the meter's
  reported balance for each local meter, the rest of the account's wallet for remote meters.
  The closing sale's amount is minus the total paid back; the balance ends at 0.00. An account
  in arrears (the settlement would be negative) is refused (``arrears``): the cashier takes the
  money owed with a sale first. Refused too while a local sale is pending or failed and not
  corrected, and when a local meter has never reported its balance. The meters are detached,
  back to "not opened" (ready for the next tenant), the account closed. Permission
  ``MANAGE_TENANTS``. The final registers of each meter are kept in the closing entries'
  ``source``.
- **Swap**: the old meter is detached with its final reading (``final_energy`` or the last the
  headend stored) and retired; the new meter (same site, in service, in no account) takes the
  old meter's unit and joins the same account. A swap is a document (sale kind ``swap``, amount
  0.00, with a receipt number). Remote old meter: it is billed up to its final reading first —
  the readings stored since its cursor, then, when ``final_energy`` is given and above the total
  last priced, the interval from the cursor to now up to that total (one ``consumption`` entry
  through the billing engine); a ``final_energy`` below the total already billed is refused
  (``final_below_billed``, nothing written). The new meter's billing cursor starts at its latest
  stored registers (or at its first reading).
  Local old meter: its wallet is brought to its reported balance (or ``final_balance`` read off
  the meter's display when it can no longer be read), which moves by two ``transfer`` entries
  to the new meter (or to the account's wallet when the new meter is remote); a local new meter
  receives it by an ``open_account`` command. Permission ``CONFIGURE`` (operations swap
  meters; the sites service that retires the old meter asks for the same).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from openprepaid.calc.money import ZERO, AmountError, parse_money
from openprepaid.domain.audit.services import record
from openprepaid.domain.billing import engine, ledger
from openprepaid.domain.billing.ledger import Posting
from openprepaid.domain.billing.models import (
    EntryKind,
    MeterBilling,
    PaymentMethod,
    Sale,
    SaleKind,
)
from openprepaid.domain.billing.services import delivery
from openprepaid.domain.billing.services.documents import (
    amount_field,
    choose_meter,
    create_sale,
    current_meters,
    energy_field,
    entry_id,
    external_id_field,
    is_local,
    lock_account,
    payment_field,
    refuse_undelivered,
    replayed,
    reported_balance,
    sale_log,
    wallet,
)
from openprepaid.domain.billing.services.sales import _sell
from openprepaid.domain.errors import ConflictError, ServiceError
from openprepaid.domain.metering.models import MeterReading, MeterStatus
from openprepaid.domain.operators.permissions import require
from openprepaid.domain.operators.roles import Capability
from openprepaid.domain.sites import services as site_services
from openprepaid.domain.sites.models import Lifecycle, Meter
from openprepaid.domain.tenants.models import Account, AccountMeter, AccountStatus

REGISTERS = ("energy_total", "energy_sharp", "energy_peak", "energy_flat", "energy_valley")


@transaction.atomic
def open_account(
    *,
    acting_user,
    account: Account,
    amount: Decimal | str,
    payment_method: str,
    external_id: str,
    meter: Meter | None = None,
    note: str = "",
) -> Sale:
    """Open a registered account with its first purchase (``amount`` may be 0.00)."""
    require(acting_user, Capability.MANAGE_TENANTS, account.site_id)
    external_id = external_id_field(external_id)
    payment_method = payment_field(payment_method)
    amount = amount_field(amount, minimum=ZERO)
    lock_account(account)
    existing = replayed(
        external_id,
        kind=SaleKind.OPENING,
        account_id=account.pk,
        amount=amount,
        payment_method=payment_method,
        meter_id=None if meter is None else meter.pk,
    )
    if existing is not None:
        return existing
    if account.status == AccountStatus.CLOSED:
        raise ConflictError(_("The account is closed."), code="account_closed")
    if account.status == AccountStatus.OPEN:
        raise ConflictError(_("The account is already open."), code="account_open")
    meters = current_meters(account)
    if not meters:
        raise ServiceError(_("Attach a meter to the account first."), code="no_meter")
    now = timezone.now()
    account.status = AccountStatus.OPEN
    account.opened_at = now
    account.save(update_fields=["status", "opened_at"])
    sale = _sell(
        acting_user=acting_user,
        account=account,
        kind=SaleKind.OPENING,
        payment_method=payment_method,
        external_id=external_id,
        amount=amount,
        energy=None,
        meter=meter,
        note=note,
        action="account.open",
        minimum=ZERO,
    )
    # Meters that did not get a command now (remote ones) are opened with the account; a local
    # meter without money yet gets its open-account command with its first sale.
    remote = [m.pk for m in meters if not is_local(m)]
    Meter.objects.filter(pk__in=remote).update(lifecycle=Lifecycle.OPENED)
    return sale


@transaction.atomic
def close_account(
    *,
    acting_user,
    account: Account,
    external_id: str,
    payment_method: str = PaymentMethod.CASH,
    note: str = "",
) -> Sale:
    """Close an account with its final settlement: what remains is paid back."""
    require(acting_user, Capability.MANAGE_TENANTS, account.site_id)
    external_id = external_id_field(external_id)
    payment_method = payment_field(payment_method)
    balance = lock_account(account)
    existing = replayed(external_id, kind=SaleKind.CLOSING, account_id=account.pk)
    if existing is not None:
        return existing
    if account.status == AccountStatus.CLOSED:
        raise ConflictError(_("The account is closed."), code="account_closed")
    meters = current_meters(account)
    local = [m for m in meters if is_local(m)]
    refuse_undelivered(local)
    at = timezone.now()
    adjustments: list[tuple[Meter, Decimal, Decimal]] = []  # meter, reported, difference
    for meter in local:
        reported = reported_balance(meter)
        if reported is None:
            raise ServiceError(
                _("Meter %(meter)s has not reported its balance yet; read it first.")
                % {"meter": meter.address},
                code="no_meter_balance",
            )
        adjustments.append((meter, reported, reported - wallet(account, meter)))
    total = balance.balance + sum((d for _m, _r, d in adjustments), ZERO)
    if total < 0:
        raise ServiceError(
            _("The account owes %(amount)s yuan; take the payment with a sale first.")
            % {"amount": -total},
            code="arrears",
        )
    sale = create_sale(
        acting_user=acting_user,
        account=account,
        kind=SaleKind.CLOSING,
        amount=-total,
        external_id=external_id,
        at=at,
        payment_method=payment_method,
        meter=meters[0] if len(meters) == 1 else None,
        note=note,
    )
    finals = _final_readings(meters)
    postings = []
    for meter, reported, difference in adjustments:
        source = {"receipt": sale.receipt_number, "reported": str(reported)}
        if difference:
            postings.append(
                Posting(
                    kind=EntryKind.CONSUMPTION,
                    amount=difference,
                    external_id=entry_id(sale, f"use:{meter.pk}"),
                    effective_at=at,
                    meter_id=meter.pk,
                    sale_id=sale.pk,
                    source=source,
                )
            )
        if reported:
            postings.append(
                Posting(
                    kind=EntryKind.CLOSING,
                    amount=-reported,
                    external_id=entry_id(sale, f"meter:{meter.pk}"),
                    effective_at=at,
                    meter_id=meter.pk,
                    sale_id=sale.pk,
                    source=source | {"final": finals.get(meter.pk)},
                )
            )
    rest = total - sum((r for _m, r, _d in adjustments), ZERO)
    if rest:
        postings.append(
            Posting(
                kind=EntryKind.CLOSING,
                amount=-rest,
                external_id=entry_id(sale),
                effective_at=at,
                sale_id=sale.pk,
                source={
                    "receipt": sale.receipt_number,
                    "final": {str(k): v for k, v in finals.items()},
                },
            )
        )
    if postings:
        ledger.post(account.pk, postings, acting_user=acting_user)
    AccountMeter.objects.filter(account=account, detached_at__isnull=True).update(detached_at=at)
    Meter.objects.filter(pk__in=[m.pk for m in meters]).update(lifecycle=Lifecycle.NOT_OPENED)
    account.status = AccountStatus.CLOSED
    account.closed_at = at
    account.save(update_fields=["status", "closed_at"])
    record(
        acting_user=acting_user,
        action="account.close",
        obj=sale,
        after=sale_log(sale, meters=[m.pk for m in meters], final=finals),
    )
    return sale


@transaction.atomic
def swap_meter(
    *,
    acting_user,
    old_meter: Meter,
    new_meter: Meter,
    external_id: str,
    final_energy: Decimal | str | None = None,
    final_balance: Decimal | str | None = None,
    note: str = "",
) -> AccountMeter:
    """Replace ``old_meter`` by ``new_meter`` in its account (换表). Returns the new meter's
    membership."""
    site_id = old_meter.gateway.site_id
    require(acting_user, Capability.CONFIGURE, site_id)
    external_id = external_id_field(external_id)
    final_energy = (
        None if final_energy is None else energy_field(final_energy, field="final_energy")
    )
    if final_balance is not None:
        try:
            final_balance = parse_money(final_balance)
        except AmountError:
            raise ServiceError(
                field_errors={"final_balance": [_("An amount in yuan with at most 2 decimals.")]},
                code="amount",
            ) from None
    membership = (
        AccountMeter.objects.filter(meter=old_meter, detached_at__isnull=True)
        .select_related("account__site")
        .first()
    )
    done = Sale.objects.filter(external_id=external_id).first()
    if membership is None and done is None:
        raise ServiceError(
            _("Meter %(meter)s belongs to no account.") % {"meter": old_meter.address},
            code="meter_not_in_account",
        )
    account = membership.account if membership is not None else done.account
    lock_account(account)
    existing = replayed(
        external_id, kind=SaleKind.SWAP, account_id=account.pk, meter_id=new_meter.pk
    )
    if existing is not None:
        return AccountMeter.objects.filter(account=account, meter=new_meter).latest("attached_at")
    if membership is None:
        raise ServiceError(
            _("Meter %(meter)s belongs to no account.") % {"meter": old_meter.address},
            code="meter_not_in_account",
        )
    old_meter = choose_meter(account, old_meter)
    _check_new_meter(old_meter, new_meter)
    at = timezone.now()
    if not is_local(old_meter) and account.status == AccountStatus.OPEN:
        _bill_to_final(old_meter, membership, final_energy, at)
    if final_energy is None:
        final_energy = (
            MeterStatus.objects.filter(meter=old_meter)
            .values_list("energy_total", flat=True)
            .first()
        )
    postings: list[Posting] = []
    carried = ZERO
    sale = create_sale(
        acting_user=acting_user,
        account=account,
        kind=SaleKind.SWAP,
        amount=ZERO,
        external_id=external_id,
        at=at,
        meter=new_meter,
        note=note,
    )
    final = {"energy_total": None if final_energy is None else str(final_energy)}
    if is_local(old_meter):
        refuse_undelivered([old_meter])
        reported = final_balance if final_balance is not None else reported_balance(old_meter)
        if reported is None:
            raise ServiceError(
                _("Meter %(meter)s has not reported its balance; give the balance it shows.")
                % {"meter": old_meter.address},
                code="no_meter_balance",
            )
        if reported < 0:
            raise ServiceError(
                _("Meter %(meter)s is in overdraft; take the money owed with a sale first.")
                % {"meter": old_meter.address},
                code="arrears_on_meter",
            )
        final["balance"] = str(reported)
        source = {"receipt": sale.receipt_number, "final": final}
        difference = reported - wallet(account, old_meter)
        if difference:
            postings.append(
                Posting(
                    kind=EntryKind.CONSUMPTION,
                    amount=difference,
                    external_id=entry_id(sale, "use"),
                    effective_at=at,
                    meter_id=old_meter.pk,
                    sale_id=sale.pk,
                    source=source,
                )
            )
        if reported:
            carried = reported
            postings.append(
                Posting(
                    kind=EntryKind.TRANSFER,
                    amount=-reported,
                    external_id=entry_id(sale, "out"),
                    effective_at=at,
                    meter_id=old_meter.pk,
                    sale_id=sale.pk,
                    source=source | {"to_meter": new_meter.pk},
                )
            )
            postings.append(
                Posting(
                    kind=EntryKind.TRANSFER,
                    amount=reported,
                    external_id=entry_id(sale, "in"),
                    effective_at=at,
                    meter_id=new_meter.pk if is_local(new_meter) else None,
                    sale_id=sale.pk,
                    source=source | {"from_meter": old_meter.pk},
                )
            )
    if postings:
        ledger.post(account.pk, postings, acting_user=acting_user)
    AccountMeter.objects.filter(pk=membership.pk).update(detached_at=at)
    joined = AccountMeter.objects.create(account=account, meter=new_meter, attached_at=at)
    if new_meter.unit_id != old_meter.unit_id:
        Meter.objects.filter(pk=new_meter.pk).update(unit_id=old_meter.unit_id)
        new_meter.unit_id = old_meter.unit_id
    if account.status == AccountStatus.OPEN:
        if is_local(new_meter):
            if carried:
                delivery.queue_delivery(sale, new_meter, carried, acting_user=acting_user)
        else:
            Meter.objects.filter(pk=new_meter.pk).update(lifecycle=Lifecycle.OPENED)
            _start_cursor(new_meter)
    Meter.objects.filter(pk=old_meter.pk).update(lifecycle=Lifecycle.NOT_OPENED)
    old_meter.lifecycle = Lifecycle.NOT_OPENED
    site_services.retire_meter(old_meter, acting_user=acting_user)
    sale.refresh_from_db()
    record(
        acting_user=acting_user,
        action="meter.swap",
        obj=sale,
        after=sale_log(
            sale, old_meter=old_meter.pk, new_meter=new_meter.pk, final=final, carried=str(carried)
        ),
    )
    return joined


def _bill_to_final(
    meter: Meter, membership: AccountMeter, final_energy: Decimal | None, at: dt.datetime
) -> None:
    """Bill a remote meter leaving its account: the readings stored since its cursor, then —
    with a ``final_energy`` above the total last priced — the interval from the cursor to
    ``at`` up to that total. A final total below the one last priced is refused. Without a
    cursor (no reading since the meter joined the account) there is nothing to price from."""
    engine.bill_meters([meter.pk])
    if final_energy is None:
        return
    cursor = MeterBilling.objects.filter(meter_id=meter.pk).first()
    if (
        cursor is None
        or cursor.read_at is None
        or cursor.read_at < membership.attached_at
        or cursor.energy_total is None
    ):
        return
    if final_energy < cursor.energy_total:
        raise ServiceError(
            _(
                "The final reading %(final)s kWh is below %(priced)s kWh, the reading of meter "
                "%(meter)s already billed; check the meter's display."
            )
            % {"final": final_energy, "priced": cursor.energy_total, "meter": meter.address},
            field_errors={
                "final_energy": [
                    _("At least %(priced)s kWh, the reading already billed.")
                    % {"priced": cursor.energy_total}
                ]
            },
            code="final_below_billed",
        )
    if final_energy > cursor.energy_total:
        moment = max(at, cursor.read_at + dt.timedelta(seconds=1))
        engine.bill_final_reading(meter.pk, at=moment, energy_total=final_energy)


def _check_new_meter(old_meter: Meter, new_meter: Meter) -> None:
    if new_meter.pk == old_meter.pk:
        raise ServiceError(_("Choose another meter to swap in."), code="same_meter")
    if new_meter.gateway.site_id != old_meter.gateway.site_id:
        raise ServiceError(
            _("Meter %(meter)s is on another site.") % {"meter": new_meter.address},
            code="meter_other_site",
        )
    if new_meter.lifecycle != Lifecycle.NOT_OPENED:
        raise ConflictError(
            _("Meter %(meter)s is not a new meter (opened or retired).")
            % {"meter": new_meter.address},
            code="meter_not_new",
        )
    if AccountMeter.objects.filter(meter=new_meter, detached_at__isnull=True).exists():
        raise ConflictError(
            _("Meter %(meter)s already belongs to an account.") % {"meter": new_meter.address},
            code="meter_in_account",
        )


def _final_readings(meters: list[Meter]) -> dict[int, dict]:
    rows = MeterStatus.objects.filter(meter__in=meters).values(
        "meter_id", "energy_total", "remaining", "last_full_at"
    )
    return {
        row["meter_id"]: {
            "energy_total": None if row["energy_total"] is None else str(row["energy_total"]),
            "remaining": None if row["remaining"] is None else str(row["remaining"]),
            "read_at": None if row["last_full_at"] is None else row["last_full_at"].isoformat(),
        }
        for row in rows
    }


def _start_cursor(meter: Meter) -> None:
    """A remote meter swapped in is billed from its registers as they are now: its latest
    stored reading, or (none yet) from its first reading on."""
    reading = MeterReading.objects.filter(meter=meter).order_by("-read_at").first()
    billing = delivery.lock_meter_billing(meter.pk)
    billing.read_at = None if reading is None else reading.read_at
    for name in REGISTERS:
        setattr(billing, name, None if reading is None else getattr(reading, name))
    billing.save()
