"""What every sales-desk verb shares: amounts checked, the account locked, the external id made
idempotent, the meter chosen, the sale document with its receipt number, the wallets of local
meters."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from openprepaid.calc.money import ZERO, AmountError, parse_energy, parse_money
from openprepaid.domain.billing import ledger
from openprepaid.domain.billing.models import (
    AccountBalance,
    Delivery,
    LedgerEntry,
    PaymentMethod,
    Sale,
    SaleKind,
)
from openprepaid.domain.billing.services.receipts import next_receipt_number
from openprepaid.domain.errors import ConflictError, ServiceError
from openprepaid.domain.metering.models import MeterStatus
from openprepaid.domain.sites.models import CostControl, Meter
from openprepaid.domain.tenants.models import Account, AccountMeter, AccountStatus

MAX_AMOUNT = Decimal("999999.99")
MIN_AMOUNT = Decimal("0.01")


def amount_field(value: Any, *, field: str = "amount", minimum: Decimal = MIN_AMOUNT) -> Decimal:
    try:
        return parse_money(value, minimum=minimum, maximum=MAX_AMOUNT)
    except AmountError:
        raise ServiceError(
            field_errors={
                field: [
                    _("An amount from %(min)s to %(max)s yuan with at most 2 decimals.")
                    % {"min": minimum, "max": MAX_AMOUNT}
                ]
            },
            code="amount",
        ) from None


def energy_field(value: Any, *, field: str = "energy") -> Decimal:
    try:
        return parse_energy(value, minimum=Decimal("0.01"), maximum=MAX_AMOUNT)
    except AmountError:
        raise ServiceError(
            field_errors={field: [_("Energy above zero in kWh with at most 2 decimals.")]},
            code="energy",
        ) from None


def payment_field(value: Any) -> str:
    if value not in PaymentMethod.values:
        raise ServiceError(
            field_errors={"payment_method": [_("Unknown payment method.")]}, code="payment_method"
        )
    return str(value)


def external_id_field(value: Any) -> str:
    text = str(value or "").strip()
    if not text or len(text) > 64:
        raise ServiceError(
            field_errors={"external_id": [_("Give an external id of 1 to 64 characters.")]},
            code="external_id",
        )
    return text


def lock_account(account: Account) -> AccountBalance:
    """Lock the account's balance row for the rest of the transaction and refresh the account
    (its status may have changed while we waited)."""
    balance = ledger.lock_balance(account.pk)
    account.refresh_from_db(fields=["status", "opened_at", "closed_at"])
    return balance


def replayed(external_id: str, **expected: Any) -> Sale | None:
    """The sale already made under ``external_id`` when it matches ``expected`` (field → value;
    ``None`` values are not compared), ``None`` when there is none; a sale that differs raises
    ``ConflictError`` with code ``external_id_reused``."""
    sale = Sale.objects.filter(external_id=external_id).first()
    if sale is None:
        return None
    for name, value in expected.items():
        if value is not None and getattr(sale, name) != value:
            raise ConflictError(
                _("External id %(id)s was already used for another operation.")
                % {"id": external_id},
                code="external_id_reused",
            )
    return sale


def require_open(account: Account) -> None:
    if account.status == AccountStatus.CLOSED:
        raise ConflictError(_("The account is closed."), code="account_closed")
    if account.status != AccountStatus.OPEN:
        raise ServiceError(
            _("The account is not open yet; open it with its first purchase."),
            code="account_not_open",
        )


def current_meters(account: Account) -> list[Meter]:
    return [
        m.meter
        for m in AccountMeter.objects.filter(account=account, detached_at__isnull=True)
        .select_related("meter__unit", "meter__gateway")
        .order_by("meter__address")
    ]


def choose_meter(
    account: Account, meter: Meter | None, *, need_meter: bool = False
) -> Meter | None:
    """The meter a sale goes to. A named meter must belong to the account now. Without one: the
    account's only local meter when it holds local meters only; no meter (the account's wallet)
    when it holds remote meters only — unless ``need_meter`` (a sale by energy is priced by a
    meter's tariff), which then takes its only meter. Anything else asks to choose."""
    meters = current_meters(account)
    if meter is not None:
        if meter.pk not in {m.pk for m in meters}:
            raise ServiceError(
                _("Meter %(meter)s does not belong to this account.") % {"meter": meter.address},
                code="meter_not_in_account",
            )
        return next(m for m in meters if m.pk == meter.pk)
    local = [m for m in meters if m.cost_control == CostControl.LOCAL]
    if not local and not need_meter:
        return None
    if len(meters) == 1:
        return meters[0]
    if not meters:
        raise ServiceError(_("The account holds no meter."), code="no_meter")
    raise ServiceError(
        _("The account holds several meters; choose the meter."), code="choose_meter"
    )


def is_local(meter: Meter | None) -> bool:
    return meter is not None and meter.cost_control == CostControl.LOCAL


def wallet(account: Account, meter: Meter) -> Decimal:
    """The money of ``account`` on a local meter's wallet according to the ledger."""
    total = LedgerEntry.objects.filter(account=account, meter=meter).aggregate(t=Sum("amount"))["t"]
    return (total or ZERO).quantize(ZERO)


def local_wallets(account: Account) -> Decimal:
    total = LedgerEntry.objects.filter(
        account=account, meter__cost_control=CostControl.LOCAL
    ).aggregate(t=Sum("amount"))["t"]
    return (total or ZERO).quantize(ZERO)


def reported_balance(meter: Meter) -> Decimal | None:
    """What a local meter last reported holding: remaining minus overdraft (``None`` when the
    headend has not read it)."""
    row = MeterStatus.objects.filter(meter=meter).values("remaining", "overdraft").first()
    if row is None or row["remaining"] is None:
        return None
    return (row["remaining"] - (row["overdraft"] or ZERO)).quantize(ZERO)


def refuse_undelivered(meters: list[Meter]) -> None:
    """Closing or swapping settles with what a local meter holds; sales still on their way or
    failed and not corrected would be lost in that settlement."""
    undelivered = Sale.objects.filter(
        meter__in=meters, delivery__in=(Delivery.PENDING, Delivery.FAILED)
    ).exclude(corrections__isnull=False)
    pending = undelivered.filter(delivery=Delivery.PENDING).first()
    if pending is not None:
        raise ConflictError(
            _("Sale %(receipt)s is still on its way to the meter; wait for it.")
            % {"receipt": pending.receipt_number},
            code="delivery_pending",
        )
    failed = undelivered.first()
    if failed is not None:
        raise ConflictError(
            _("Sale %(receipt)s did not reach the meter; correct it first.")
            % {"receipt": failed.receipt_number},
            code="delivery_failed",
        )


def create_sale(
    *,
    acting_user,
    account: Account,
    kind: SaleKind,
    amount: Decimal,
    external_id: str,
    at: dt.datetime,
    payment_method: str = PaymentMethod.CASH,
    meter: Meter | None = None,
    energy: Decimal | None = None,
    unit_price: Decimal | None = None,
    corrects: Sale | None = None,
    note: str = "",
) -> Sale:
    receipt = next_receipt_number(account.site, at)
    try:
        with transaction.atomic():
            return Sale.objects.create(
                site_id=account.site_id,
                receipt_number=receipt,
                external_id=external_id,
                kind=kind,
                account=account,
                meter=meter,
                amount=amount,
                energy=energy,
                unit_price=unit_price,
                payment_method=payment_method,
                corrects=corrects,
                note=(note or "").strip()[:200],
                cashier=acting_user if getattr(acting_user, "pk", None) else None,
            )
    except IntegrityError:
        # The same external id committed by a concurrent request for another account.
        raise ConflictError(
            _("External id %(id)s was already used for another operation.") % {"id": external_id},
            code="external_id_reused",
        ) from None


def entry_id(sale: Sale, part: str = "") -> str:
    return f"sale:{sale.pk}:{part}" if part else f"sale:{sale.pk}"


def sale_log(sale: Sale, **extra: Any) -> dict[str, Any]:
    data = {
        "receipt_number": sale.receipt_number,
        "external_id": sale.external_id,
        "kind": sale.kind,
        "account": sale.account_id,
        "meter": sale.meter_id,
        "amount": str(sale.amount),
        "payment_method": sale.payment_method,
    }
    if sale.energy is not None:
        data["energy"] = str(sale.energy)
    if sale.unit_price is not None:
        data["unit_price"] = str(sale.unit_price)
    if sale.purchase_count is not None:
        data["purchase_count"] = sale.purchase_count
    if sale.corrects_id is not None:
        data["corrects"] = sale.corrects_id
    data.update(extra)
    return data
