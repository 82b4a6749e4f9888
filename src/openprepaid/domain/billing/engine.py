"""The billing engine: new readings become ledger entries.

**Remote cost control.** For each meter in an open account, the readings after the meter's
cursor (:class:`MeterBilling`) are priced one interval at a time with
``openprepaid.calc.tariffs.price_interval`` (tariff register deltas; tiers by the energy of the
tier cycle carried in the cursor). The first reading after the meter joined the account only sets
the cursor. One run posts one consumption entry per meter — the exact amounts of all the
intervals it priced plus the residue carried from before, rounded once; the new residue is
carried — with the external id ``c:<meter>:<epoch of the last reading>``, and a monthly service
charge once per month (``s:<account>:<meter>:<YYYY-MM>``). The cursor only moves forward and the
ledger skips known external ids, so a batch delivered twice bills once.

Registers going backwards (a reading below the cursor) are not charged: the cursor stays, a
tamper alarm is raised once (until the registers are above the cursor again, which clears it),
and pricing resumes from the cursor. A meter no tariff applies to is not priced (nor loaded): its
cursor waits, and once a tariff is assigned — from a date in the past if need be — the readings
since the cursor are priced. Energy before a tariff's first start has no price: the cursor moves
over it without a charge.

**Local cost control.** The meter holds the wallet; the ledger mirrors it. The meter's wallet in
the ledger is the sum of the account's entries for that meter except sales not (yet) delivered
to it. When the meter reports less than that, the difference is the meter's consumption and is
posted (``m:<meter>:<epoch>``); when it reports more, a ``ledger_difference`` alarm is raised
once per episode (cleared when they agree again). While a sale is on its way to the meter, or
for a reading older than the meter's last delivered purchase, the mirror waits.

:func:`bill_meters` loads the readings stored since each cursor (the hook after
``DjangoRepository.store``, and the benchmark per chunk); :func:`bill_readings` takes readings
in memory. Both write in the caller's transaction, or in their own.
:func:`bill_final_reading` prices a remote meter up to a final total given by hand (a swap).

**Overload.** After a batch is billed, :func:`bill_after_store` passes its full readings to
``overload.check_overload``: a meter's power above its overload threshold raises one
``overload`` alarm per episode, a later reading at or below clears it (both modes).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Max, Q, Sum
from django.utils import timezone

from openprepaid.calc.money import ZERO, round_money
from openprepaid.calc.tariffs import Registers, price_interval, service_charge_due
from openprepaid.domain.billing.ledger import Posting, post_bulk
from openprepaid.domain.billing.models import (
    AccountBalance,
    BillingAlarm,
    BillingAlarmKind,
    Delivery,
    EntryKind,
    LedgerEntry,
    MeterBilling,
    Sale,
)
from openprepaid.domain.billing.overload import check_overload
from openprepaid.domain.billing.pricing import Pricer, site_zone
from openprepaid.domain.metering.models import MeterReading, ReadingKind
from openprepaid.domain.sites.models import CostControl
from openprepaid.domain.tenants.models import AccountMeter, AccountStatus

log = logging.getLogger(__name__)
REMOTE = CostControl.REMOTE

#: Registers going backwards are recorded with this alarm kind; ``detail`` says so.
TAMPER_KIND = BillingAlarmKind.TAMPER
TAMPER_DETAIL = "registers went backwards"
DIFFERENCE_DETAIL = "meter shows more money than the ledger"

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
_REGISTERS = ("energy_total", "energy_sharp", "energy_peak", "energy_flat", "energy_valley")
_READING_FIELDS = (
    "meter_id",
    "read_at",
    *_REGISTERS,
    "remaining",
    "overdraft",
    "purchase_count",
)


@dataclass(slots=True)
class ReadingRow:
    """What the engine needs of a reading (``MeterReading`` and the headend's ``Reading`` have
    these attributes too)."""

    meter_id: int
    read_at: dt.datetime
    energy_total: Decimal | None = None
    energy_sharp: Decimal | None = None
    energy_peak: Decimal | None = None
    energy_flat: Decimal | None = None
    energy_valley: Decimal | None = None
    remaining: Decimal | None = None
    overdraft: Decimal | None = None
    purchase_count: int | None = None


@dataclass(slots=True)
class RunResult:
    readings: int = 0  # readings looked at
    priced: int = 0  # intervals priced (remote)
    entries: int = 0  # ledger entries written
    alarms: int = 0  # billing alarms raised


@dataclass(frozen=True, slots=True)
class _Member:
    account_id: int
    attached_at: dt.datetime
    cost_control: str


# -------------------------------------------------------------------------------- entrances


def bill_meters(
    meter_ids: Iterable[int], *, until: dt.datetime | None = None, chunk: int = 2000
) -> RunResult:
    """Bill the readings stored for ``meter_ids`` after their cursors (up to ``until``)."""
    ids = sorted(set(meter_ids))
    if not ids:
        return RunResult()
    members = _members(ids)  # most meters of a headend batch have nothing to bill: no transaction
    if not members:
        return RunResult()
    with transaction.atomic():
        cursors = _lock(members)
        pricer = Pricer(m for m, member in members.items() if member.cost_control == REMOTE)
        # A remote meter no tariff covers yet is not loaded (it would be loaded again and again
        # from its cursor); once a tariff covers its cursor, it catches up.
        wanted = [m for m in members if _priceable(m, members[m], pricer)]
        if not wanted:
            return RunResult()
        floor = min(
            max(cursors[pk].read_at, members[pk].attached_at)
            if cursors[pk].read_at
            else members[pk].attached_at
            for pk in wanted
        )
        query = Q(meter_id__in=wanted, read_at__gte=floor, kind=ReadingKind.FULL)
        if until is not None:
            query &= Q(read_at__lte=until)
        return _bill(_load(query, chunk), members, cursors, pricer)


def _priceable(meter_id: int, member: _Member, pricer: Pricer) -> bool:
    if member.cost_control != REMOTE:
        return True
    return pricer.schedule(meter_id) is not None


def bill_readings(readings: Iterable) -> RunResult:
    """Bill readings given in memory (objects with the attributes of :class:`ReadingRow`);
    those at or before a meter's cursor are skipped."""
    readings = list(readings)
    if not readings:
        return RunResult()
    members = _members({r.meter_id for r in readings})
    if not members:
        return RunResult()
    with transaction.atomic():
        cursors = _lock(members)
        return _bill(readings, members, cursors)


