"""Posting to the append-only ledger: the only code that writes :class:`LedgerEntry` rows and
changes :class:`AccountBalance`.

An account's balance is the sum of its entries. :func:`post` and :func:`post_bulk` lock each
account's balance row (``select_for_update``), skip postings whose ``external_id`` is already in
the ledger (a callback or a reading batch delivered twice posts once), compute ``balance_after``
for each new entry in order, insert them in one statement and move the cached balance. Both run
inside the caller's transaction: the entries, the balance and whatever the caller records
beside them (a sale, a system-log row, a command) commit together or not at all.

After the balances moved, :func:`openprepaid.domain.billing.control.after_post` re-evaluates the
accounts' alarm levels and the desired relay state of their meters, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from openprepaid.calc.money import ZERO, parse_energy, parse_money
from openprepaid.domain.billing.models import AccountBalance, EntryKind, LedgerEntry
from openprepaid.domain.errors import ConflictError


@dataclass(frozen=True, slots=True)
class Posting:
    """One entry to write. ``amount`` is signed money with at most 2 decimals (positive adds to
    the balance); ``external_id`` is unique in the whole ledger."""

    kind: EntryKind
    amount: Decimal
    external_id: str
    effective_at: datetime
    meter_id: int | None = None
    energy: Decimal | None = None
    sale_id: int | None = None
    reverses_id: int | None = None
    source: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.external_id:
            raise ValueError("a posting needs an external id")
        if self.kind not in EntryKind.values:
            raise ValueError(f"unknown entry kind {self.kind!r}")
        object.__setattr__(self, "amount", parse_money(self.amount))
        if self.energy is not None:
            object.__setattr__(self, "energy", parse_energy(self.energy))


def post(account_id: int, postings: Sequence[Posting], *, acting_user) -> list[LedgerEntry]:
    """Write ``postings`` to one account's ledger and move its cached balance. Returns one
    entry per posting, in order: the new entry, or the one already in the ledger under the
    same external id (which then posts nothing). Must run inside the caller's transaction."""
    _require_transaction()
    entries, _written = _post_locked({account_id: list(postings)}, acting_user=acting_user)
    return entries[account_id]


def post_bulk(postings: Mapping[int, Sequence[Posting]], *, acting_user=None) -> int:
    """Write postings for many accounts at once (the billing engine): balance rows locked in
    account order (so two bulk posts never deadlock), one insert for all entries. Returns the
    number of entries written (postings already in the ledger are skipped)."""
    _require_transaction()
    wanted = {account_id: list(items) for account_id, items in postings.items() if items}
    if not wanted:
        return 0
    _entries, written = _post_locked(wanted, acting_user=acting_user)
    return written


def recompute(account_id: int) -> Decimal:
    """The account's balance re-added from its entries (what ``check-ledger`` compares with the
    cached balance)."""
    total = LedgerEntry.objects.filter(account_id=account_id).aggregate(total=Sum("amount"))[
        "total"
    ]
    return (total or ZERO).quantize(ZERO)


def lock_balance(account_id: int) -> AccountBalance:
    """The account's balance row, locked for the rest of the transaction (created at zero if the
    account has none yet)."""
    _require_transaction()
    return _lock_balances([account_id])[account_id]


def _require_transaction() -> None:
    if not connection.in_atomic_block:
        raise RuntimeError("ledger postings must run inside the caller's transaction")


def _lock_balances(account_ids: Sequence[int]) -> dict[int, AccountBalance]:
    ids = sorted(set(account_ids))
    present = set(
        AccountBalance.objects.filter(account_id__in=ids).values_list("account_id", flat=True)
    )
    for account_id in ids:
        if account_id in present:
            continue
        try:
            with transaction.atomic():
                AccountBalance.objects.create(account_id=account_id)
        except IntegrityError:
            # Another transaction created it first; the lock below waits for it.
            pass
    rows = AccountBalance.objects.select_for_update().filter(account_id__in=ids).order_by("pk")
    return {row.account_id: row for row in rows}


def _post_locked(
    postings: dict[int, list[Posting]], *, acting_user
) -> tuple[dict[int, list[LedgerEntry]], int]:
    for items in postings.values():
        ids = [p.external_id for p in items]
        if len(set(ids)) != len(ids):
            raise ValueError("the same external id twice in one posting")
    balances = _lock_balances(list(postings))
    # Under the locks: what is already in the ledger stays as it is.
    all_ids = [p.external_id for items in postings.values() for p in items]
    existing: dict[str, LedgerEntry] = {}
    for chunk_start in range(0, len(all_ids), 500):
        chunk = all_ids[chunk_start : chunk_start + 500]
        for entry in LedgerEntry.objects.filter(external_id__in=chunk):
            existing[entry.external_id] = entry
    user = acting_user if getattr(acting_user, "pk", None) else None
    now = timezone.now()
    new_entries: list[LedgerEntry] = []
    result: dict[int, list[LedgerEntry]] = {}
    changed: list[AccountBalance] = []
    latest: datetime | None = None
    for account_id in sorted(postings):
        row = balances[account_id]
        balance = row.balance
        entries: list[LedgerEntry] = []
        added = 0
        for posting in postings[account_id]:
            old = existing.get(posting.external_id)
            if old is not None:
                if old.account_id != account_id:
                    raise ConflictError(
                        _("External id %(id)s is already used by another account.")
                        % {"id": posting.external_id},
                        code="external_id_reused",
                    )
                entries.append(old)
                continue
            balance += posting.amount
            entry = LedgerEntry(
                account_id=account_id,
                meter_id=posting.meter_id,
                kind=posting.kind,
                amount=posting.amount,
                energy=posting.energy,
                balance_after=balance,
                external_id=posting.external_id,
                sale_id=posting.sale_id,
                reverses_id=posting.reverses_id,
                source=posting.source,
                created_by=user,
                created_at=now,
                effective_at=posting.effective_at,
            )
            entries.append(entry)
            new_entries.append(entry)
            added += 1
            if latest is None or posting.effective_at > latest:
                latest = posting.effective_at
        result[account_id] = entries
        if added:
            row.balance = balance
            row.entries += added
            row.updated_at = now
            changed.append(row)
    if not new_entries:
        return result, 0
    LedgerEntry.objects.bulk_create(new_entries)
    _write_balances(changed)
    from openprepaid.domain.billing import control

    control.after_post(changed, at=latest)
    return result, len(new_entries)


def _write_balances(rows: Sequence[AccountBalance]) -> None:
    """One ``UPDATE`` run for all rows (``bulk_update`` builds a ``CASE`` per row and field,
    which costs more than the billing engine's pricing of a day of readings)."""
    if len(rows) == 1:
        AccountBalance.objects.filter(pk=rows[0].pk).update(
            balance=rows[0].balance, entries=rows[0].entries, updated_at=rows[0].updated_at
        )
        return
    ops = connection.ops
    table = ops.quote_name(AccountBalance._meta.db_table)
    sql = (
        f"UPDATE {table} SET balance = %s, entries = %s, updated_at = %s"  # noqa: S608
        " WHERE account_id = %s"
    )
    with connection.cursor() as cursor:
        cursor.executemany(
            sql,
            [
                (
                    ops.adapt_decimalfield_value(row.balance, 14, 2),
                    row.entries,
                    ops.adapt_datetimefield_value(row.updated_at),
                    row.account_id,
                )
                for row in rows
            ],
        )
