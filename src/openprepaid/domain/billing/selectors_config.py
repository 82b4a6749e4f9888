"""Reads of the billing configuration for the console pages: tariffs with their versions and
assignments, meter groups, site settings, holidays, per-meter thresholds and billing alarms.

Like every selector module, each function takes the operator whose view it is (where the rows
belong to sites) and returns only rows of the sites that operator may see.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from openprepaid.domain.billing.models import (
    AssignmentScope,
    BillingAlarm,
    BillingSettings,
    Holiday,
    MeterGroup,
    MeterThresholds,
    Tariff,
    TariffAssignment,
    TariffVersion,
)
from openprepaid.domain.operators.permissions import limit_to_sites
from openprepaid.domain.sites.models import Lifecycle, Meter, Site

# ------------------------------------------------------------------------------ tariffs


def tariffs_for(operator) -> QuerySet[Tariff]:
    return limit_to_sites(Tariff.objects.select_related("site"), operator).order_by(
        "site__code", "code"
    )


def tariff_list(operator, *, site=None, kind: str = "", q: str = "") -> QuerySet[Tariff]:
    """Tariffs with ``version_count``, ``latest_from`` (start of the newest version) and
    ``assignment_count``."""
    qs = tariffs_for(operator)
    if site is not None:
        qs = qs.filter(site=site)
    if kind:
        qs = qs.filter(kind=kind)
    text = (q or "").strip()
    if text:
        qs = qs.filter(Q(code__icontains=text) | Q(name__icontains=text))
    return qs.annotate(
        version_count=Count("versions", distinct=True),
        latest_from=Max("versions__effective_from"),
        assignment_count=Count("assignments", distinct=True),
    )


def tariff_versions(tariff: Tariff) -> list[TariffVersion]:
    """The tariff's versions, newest start first."""
    return list(tariff.versions.select_related("created_by").order_by("-effective_from", "-id"))


def latest_version(tariff: Tariff) -> TariffVersion | None:
    return tariff.versions.order_by("-effective_from", "-id").first()


def tariff_assignments(tariff: Tariff) -> list[TariffAssignment]:
    """Where the tariff applies, newest start first."""
    return list(
        tariff.assignments.select_related("site", "group", "meter__unit", "created_by").order_by(
            "-effective_from", "-id"
        )
    )


def site_tariffs(site: Site) -> QuerySet[Tariff]:
    return Tariff.objects.filter(site=site).order_by("code")


# -------------------------------------------------------------------------- meter groups


def groups_for(operator) -> QuerySet[MeterGroup]:
    return limit_to_sites(MeterGroup.objects.select_related("site"), operator).order_by(
        "site__code", "name"
    )


def group_list(operator, *, site=None, q: str = "") -> QuerySet[MeterGroup]:
    """Meter groups with ``meter_count`` and ``assignment_count``."""
    qs = groups_for(operator)
    if site is not None:
        qs = qs.filter(site=site)
    text = (q or "").strip()
    if text:
        qs = qs.filter(name__icontains=text)
    return qs.annotate(
        meter_count=Count("meters", distinct=True),
        assignment_count=Count("assignments", distinct=True),
    )


def group_members(group: MeterGroup) -> list[Meter]:
    return list(
        group.meters.select_related("unit__floor__building").order_by(
            "unit__floor__building__name", "unit__floor__level", "unit__code", "address"
        )
    )


def group_meter_choices(site: Site, *, building=None, floor=None, q: str = "") -> QuerySet[Meter]:
    """Meters of the site that a group may hold (not retired), by building, floor and a search
    on unit number, unit name or meter address."""
    qs = (
        Meter.objects.select_related("unit__floor__building")
        .filter(gateway__site=site)
        .exclude(lifecycle=Lifecycle.RETIRED)
    )
    if building is not None:
        qs = qs.filter(unit__floor__building=building)
    if floor is not None:
        qs = qs.filter(unit__floor=floor)
    text = (q or "").strip()
    if text:
        qs = qs.filter(
            Q(address__icontains=text)
            | Q(unit__code__icontains=text)
            | Q(unit__name__icontains=text)
        )
    return qs.order_by("unit__floor__building__name", "unit__floor__level", "unit__code", "address")


def site_groups(site: Site) -> QuerySet[MeterGroup]:
    return MeterGroup.objects.filter(site=site).order_by("name")