def bill_final_reading(meter_id: int, *, at: dt.datetime, energy_total: Decimal) -> RunResult:
    """Price a remote meter from its cursor up to ``energy_total`` at ``at`` — a final total read
    off the meter (a swap) — as if the headend had stored that reading. Nothing is priced when
    the meter has no cursor yet (no reading since it joined its open account) or no tariff."""
    return bill_readings([ReadingRow(meter_id, at, energy_total=energy_total)])


def bill_after_store(meter_ids: Iterable[int], readings: Sequence = ()) -> None:
    """The hook after the headend stored a batch: bill what is new, then raise or clear the
    overload alarms the batch's full ``readings`` show (:mod:`.overload`); never fail the
    headend (a billing run that failed is caught up by the next, since the readings stay
    stored)."""
    try:
        bill_meters(meter_ids)
    except Exception:
        log.exception("billing the new readings failed; the next batch catches up")
    if readings:
        try:
            check_overload(readings)
        except Exception:
            log.exception("checking the new readings for overload failed")


# ------------------------------------------------------------------------------------- core


def _load(query: Q, chunk: int) -> list[ReadingRow]:
    """The readings matching ``query``, by meter and time. The ORM writes the query; the rows
    are read through the cursor and converted here, which is several times faster than the
    ORM's per-field converters for the hundreds of thousands of rows of a bulk run."""
    sql, params = (
        MeterReading.objects.filter(query)
        .order_by("meter_id", "read_at")
        .values_list(*_READING_FIELDS)
        .query.sql_with_params()
    )
    # Many values repeat (the same times across meters, period registers that did not move):
    # each distinct value is converted once.
    moments: dict[object, dt.datetime] = {}
    numbers: dict[object, Decimal | None] = {None: None}
    readings = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(chunk):
            for meter_id, read_at, *values, count in rows:
                moment = moments.get(read_at)
                if moment is None:
                    moment = moments[read_at] = _moment(read_at)
                converted = []
                for value in values:
                    number = numbers.get(value, _MISSING)
                    if number is _MISSING:
                        number = numbers[value] = _decimal(value)
                    converted.append(number)
                readings.append(ReadingRow(meter_id, moment, *converted, count))
    return readings


_MISSING = object()


