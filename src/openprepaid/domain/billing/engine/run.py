"""What one billing run shares: the meters' memberships (:class:`Member`), the locks and the
cursors (:class:`MeterBilling`) it takes, and :class:`Run`, which collects postings, moved
cursors and alarms while the readings are priced and writes them all at once."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from openprepaid.domain.billing.engine import alarms
from openprepaid.domain.billing.ledger import Posting, post_bulk
from openprepaid.domain.billing.models import AccountBalance, BillingAlarm, MeterBilling
from openprepaid.domain.tenants.models import AccountMeter, AccountStatus

_CURSOR_FIELDS = [
    "read_at",
    "energy_total",
    "energy_sharp",
    "energy_peak",
    "energy_flat",
    "energy_valley",
    "cycle_key",
    "cycle_energy",
    "residue",
    "service_month",
    "updated_at",
]


@dataclass(slots=True)
class RunResult:
    readings: int = 0  # readings looked at
    priced: int = 0  # intervals priced (remote)
    entries: int = 0  # ledger entries written
    alarms: int = 0  # billing alarms raised


@dataclass(frozen=True, slots=True)
class Member:
    account_id: int
    attached_at: dt.datetime
    cost_control: str


def members(meter_ids: Iterable[int]) -> dict[int, Member]:
    """The meters of ``meter_ids`` that belong to an open account now, with that membership."""
    rows = AccountMeter.objects.filter(
        meter_id__in=list(meter_ids),
        detached_at__isnull=True,
        account__status=AccountStatus.OPEN,
    ).values_list("meter_id", "account_id", "attached_at", "meter__cost_control")
    return {m: Member(a, at, cost) for m, a, at, cost in rows}


def lock(members: dict[int, Member]) -> dict[int, MeterBilling]:
    """Lock the accounts' balance rows, then the meters' billing rows — in the order the sales
    desk takes them (balance, then meter), each in key order, so that billing and a sale on
    the same account never deadlock — and return the billing rows (created where missing)."""
    accounts = sorted({m.account_id for m in members.values()})
    list(
        AccountBalance.objects.select_for_update()
        .filter(account_id__in=accounts)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return _cursors(list(members))


def _cursors(meter_ids: list[int]) -> dict[int, MeterBilling]:
    present = set(
        MeterBilling.objects.filter(meter_id__in=meter_ids).values_list("meter_id", flat=True)
    )
    missing = [pk for pk in meter_ids if pk not in present]
    if missing:
        MeterBilling.objects.bulk_create(
            [MeterBilling(meter_id=pk) for pk in missing], ignore_conflicts=True
        )
    rows = MeterBilling.objects.select_for_update().filter(meter_id__in=meter_ids).order_by("pk")
    return {row.meter_id: row for row in rows}


class Run:
    """What one run collects before writing it all at once."""

    def __init__(self, result: RunResult, open_alarms: dict[tuple[int, str], BillingAlarm]):
        self.result = result
        self.open_alarms = open_alarms
        self.postings: dict[int, list[Posting]] = defaultdict(list)
        self.changed: set[int] = set()
        self.alarms: list[BillingAlarm] = []
        self.cleared: list[BillingAlarm] = []
        self.sites: dict[int, int] = {}

    def alarm(self, meter_id: int, account_id: int, detail: str, at, **values) -> None:
        if (meter_id, detail) in self.open_alarms:
            return  # one alarm per episode
        alarm = alarms.new_alarm(meter_id, account_id, detail, at, **values)
        self.open_alarms[(meter_id, detail)] = alarm
        self.alarms.append(alarm)

    def clear(self, meter_id: int, detail: str, at) -> None:
        alarm = self.open_alarms.pop((meter_id, detail), None)
        if alarm is None:
            return
        alarm.cleared_at = at
        if alarm.pk is not None:
            self.cleared.append(alarm)

    def finish(self, cursors: dict[int, MeterBilling]) -> None:
        if self.postings:
            self.result.entries += post_bulk(self.postings)
        if self.changed:
            _write_cursors([cursors[m] for m in sorted(self.changed)])
        alarms.write_alarms(self.alarms, self.cleared)
        self.result.alarms += len(self.alarms)


def _write_cursors(rows: list[MeterBilling]) -> None:
    """One ``UPDATE`` statement run for all rows (``bulk_update`` builds a ``CASE`` per field
    and row, which costs more than the pricing of a day's readings)."""
    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    fields = [MeterBilling._meta.get_field(name) for name in _CURSOR_FIELDS]
    table = MeterBilling._meta.db_table
    assignments = ", ".join(f"{ops.quote_name(f.column)} = %s" for f in fields)
    # Names from the model's metadata, values as parameters.
    sql = f"UPDATE {table} SET {assignments} WHERE {ops.quote_name('meter_id')} = %s"  # noqa: S608
    values = []
    for row in rows:
        params = [
            now
            if f.name == "updated_at"
            else f.get_db_prep_save(getattr(row, f.attname), connection)
            for f in fields
        ]
        params.append(row.meter_id)
        values.append(params)
    with connection.cursor() as cursor:
        cursor.executemany(sql, values)
