"""The ways into the engine: :func:`bill_meters` (the readings stored since each cursor),
:func:`bill_readings` (readings in memory), :func:`bill_final_reading` (a swap's final total)
and :func:`bill_after_store` (the headend's hook); each runs :func:`_bill`, which hands the
remote meters to :mod:`.remote` and the local ones to :mod:`.local` and writes the run."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.db import transaction
from django.db.models import Q

from openprepaid.domain.billing.engine.alarms import open_alarms
from openprepaid.domain.billing.engine.local import mirror_local
from openprepaid.domain.billing.engine.readings import ReadingRow, load_readings
from openprepaid.domain.billing.engine.remote import price_remote
from openprepaid.domain.billing.engine.run import Member, Run, RunResult, lock, members
from openprepaid.domain.billing.models import MeterBilling
from openprepaid.domain.billing.overload import check_overload
from openprepaid.domain.billing.pricing import Pricer, site_zone
from openprepaid.domain.metering.models import ReadingKind
from openprepaid.domain.sites.models import CostControl

log = logging.getLogger(__name__)
REMOTE = CostControl.REMOTE


def bill_meters(
    meter_ids: Iterable[int], *, until: dt.datetime | None = None, chunk: int = 2000
) -> RunResult:
    """Bill the readings stored for ``meter_ids`` after their cursors (up to ``until``)."""
    ids = sorted(set(meter_ids))
    if not ids:
        return RunResult()
    found = members(ids)  # most meters of a headend batch have nothing to bill: no transaction
    if not found:
        return RunResult()
    with transaction.atomic():
        cursors = lock(found)
        pricer = Pricer(m for m, member in found.items() if member.cost_control == REMOTE)
        # A remote meter no tariff covers yet is not loaded (it would be loaded again and again
        # from its cursor); once a tariff covers its cursor, it catches up.
        wanted = [m for m in found if _priceable(m, found[m], pricer)]
        if not wanted:
            return RunResult()
        floor = min(
            max(cursors[pk].read_at, found[pk].attached_at)
            if cursors[pk].read_at
            else found[pk].attached_at
            for pk in wanted
        )
        query = Q(meter_id__in=wanted, read_at__gte=floor, kind=ReadingKind.FULL)
        if until is not None:
            query &= Q(read_at__lte=until)
        return _bill(load_readings(query, chunk), found, cursors, pricer)


def _priceable(meter_id: int, member: Member, pricer: Pricer) -> bool:
    if member.cost_control != REMOTE:
        return True
    return pricer.schedule(meter_id) is not None


def bill_readings(readings: Iterable) -> RunResult:
    """Bill readings given in memory (objects with the attributes of :class:`ReadingRow`);
    those at or before a meter's cursor are skipped."""
    readings = list(readings)
    if not readings:
        return RunResult()
    found = members({r.meter_id for r in readings})
    if not found:
        return RunResult()
    with transaction.atomic():
        cursors = lock(found)
        return _bill(readings, found, cursors)


def bill_final_reading(meter_id: int, *, at: dt.datetime, energy_total: Decimal) -> RunResult:
    """Price a remote meter from its cursor up to ``energy_total`` at ``at`` — a final total read
    off the meter (a swap) — as if the headend had stored that reading. Nothing is priced when
    the meter has no cursor yet (no reading since it joined its open account) or no tariff."""
    return bill_readings([ReadingRow(meter_id, at, energy_total=energy_total)])


def bill_after_store(meter_ids: Iterable[int], readings: Sequence = ()) -> None:
    """The hook after the headend stored a batch: bill what is new, then raise or clear the
    overload alarms the batch's full ``readings`` show (:mod:`..overload`); never fail the
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


def _bill(
    readings: Sequence,
    members: dict[int, Member],
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
    run = Run(result, open_alarms(list(by_meter)))
    remote = [m for m in by_meter if members[m].cost_control == CostControl.REMOTE]
    local = [m for m in by_meter if members[m].cost_control == CostControl.LOCAL]
    if remote:
        pricer = pricer or Pricer(remote)
        zone = site_zone()
        for meter_id in remote:
            price_remote(
                run, members[meter_id], cursors[meter_id], by_meter[meter_id], pricer, zone
            )
    if local:
        mirror_local(run, local, members, cursors, by_meter)
    run.finish(cursors)
    return result
