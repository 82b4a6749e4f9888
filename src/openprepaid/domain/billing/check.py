"""The ledger check: every account re-added from its entries, and the local meters' wallets.

- For each account: the sum of its entries against the cached :class:`AccountBalance` (and the
  number of entries), and each entry's ``balance_after`` against the running sum in entry
  order.
- For each locally controlled meter in an open account: the ledger's wallet of the meter (its
  entries except sales not delivered) against the balance the meter reported in its latest full
  reading (remaining − overdraft) — the reading the ledger mirrors. A meter with a sale on its
  way is not compared (its balance is about to change); it is counted apart.

Zero differences is the only pass.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Sum

from openprepaid.calc.money import ZERO
from openprepaid.domain.billing.engine import meter_wallets, reported_balance
from openprepaid.domain.billing.models import AccountBalance, Delivery, LedgerEntry, Sale
from openprepaid.domain.metering.models import MeterReading
from openprepaid.domain.sites.models import CostControl
from openprepaid.domain.tenants.models import Account, AccountMeter, AccountStatus


@dataclass(frozen=True, slots=True)
class Difference:
    kind: str  # "balance", "entries", "balance_after", "meter"
    account: str  # account number
    expected: Decimal  # what the ledger says
    found: Decimal  # what the cache, the entry or the meter says
    detail: str = ""

    def __str__(self) -> str:
        what = {
            "balance": "cached balance",
            "entries": "cached entry count",
            "balance_after": "balance after entry",
            "meter": "meter balance",
        }[self.kind]
        where = f" ({self.detail})" if self.detail else ""
        return (
            f"account {self.account}: {what} {self.found}, ledger {self.expected}, "
            f"difference {self.found - self.expected}{where}"
        )


@dataclass(slots=True)
class CheckResult:
    accounts: int = 0
    entries: int = 0
    meters: int = 0
    meters_waiting: int = 0  # local meters with a sale on its way, not compared
    differences: list[Difference] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


def check_ledger(site=None) -> CheckResult:
    """Check every account (of ``site``, or of all sites)."""
    result = CheckResult()
    accounts = Account.objects.all()
    if site is not None:
        accounts = accounts.filter(site=site)
    numbers = dict(accounts.values_list("pk", "number"))
    sums = {
        row["account_id"]: ((row["total"] or ZERO).quantize(ZERO), row["count"])
        for row in LedgerEntry.objects.filter(account_id__in=list(numbers))
        .values("account_id")
        .annotate(total=Sum("amount"), count=Count("id"))
    }
    cached = {
        row.account_id: row for row in AccountBalance.objects.filter(account_id__in=list(numbers))
    }
    for account_id, number in sorted(numbers.items()):
        total, count = sums.get(account_id, (ZERO, 0))
        row = cached.get(account_id)
        if row is None and not count:
            continue
        result.accounts += 1
        result.entries += count
        balance = row.balance if row is not None else ZERO
        if balance != total:
            result.differences.append(Difference("balance", number, total, balance))
        entries = row.entries if row is not None else 0
        if entries != count:
            result.differences.append(
                Difference("entries", number, Decimal(count), Decimal(entries))
            )
    _check_chains(result, numbers)
    _check_local_meters(result, numbers)
    return result


def _check_chains(result: CheckResult, numbers: dict[int, str]) -> None:
    running: dict[int, Decimal] = defaultdict(lambda: ZERO)
    rows = (
        LedgerEntry.objects.filter(account_id__in=list(numbers))
        .order_by("account_id", "id")
        .values_list("account_id", "id", "amount", "balance_after")
        .iterator(chunk_size=5000)
    )
    for account_id, entry_id, amount, balance_after in rows:
        running[account_id] += amount
        if running[account_id] != balance_after:
            result.differences.append(
                Difference(
                    "balance_after",
                    numbers[account_id],
                    running[account_id],
                    balance_after,
                    detail=f"entry {entry_id}",
                )
            )
            running[account_id] = balance_after  # report each break once


def _check_local_meters(result: CheckResult, numbers: dict[int, str]) -> None:
    members = list(
        AccountMeter.objects.filter(
            account_id__in=list(numbers),
            detached_at__isnull=True,
            account__status=AccountStatus.OPEN,
            meter__cost_control=CostControl.LOCAL,
        ).values_list("account_id", "meter_id", "meter__address")
    )
    if not members:
        return
    meter_ids = [m for _a, m, _addr in members]
    waiting = set(
        Sale.objects.filter(meter_id__in=meter_ids, delivery=Delivery.PENDING).values_list(
            "meter_id", flat=True
        )
    )
    wallets = meter_wallets(meter_ids)
    for account_id, meter_id, address in members:
        if meter_id in waiting:
            result.meters_waiting += 1
            continue
        latest = (
            MeterReading.objects.filter(meter_id=meter_id, remaining__isnull=False)
            .order_by("-read_at")
            .first()
        )
        if latest is None:
            continue  # never reported a balance
        result.meters += 1
        wallet = wallets.get((account_id, meter_id), ZERO)
        reported = reported_balance(latest)
        if reported != wallet:
            where = f"meter {address}"
            result.differences.append(
                Difference("meter", numbers[account_id], wallet, reported, detail=where)
            )
