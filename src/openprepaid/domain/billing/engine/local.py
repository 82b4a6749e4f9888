"""Local cost control: the meter holds the wallet and the ledger mirrors it. The meter's wallet
in the ledger (:func:`meter_wallets`) less what the meter reports (:func:`reported_balance`) is
its consumption; a meter showing more than the ledger raises the ledger-difference alarm."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.db.models import Max, Sum

from openprepaid.calc.money import ZERO
from openprepaid.domain.billing.engine.alarms import DIFFERENCE_DETAIL
from openprepaid.domain.billing.engine.run import Member, Run
from openprepaid.domain.billing.ledger import Posting
from openprepaid.domain.billing.models import Delivery, EntryKind, LedgerEntry, MeterBilling, Sale


def meter_wallets(meter_ids: Sequence[int]) -> dict[tuple[int, int], Decimal]:
    """The ledger's wallet of each local meter per account: its entries except sales not
    delivered to the meter (pending or failed)."""
    rows = (
        LedgerEntry.objects.filter(meter_id__in=list(meter_ids))
        .exclude(sale__delivery__in=[Delivery.PENDING, Delivery.FAILED])
        .values_list("account_id", "meter_id")
        .annotate(total=Sum("amount"))
    )
    return {(a, m): (total or ZERO).quantize(ZERO) for a, m, total in rows}


def reported_balance(reading) -> Decimal | None:
    """What the meter says it holds: remaining minus overdraft."""
    if reading.remaining is None:
        return None
    return reading.remaining - (reading.overdraft or ZERO)


def mirror_local(
    run: Run,
    meter_ids: list[int],
    members: dict[int, Member],
    cursors: dict[int, MeterBilling],
    by_meter: dict[int, list],
) -> None:
    """Post each local meter's consumption since its cursor from its latest usable reading (or
    raise / clear its ledger-difference alarm); a meter with a sale on its way waits."""
    pending = set(
        Sale.objects.filter(meter_id__in=meter_ids, delivery=Delivery.PENDING).values_list(
            "meter_id", flat=True
        )
    )
    delivered = dict(
        Sale.objects.filter(meter_id__in=meter_ids, delivery=Delivery.DELIVERED)
        .values_list("meter_id")
        .annotate(count=Max("purchase_count"))
    )
    wallets = meter_wallets(meter_ids)
    for meter_id in meter_ids:
        if meter_id in pending:
            continue  # a sale is on its way: the meter's balance is about to change
        member, cursor = members[meter_id], cursors[meter_id]
        latest = None
        for reading in by_meter[meter_id]:
            if reading.read_at < member.attached_at or reported_balance(reading) is None:
                continue
            if cursor.read_at is not None and reading.read_at <= cursor.read_at:
                continue
            last_count = delivered.get(meter_id)
            if (
                reading.purchase_count is not None
                and last_count
                and (reading.purchase_count < last_count)
            ):
                continue  # read before the last recharge reached the meter
            latest = reading
        if latest is None:
            continue
        wallet = wallets.get((member.account_id, meter_id), ZERO)
        difference = wallet - reported_balance(latest)
        if difference > 0:
            energy = None
            if cursor.energy_total is not None and latest.energy_total is not None:
                energy = max(latest.energy_total - cursor.energy_total, ZERO)
            run.postings[member.account_id].append(
                Posting(
                    kind=EntryKind.CONSUMPTION,
                    amount=-difference,
                    external_id=f"m:{meter_id}:{int(latest.read_at.timestamp())}",
                    effective_at=latest.read_at,
                    meter_id=meter_id,
                    energy=energy,
                    source={"reported": str(reported_balance(latest))},
                )
            )
        if difference < 0:
            run.alarm(
                meter_id,
                member.account_id,
                DIFFERENCE_DETAIL,
                latest.read_at,
                difference=difference,
                balance=reported_balance(latest),
            )
        else:
            run.clear(meter_id, DIFFERENCE_DETAIL, latest.read_at)
        cursor.read_at = latest.read_at
        if latest.energy_total is not None:
            cursor.energy_total = latest.energy_total
        run.changed.add(meter_id)
