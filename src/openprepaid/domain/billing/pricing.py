"""Which price applies to a meter, when: tariff resolution over assignments and versions.

For a meter at a moment the most specific assignment scope wins — the meter's own assignment,
then one of its :class:`MeterGroup`\\ s', then the site's — and within a scope the latest
assignment that has started. The tariff's definition at that moment is its latest
:class:`TariffVersion` that has started. :class:`Pricer` turns all of this into one
``openprepaid.calc.tariffs.TariffSchedule`` per meter: the timeline of definitions, changing at
assignment starts and version starts, which ``price_interval`` splits intervals at.

A :class:`Pricer` loads everything once (a fixed number of queries for any number of meters)
and caches parsed definitions and schedules: the billing engine makes one per run.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from openprepaid.calc.tariffs import (
    TariffSchedule,
    TariffSpec,
    cycle_key_at,
    parse_tariff,
    unit_price_at,
)
from openprepaid.domain.billing.models import (
    AssignmentScope,
    MeterBilling,
    MeterGroup,
    TariffAssignment,
    TariffVersion,
)
from openprepaid.domain.errors import ServiceError
from openprepaid.domain.sites.models import Meter

_SCOPE_RANK = {AssignmentScope.METER: 0, AssignmentScope.GROUP: 1, AssignmentScope.SITE: 2}


def site_zone() -> ZoneInfo:
    """The sites' local time (tariff periods, tier cycles, service-charge months)."""
    return ZoneInfo(settings.TIME_ZONE)


class Pricer:
    """Schedules for ``meter_ids``, loaded in a fixed number of queries."""

    def __init__(self, meter_ids: Iterable[int]) -> None:
        ids = sorted(set(meter_ids))
        self.site_of: dict[int, int] = dict(
            Meter.objects.filter(pk__in=ids).values_list("pk", "gateway__site_id")
        )
        sites = set(self.site_of.values())
        self.groups_of: dict[int, set[int]] = defaultdict(set)
        through = MeterGroup.meters.through
        for meter_id, group_id in through.objects.filter(
            meter_id__in=ids, metergroup__site_id__in=sites
        ).values_list("meter_id", "metergroup_id"):
            self.groups_of[meter_id].add(group_id)
        rows = (
            TariffAssignment.objects.filter(site_id__in=sites)
            .values_list("effective_from", "scope", "site_id", "group_id", "meter_id", "tariff_id")
            .order_by("effective_from", "pk")
        )
        #: (start, scope rank, scope, site, group, meter, tariff), oldest first.
        self.assignments = [
            (start, _SCOPE_RANK[scope], scope, site_id, group_id, meter_id, tariff_id)
            for start, scope, site_id, group_id, meter_id, tariff_id in rows
        ]
        tariffs = {a[-1] for a in self.assignments}
        self.versions: dict[int, list[tuple[dt.datetime, int, TariffSpec]]] = defaultdict(list)
        for pk, tariff_id, start, kind, definition in (
            TariffVersion.objects.filter(tariff_id__in=tariffs)
            .values_list("pk", "tariff_id", "effective_from", "tariff__kind", "definition")
            .order_by("tariff_id", "effective_from")
        ):
            self.versions[tariff_id].append((start, pk, parse_tariff(kind, definition)))
        self._schedules: dict[int, TariffSchedule | None] = {}
        self._shared: dict[tuple, TariffSchedule] = {}

    def _applies(self, meter_id: int, scope: str, site_id: int, group_id, target) -> bool:
        if scope == AssignmentScope.METER:
            return target == meter_id
        if scope == AssignmentScope.GROUP:
            return group_id in self.groups_of.get(meter_id, ())
        return site_id == self.site_of.get(meter_id)

    def schedule(self, meter_id: int) -> TariffSchedule | None:
        """The meter's timeline of definitions, or ``None`` when no tariff ever applies."""
        if meter_id in self._schedules:
            return self._schedules[meter_id]
        own = [
            (start, rank, tariff)
            for start, rank, scope, site_id, group_id, target, tariff in self.assignments
            if self._applies(meter_id, scope, site_id, group_id, target)
        ]
        points = sorted(
            {start for start, _rank, _t in own}
            | {start for _s, _r, t in own for start, _pk, _spec in self.versions.get(t, ())}
        )
        timeline: list[tuple[dt.datetime, int, TariffSpec]] = []
        for moment in points:
            started = [a for a in own if a[0] <= moment]
            if not started:
                continue
            best_rank = min(rank for _s, rank, _t in started)
            tariff = [t for _s, rank, t in started if rank == best_rank][-1]  # latest started
            versions = [v for v in self.versions.get(tariff, ()) if v[0] <= moment]
            if not versions:
                continue
            _start, version_id, spec = versions[-1]
            if not timeline or timeline[-1][1] != version_id:
                timeline.append((moment, version_id, spec))
        schedule = None
        if timeline:
            key = tuple((start, pk) for start, pk, _spec in timeline)
            schedule = self._shared.get(key)
            if schedule is None:
                schedule = TariffSchedule([(start, spec) for start, _pk, spec in timeline])
                self._shared[key] = schedule
        self._schedules[meter_id] = schedule
        return schedule

    @staticmethod
    def starts_at(schedule: TariffSchedule) -> dt.datetime:
        return schedule.versions[0][0]


def schedule_for(meter, start: dt.datetime | None = None, end: dt.datetime | None = None):
    """The tariff schedule of ``meter`` (``None`` when no tariff applies to it). ``start`` and
    ``end`` are accepted for the interval the caller will price; the schedule covers all time."""
    return Pricer([meter.pk]).schedule(meter.pk)


def sale_unit_price(meter, at: dt.datetime | None = None) -> Decimal:
    """The unit price (yuan/kWh, 4 decimals) a sale by energy uses for ``meter`` at ``at``: the
    flat price, the flat period's price of a time-of-use tariff, the price of the tier the
    meter's cycle energy is in for a tiered one."""
    at = at or timezone.now()
    schedule = schedule_for(meter)
    if schedule is None or Pricer.starts_at(schedule) > at:
        raise ServiceError(
            field_errors={
                "energy": [_("No tariff applies to this meter; sell by amount or assign one.")]
            },
            code="no_tariff",
        )
    zone = site_zone()
    billing = MeterBilling.objects.filter(meter_id=meter.pk).first()
    cycle_energy = Decimal(0)
    if billing is not None and billing.cycle_key == cycle_key_at(schedule, at, zone):
        cycle_energy = billing.cycle_energy
    return unit_price_at(schedule, at, zone, cycle_energy=cycle_energy)