# ---------------------------------------------------------------------- settings, days


def billing_settings(site: Site) -> BillingSettings:
    """The site's settings; a site never configured shows the defaults (not saved)."""
    try:
        return BillingSettings.objects.get(site=site)
    except BillingSettings.DoesNotExist:
        return BillingSettings(site=site)


def holiday_list(operator, *, site=None, year: int | None = None) -> QuerySet[Holiday]:
    qs = limit_to_sites(Holiday.objects.select_related("site"), operator)
    if site is not None:
        qs = qs.filter(site=site)
    if year is not None:
        qs = qs.filter(day__year=year)
    return qs.order_by("site__code", "day")


def holidays_for(operator) -> QuerySet[Holiday]:
    return limit_to_sites(Holiday.objects.select_related("site"), operator)


def meter_thresholds(meter: Meter) -> MeterThresholds | None:
    """The meter's own thresholds, or ``None`` when it takes all of the site's."""
    return MeterThresholds.objects.filter(meter=meter).first()


def meter_groups_of(meter: Meter) -> list[MeterGroup]:
    return list(meter.billing_groups.order_by("name"))


# ------------------------------------------------------------------------------ alarms


def alarm_list(
    operator, *, site=None, kind: str = "", open_only: bool = False, q: str = ""
) -> QuerySet[BillingAlarm]:
    """Billing alarms, newest first, with account, tenant and meter joined."""
    qs = limit_to_sites(
        BillingAlarm.objects.select_related("site", "account__tenant", "meter__unit"), operator
    )
    if site is not None:
        qs = qs.filter(site=site)
    if kind:
        qs = qs.filter(kind=kind)
    if open_only:
        qs = qs.filter(cleared_at__isnull=True)
    text = (q or "").strip()
    if text:
        qs = qs.filter(
            Q(account__number__icontains=text)
            | Q(account__tenant__name__icontains=text)
            | Q(meter__address__icontains=text)
            | Q(meter__unit__code__icontains=text)
            | Q(detail__icontains=text)
        )
    return qs.order_by("-raised_at", "-id")


# ---------------------------------------------------------------------- a meter's tariff


@dataclass(frozen=True)
class EffectiveTariff:
    """What prices a meter at a moment: the assignment that wins (meter, then group, then site;
    the latest started within a scope) and the tariff's version in force (``None`` when the
    tariff's first version starts later)."""

    assignment: TariffAssignment
    version: TariffVersion | None

    @property
    def tariff(self) -> Tariff:
        return self.assignment.tariff


_SCOPE_ORDER = {AssignmentScope.METER: 0, AssignmentScope.GROUP: 1, AssignmentScope.SITE: 2}


def _meter_assignments(meter: Meter) -> QuerySet[TariffAssignment]:
    """Assignments that reach ``meter``: its own, its groups', its site's."""
    groups = meter.billing_groups.values_list("pk", flat=True)
    return (
        TariffAssignment.objects.select_related("tariff", "group")
        .filter(site_id=meter.gateway.site_id)
        .filter(
            Q(scope=AssignmentScope.METER, meter=meter)
            | Q(scope=AssignmentScope.GROUP, group__in=groups)
            | Q(scope=AssignmentScope.SITE)
        )
    )


def effective_tariff(meter: Meter, at: dt.datetime | None = None) -> EffectiveTariff | None:
    """The tariff that applies to ``meter`` at ``at`` (now), or ``None``; the same rule as
    ``openprepaid.domain.billing.pricing``."""
    at = at or timezone.now()
    started = list(
        _meter_assignments(meter).filter(effective_from__lte=at).order_by("effective_from", "pk")
    )
    if not started:
        return None
    best = min(_SCOPE_ORDER[a.scope] for a in started)
    assignment = [a for a in started if _SCOPE_ORDER[a.scope] == best][-1]
    version = (
        assignment.tariff.versions.filter(effective_from__lte=at)
        .order_by("-effective_from")
        .first()
    )
    return EffectiveTariff(assignment, version)


def upcoming_assignments(meter: Meter, at: dt.datetime | None = None) -> list[TariffAssignment]:
    """Assignments reaching ``meter`` that start after ``at`` (now), soonest first."""
    at = at or timezone.now()
    return list(_meter_assignments(meter).filter(effective_from__gt=at).order_by("effective_from"))