def _moment(value) -> dt.datetime:
    if isinstance(value, str):  # SQLite: naive UTC text
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def _decimal(value) -> Decimal | None:
    if value is None or type(value) is Decimal:
        return value
    if type(value) is float:  # SQLite keeps 2-decimal numbers as REAL: the shortest repr is exact
        return Decimal(repr(value))
    return Decimal(value)


def _members(meter_ids: Iterable[int]) -> dict[int, _Member]:
    rows = AccountMeter.objects.filter(
        meter_id__in=list(meter_ids),
        detached_at__isnull=True,
        account__status=AccountStatus.OPEN,
    ).values_list("meter_id", "account_id", "attached_at", "meter__cost_control")
    return {m: _Member(a, at, cost) for m, a, at, cost in rows}


def _lock(members: dict[int, _Member]) -> dict[int, MeterBilling]:
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


def _bill(
    readings: Sequence,
    members: dict[int, _Member],
    cursors: dict[int, MeterBilling],
    pricer: Pricer | None = None,
) -> RunResult:
    result = RunResult()
    by_meter: dict[int, list] = defaultdict(list)
    for reading in readings:
        if reading.meter_id in members:
            by_meter[reading.meter_id].append(reading)
    if not by_meter:
        return result
    for items in by_meter.values():
        items.sort(key=lambda r: r.read_at)
        result.readings += len(items)
    open_alarms = _open_alarms(list(by_meter))
    run = _Run(result, open_alarms)
    remote = [m for m in by_meter if members[m].cost_control == CostControl.REMOTE]
    local = [m for m in by_meter if members[m].cost_control == CostControl.LOCAL]
    if remote:
        pricer = pricer or Pricer(remote)
        zone = site_zone()
        for meter_id in remote:
            _price_remote(
                run, members[meter_id], cursors[meter_id], by_meter[meter_id], pricer, zone
            )
    if local:
        _mirror_local(run, local, members, cursors, by_meter)
    run.finish(cursors)
    return result


class _Run:
    """What one run collects before writing it all at once."""

    def __init__(self, result: RunResult, open_alarms: dict[tuple[int, str], BillingAlarm]):
        self.result = result
        self.open_alarms = open_alarms
        self.postings: dict[int, list[Posting]] = defaultdict(list)
        self.changed: set[int] = set()
        self.alarms: list[BillingAlarm] = []
        self.cleared: list[int] = []
        self.sites: dict[int, int] = {}

    def alarm(self, meter_id: int, account_id: int, detail: str, at, **values) -> None:
        if (meter_id, detail) in self.open_alarms:
            return  # one alarm per episode
        alarm = BillingAlarm(
            site_id=0,
            kind=TAMPER_KIND if detail == TAMPER_DETAIL else BillingAlarmKind.LEDGER_DIFFERENCE,
            account_id=account_id,
            meter_id=meter_id,
            detail=detail,
            raised_at=at,
            **values,
        )
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
        if self.alarms:
            from openprepaid.domain.sites.models import Meter

            sites = dict(
                Meter.objects.filter(pk__in={a.meter_id for a in self.alarms}).values_list(
                    "pk", "gateway__site_id"
                )
            )
            for alarm in self.alarms:
                alarm.site_id = sites[alarm.meter_id]
            BillingAlarm.objects.bulk_create(self.alarms)
            self.result.alarms += len(self.alarms)
        if self.cleared:
            BillingAlarm.objects.bulk_update(self.cleared, ["cleared_at"])


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


def _open_alarms(meter_ids: list[int]) -> dict[tuple[int, str], BillingAlarm]:
    rows = BillingAlarm.objects.filter(
        meter_id__in=meter_ids,
        cleared_at__isnull=True,
        detail__in=[TAMPER_DETAIL, DIFFERENCE_DETAIL],
    )
    return {(a.meter_id, a.detail): a for a in rows}


# ---------------------------------------------------------------------------------- remote


def _registers(source) -> Registers:
    return Registers(
        source.energy_total,
        source.energy_sharp,
        source.energy_peak,
        source.energy_flat,
        source.energy_valley,
    )


def _backwards(before: Registers, after: Registers) -> bool:
    """Any register of ``after`` below the one of ``before``."""
    for old, new in zip(before, after, strict=True):
        if old is not None and new is not None and new < old:
            return True
    return False


