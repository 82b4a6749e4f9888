"""Remote cost control: a meter's readings after its cursor priced one interval at a time
(``openprepaid.calc.tariffs.price_interval``; tiers by the energy of the tier cycle carried in
the cursor) into one consumption posting per run, and the monthly service charge. Registers
going backwards raise the tamper alarm and are not charged."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

from openprepaid.calc.money import ZERO, round_money
from openprepaid.calc.tariffs import Registers, price_interval, service_charge_due
from openprepaid.domain.billing.engine.alarms import TAMPER_DETAIL
from openprepaid.domain.billing.engine.readings import REGISTERS
from openprepaid.domain.billing.engine.run import Member, Run
from openprepaid.domain.billing.ledger import Posting
from openprepaid.domain.billing.models import EntryKind, MeterBilling
from openprepaid.domain.billing.pricing import Pricer

log = logging.getLogger(__name__)


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
    for name in REGISTERS:
        setattr(cursor, name, getattr(reading, name))


def price_remote(
    run: Run, member: Member, cursor: MeterBilling, readings: Sequence, pricer: Pricer, zone
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
