"""Overload alarms: a meter drawing more power than its overload threshold.

A meter's threshold is its own ``MeterThresholds.overload_power_kw``, else its site's
``BillingSettings.overload_power_kw`` (as :func:`openprepaid.domain.billing.control.
thresholds_for_meter` gives it); without one the meter is never overloaded
(``openprepaid.calc.thresholds.is_overloaded``). Both cost-control modes, with or without an
account.

One alarm per episode: the first reading whose ``power_kw`` is above the limit raises a
:class:`BillingAlarm` (kind ``overload``, the meter, the account it belongs to now if any, the
power and the limit in ``detail``, ``raised_at`` = the reading's time); further readings above
the limit add nothing; the first later reading at or below the limit (or once the meter has no
limit any more) clears it (``cleared_at`` = that reading's time). Readings without a power say
nothing. A reading not newer than what the meter's latest alarm already accounts for (a batch
delivered twice, a late one) is skipped, so an episode is never raised twice.

:func:`check_overload` runs on the full readings the headend just stored
(``engine.bill_after_store``): one query for the batch's meters' limits (the site's and the
meter's, read once per run) and one for their overload alarms that are open or were cleared
since the batch's first reading; writes only when an alarm is raised or cleared.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction
from django.db.models import Q

from openprepaid.calc.thresholds import Thresholds, is_overloaded
from openprepaid.domain.billing.models import BillingAlarm, BillingAlarmKind
from openprepaid.domain.sites.models import Meter
from openprepaid.domain.tenants.models import AccountMeter

OVERLOAD = BillingAlarmKind.OVERLOAD
_NO_MONEY = Decimal(0)


def overload_detail(power: Decimal, limit: Decimal) -> str:
    return f"power {power} kW above the limit {limit} kW"


def meter_limits(meter_ids: Iterable[int]) -> dict[int, tuple[int, Decimal | None]]:
    """Each meter's site and effective overload limit (the meter's own, else the site's), in
    one query."""
    rows = Meter.objects.filter(pk__in=list(meter_ids)).values_list(
        "pk",
        "gateway__site_id",
        "thresholds__overload_power_kw",
        "gateway__site__billing__overload_power_kw",
    )
    return {pk: (site, own if own is not None else default) for pk, site, own, default in rows}


def _thresholds(limit: Decimal | None) -> Thresholds:
    return Thresholds(_NO_MONEY, _NO_MONEY, _NO_MONEY, _NO_MONEY, overload_power_kw=limit)


def check_overload(readings: Iterable) -> int:
    """Raise and clear overload alarms for ``readings`` (objects with ``meter_id``,
    ``read_at`` and ``power_kw``). Returns how many alarms were raised or cleared."""
    by_meter: dict[int, list] = defaultdict(list)
    for reading in readings:
        if getattr(reading, "power_kw", None) is not None:
            by_meter[reading.meter_id].append(reading)
    if not by_meter:
        return 0
    earliest = min(r.read_at for items in by_meter.values() for r in items)
    limits = meter_limits(by_meter)
    latest: dict[int, BillingAlarm] = {}
    for alarm in BillingAlarm.objects.filter(
        Q(cleared_at__isnull=True) | Q(cleared_at__gte=earliest),
        kind=OVERLOAD,
        meter_id__in=list(by_meter),
    ).order_by("raised_at", "pk"):
        latest[alarm.meter_id] = alarm
    raised: list[BillingAlarm] = []
    cleared: list[BillingAlarm] = []
    for meter_id, items in by_meter.items():
        if meter_id not in limits:
            continue
        site_id, limit = limits[meter_id]
        alarm = latest.get(meter_id)
        if limit is None and (alarm is None or alarm.cleared_at is not None):
            continue  # no limit, nothing open: nothing to do
        thresholds = _thresholds(limit)
        seen = None
        if alarm is not None:
            seen = alarm.raised_at if alarm.cleared_at is None else alarm.cleared_at
        for reading in sorted(items, key=lambda r: r.read_at):
            if seen is not None and reading.read_at <= seen:
                continue
            over = is_overloaded(reading.power_kw, thresholds)
            is_open = alarm is not None and alarm.cleared_at is None
            if over and not is_open:
                alarm = BillingAlarm(
                    site_id=site_id,
                    kind=OVERLOAD,
                    meter_id=meter_id,
                    detail=overload_detail(reading.power_kw, limit),
                    raised_at=reading.read_at,
                )
                raised.append(alarm)
            elif not over and is_open:
                alarm.cleared_at = reading.read_at
                if alarm.pk is not None:
                    cleared.append(alarm)
            seen = reading.read_at
    if not raised and not cleared:
        return 0
    # Reads above need no transaction (one headend line stores a meter's batches one after the
    # other); the writes go together.
    with transaction.atomic():
        if raised:
            accounts = dict(
                AccountMeter.objects.filter(
                    meter_id__in={a.meter_id for a in raised}, detached_at__isnull=True
                ).values_list("meter_id", "account_id")
            )
            for alarm in raised:
                alarm.account_id = accounts.get(alarm.meter_id)
            BillingAlarm.objects.bulk_create(raised)
        if cleared:
            BillingAlarm.objects.bulk_update(cleared, ["cleared_at"])
    return len(raised) + len(cleared)