def _set_cursor(cursor: MeterBilling, reading) -> None:
    cursor.read_at = reading.read_at
    for name in _REGISTERS:
        setattr(cursor, name, getattr(reading, name))


def _price_remote(
    run: _Run, member: _Member, cursor: MeterBilling, readings: Sequence, pricer: Pricer, zone
) -> None:
    """Price ``readings`` (by time) after the cursor. The loop keeps the cursor in locals and
    writes it back once: it runs for every reading of a bulk run."""
    attached = member.attached_at
    if cursor.read_at is not None and cursor.read_at < attached:
        cursor.read_at = None  # priced for an earlier account: start afresh
    meter_id = cursor.meter_id
    read_at = cursor.read_at
    before = _registers(cursor) if read_at is not None else None
    cycle_key, cycle_energy = cursor.cycle_key, cursor.cycle_energy
    schedule = None
    month_end = None
    exact = ZERO
    priced = 0
    first_total = last = None
    for reading in readings:
        moment = reading.read_at
        if reading.energy_total is None or moment < attached:
            continue
        if read_at is not None and moment <= read_at:
            continue  # priced before
        if read_at is None:
            read_at, before = moment, _registers(reading)
            _set_cursor(cursor, reading)
            run.changed.add(meter_id)
            continue
        after = _registers(reading)
        if _backwards(before, after):
            run.alarm(meter_id, member.account_id, TAMPER_DETAIL, moment)
            continue
        if schedule is None:
            schedule = pricer.schedule(meter_id)
            if schedule is None:
                log.warning("meter %s: no tariff; not priced", meter_id)
                break
            starts = Pricer.starts_at(schedule)
        if read_at < starts:
            # No price before the first tariff starts: the cursor moves on without a charge.
            read_at, before = moment, after
            _set_cursor(cursor, reading)
            run.changed.add(meter_id)
            continue
        if run.open_alarms and (meter_id, TAMPER_DETAIL) in run.open_alarms:
            run.clear(meter_id, TAMPER_DETAIL, moment)
        charge = price_interval(
            schedule,
            start=read_at,
            end=moment,
            before=before,
            after=after,
            cycle_energy=cycle_energy,
            cycle_key=cycle_key,
            tz=zone,
        )
        if first_total is None:
            first_total = before.total
        exact += charge.amount_exact
        cycle_key, cycle_energy = charge.cycle_key, charge.cycle_energy
        read_at, before, last = moment, after, reading
        priced += 1
        if month_end is None or moment >= month_end:
            month, month_end = _month(moment, zone)
            if month != cursor.service_month:
                _service_charge(run, member, cursor, schedule, month, moment, zone)
    run.result.priced += priced
    if last is None:
        return
    _set_cursor(cursor, last)
    cursor.cycle_key, cursor.cycle_energy = cycle_key, cycle_energy
    run.changed.add(meter_id)
    amount, cursor.residue = round_money(exact + cursor.residue)
    if amount:
        run.postings[member.account_id].append(
            Posting(
                kind=EntryKind.CONSUMPTION,
                amount=-amount,
                external_id=f"c:{meter_id}:{int(last.read_at.timestamp())}",
                effective_at=last.read_at,
                meter_id=meter_id,
                energy=last.energy_total - first_total,
                source={"until": last.read_at.isoformat()},
            )
        )


def _month(moment: dt.datetime, zone) -> tuple[str, dt.datetime]:
    """The local month ``"YYYY-MM"`` of ``moment`` and the moment it ends."""
    local = moment.astimezone(zone)
    after = dt.datetime(local.year + local.month // 12, local.month % 12 + 1, 1, tzinfo=zone)
    return f"{local.year:04d}-{local.month:02d}", after


def _service_charge(run, member, cursor, schedule, month, moment, zone) -> None:
    due = service_charge_due(schedule, month, tz=zone)
    if due:
        run.postings[member.account_id].append(
            Posting(
                kind=EntryKind.SERVICE_CHARGE,
                amount=-due,
                external_id=f"s:{member.account_id}:{cursor.meter_id}:{month}",
                effective_at=moment,
                meter_id=cursor.meter_id,
                source={"month": month},
            )
        )
    cursor.service_month = month


# ----------------------------------------------------------------------------------- local


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


def _mirror_local(
    run: _Run,
    meter_ids: list[int],
    members: dict[int, _Member],
    cursors: dict[int, MeterBilling],
    by_meter: dict[int, list],
) -> None:
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
