"""Verbs for a site's billing settings, per-meter thresholds and holidays. Permission:
``CONFIGURE`` on the site (operations, administrators).

A change of thresholds (a value that actually moved) re-evaluates every account of the site at
once (alarm levels, the relay intent of remote meters: ``openprepaid.domain.billing.control``)
and pushes the thresholds to the site's locally controlled meters (which trip by themselves) as
``push_settings`` commands queued by the acting operator — each meter gets its own effective
values (the site's overlaid by its overrides).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from openprepaid.calc.money import AmountError, parse_decimal, parse_money
from openprepaid.domain.audit.services import record, snapshot
from openprepaid.domain.billing import control
from openprepaid.domain.billing.models import BillingSettings, Holiday, MeterThresholds
from openprepaid.domain.errors import ConflictError, ServiceError
from openprepaid.domain.operators.permissions import can, require
from openprepaid.domain.operators.roles import Capability
from openprepaid.domain.sites.models import CostControl, Lifecycle, Meter

_AMOUNTS = ("alarm_1", "alarm_2", "overdraft_limit", "close_allowed_limit")
THRESHOLDS = (*_AMOUNTS, "overload_power_kw")
_OTHER = (
    "friendly_from",
    "friendly_until",
    "friendly_weekends",
    "receipt_prefix",
    "receipt_layout",
    "opening_amount",
)


def _number(name: str, value: Any, *, blank: bool) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if blank:
            return None
        raise ServiceError(field_errors={name: [_("This field is required.")]}, code="required")
    try:
        if name == "overload_power_kw":
            return parse_decimal(value, places=4, minimum=Decimal(0))
        return parse_money(value, minimum=Decimal(0) if name == "overdraft_limit" else None)
    except AmountError:
        raise ServiceError(
            field_errors={name: [_("Give an amount with at most 2 decimals (kW: 4).")]},
            code="amount",
        ) from None


def _opening_amount(value: Any) -> Decimal:
    try:
        return parse_money(value, minimum=Decimal(0))
    except AmountError:
        raise ServiceError(
            field_errors={
                "opening_amount": [_("Give an amount of 0.00 or more with at most 2 decimals.")]
            },
            code="amount",
        ) from None


def _check_order(values: dict[str, Any]) -> None:
    a1, a2 = values.get("alarm_1"), values.get("alarm_2")
    if a1 is not None and a2 is not None and a1 < a2:
        raise ServiceError(
            field_errors={"alarm_2": [_("Alarm level 2 must not be above alarm level 1.")]},
            code="alarm_order",
        )
    overdraft = values.get("overdraft_limit")
    if overdraft is not None and overdraft < 0:
        raise ServiceError(
            field_errors={"overdraft_limit": [_("The overdraft limit is zero or more.")]},
            code="amount",
        )


@transaction.atomic
def update_billing_settings(*, acting_user, site, **changes: Any) -> BillingSettings:
    """Change some of the site's billing settings (thresholds in yuan as text or Decimal,
    ``overload_power_kw`` in kW, friendly hours as ``datetime.time``, receipt prefix and
    layout, ``opening_amount``: the amount the sales desk offers for an opening, >= 0.00)."""
    require(acting_user, Capability.CONFIGURE, site.pk)
    unknown = sorted(set(changes) - set(THRESHOLDS) - set(_OTHER))
    if unknown:
        raise ServiceError(
            field_errors={name: [_("Unknown setting.")] for name in unknown}, code="unknown"
        )
    control.site_settings([site.pk])
    billing = BillingSettings.objects.select_for_update().get(site_id=site.pk)
    before = snapshot(billing, exclude=("updated_at",))
    olds = {name: getattr(billing, name) for name in THRESHOLDS}
    for name, value in changes.items():
        if name in THRESHOLDS:
            value = _number(name, value, blank=name == "overload_power_kw")
        elif name in ("friendly_from", "friendly_until"):
            if value is not None and not isinstance(value, dt.time):
                raise ServiceError(field_errors={name: [_("Give a time of day.")]}, code="time")
        elif name == "friendly_weekends":
            value = bool(value)
        elif name == "receipt_prefix":
            value = str(value).strip()[:8]
        elif name == "receipt_layout" and not isinstance(value, dict):
            raise ServiceError(field_errors={name: [_("Give a layout object.")]}, code="layout")
        elif name == "opening_amount":
            value = _opening_amount(value)
        setattr(billing, name, value)
    _check_order({name: getattr(billing, name) for name in THRESHOLDS})
    moved = [name for name in THRESHOLDS if getattr(billing, name) != olds[name]]
    billing.save()
    record(
        acting_user=acting_user,
        action="billing_settings.update",
        obj=site,
        site=site,
        before=before,
        after=snapshot(billing, exclude=("updated_at",)),
    )
    if moved:
        control.reevaluate_site(site.pk)
        _push(acting_user, Meter.objects.filter(gateway__site_id=site.pk))
    return billing


@transaction.atomic
def set_meter_thresholds(*, acting_user, meter, **values: Any) -> MeterThresholds | None:
    """Set the meter's overrides (a blank or ``None`` value takes the site's); with no override
    left the row is removed and ``None`` returned."""
    site_id = meter.gateway.site_id
    require(acting_user, Capability.CONFIGURE, site_id)
    unknown = sorted(set(values) - set(THRESHOLDS))
    if unknown:
        raise ServiceError(
            field_errors={name: [_("Unknown threshold.")] for name in unknown}, code="unknown"
        )
    row = MeterThresholds.objects.select_for_update().filter(meter_id=meter.pk).first()
    before = snapshot(row) if row is not None else None
    row = row or MeterThresholds(meter_id=meter.pk)
    for name, value in values.items():
        setattr(row, name, _number(name, value, blank=True))
    effective = control.combine(
        control.site_thresholds(control.site_settings([site_id])[site_id]), [row]
    )
    _check_order({"alarm_1": effective.alarm_1, "alarm_2": effective.alarm_2})
    if all(getattr(row, name) is None for name in THRESHOLDS):
        if row.pk is not None and MeterThresholds.objects.filter(meter_id=meter.pk).exists():
            row.delete()
        result = None
    else:
        row.save()
        result = row
    record(
        acting_user=acting_user,
        action="meter_thresholds.set",
        obj=meter,
        site=meter.gateway.site,
        before=before,
        after=snapshot(row) if result is not None else None,
    )
    control.reevaluate_site(site_id)
    _push(acting_user, Meter.objects.filter(pk=meter.pk))
    return result


@transaction.atomic
def add_holiday(*, acting_user, site, day: dt.date, name: str = "") -> Holiday:
    """A day on which arrears does not trip."""
    require(acting_user, Capability.CONFIGURE, site.pk)
    try:
        with transaction.atomic():
            holiday = Holiday.objects.create(site=site, day=day, name=name.strip()[:64])
    except IntegrityError:
        raise ConflictError(
            _("%(day)s is already a holiday.") % {"day": day.isoformat()}, code="holiday_exists"
        ) from None
    record(
        acting_user=acting_user,
        action="holiday.add",
        obj=site,
        site=site,
        after={"day": day.isoformat(), "name": holiday.name},
    )
    return holiday


@transaction.atomic
def remove_holiday(*, acting_user, holiday: Holiday) -> None:
    require(acting_user, Capability.CONFIGURE, holiday.site_id)
    record(
        acting_user=acting_user,
        action="holiday.remove",
        obj=holiday.site,
        site=holiday.site,
        before={"day": holiday.day.isoformat(), "name": holiday.name},
    )
    holiday.delete()


def _push(acting_user, meters) -> None:
    """Queue ``push_settings`` with each local meter's effective thresholds (meters in service
    only; skipped when the operator may not control meters)."""
    local = list(
        meters.filter(cost_control=CostControl.LOCAL)
        .exclude(lifecycle=Lifecycle.RETIRED)
        .select_related("gateway")
    )
    if not local or not can(acting_user, Capability.CONTROL_METERS, local[0].gateway.site_id):
        return
    from openprepaid.domain.metering.services import request_batch

    site_id = local[0].gateway.site_id
    site = control.site_thresholds(control.site_settings([site_id])[site_id])
    overrides = {t.meter_id: t for t in MeterThresholds.objects.filter(meter__in=local)}
    groups: dict[tuple, list] = {}
    for meter in local:
        effective = control.combine(site, [overrides[meter.pk]] if meter.pk in overrides else [])
        params = tuple(
            (name, str(getattr(effective, name)))
            for name in THRESHOLDS
            if getattr(effective, name) is not None
        )
        groups.setdefault(params, []).append(meter)
    for params, group in groups.items():
        request_batch(
            acting_user=acting_user,
            meters=group,
            kind="push_settings",
            params=dict(params),
            description=_("Thresholds changed"),
        )
