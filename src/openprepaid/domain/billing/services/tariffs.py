"""Verbs for tariffs: create one with its first version, add a version (a price change from a
date — an old version is never edited), assign a tariff to a site, a meter group or one meter,
and keep meter groups. Permission: ``CONFIGURE`` on the site (operations, administrators).

A definition is checked by ``openprepaid.calc.tariffs.parse_tariff`` and stored in its normal
form; a refusal names the field. A new version must start after the tariff's latest one, so the
history only grows. Readings already priced are never priced again: a version or assignment that
starts in the past applies to what the billing engine has not priced yet.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from openprepaid.calc.tariffs import TariffError, parse_tariff
from openprepaid.domain.audit.services import record
from openprepaid.domain.billing.models import (
    AssignmentScope,
    MeterGroup,
    Tariff,
    TariffAssignment,
    TariffKind,
    TariffVersion,
)
from openprepaid.domain.errors import ConflictError, ServiceError
from openprepaid.domain.operators.permissions import require
from openprepaid.domain.operators.roles import Capability


def _definition(kind: str, definition: dict) -> dict:
    try:
        return parse_tariff(kind, definition).to_json()
    except TariffError as error:
        field = f"definition.{error.field}" if error.field else "definition"
        raise ServiceError(
            _("The tariff definition is not valid: %(problem)s") % {"problem": str(error)},
            field_errors={field: [error.problem]},
            code="tariff_definition",
        ) from None


def _moment(value: dt.datetime | None) -> dt.datetime:
    value = value or timezone.now()
    if timezone.is_naive(value):
        raise ServiceError(
            field_errors={"effective_from": [_("Give a time with its time zone.")]},
            code="naive_time",
        )
    return value


@transaction.atomic
def create_tariff(
    *,
    acting_user,
    site,
    code: str,
    name: str,
    kind: str,
    definition: dict,
    effective_from: dt.datetime | None = None,
    note: str = "",
) -> Tariff:
    """A new tariff of ``site`` with its first version from ``effective_from`` (now)."""
    require(acting_user, Capability.CONFIGURE, site.pk)
    code, name = code.strip(), name.strip()
    if not code or not name:
        raise ServiceError(
            field_errors={
                key: [_("This field is required.")]
                for key, value in (("code", code), ("name", name))
                if not value
            },
            code="required",
        )
    if kind not in TariffKind.values:
        raise ServiceError(field_errors={"kind": [_("Unknown tariff kind.")]}, code="kind")
    normal = _definition(kind, definition)
    start = _moment(effective_from)
    if Tariff.objects.filter(site=site, code=code).exists():
        raise ConflictError(
            _("Tariff %(code)s already exists on this site.") % {"code": code},
            code="tariff_code_taken",
        )
    tariff = Tariff.objects.create(site=site, code=code, name=name, kind=kind, note=note.strip())
    version = TariffVersion.objects.create(
        tariff=tariff, effective_from=start, definition=normal, created_by=_user(acting_user)
    )
    record(
        acting_user=acting_user,
        action="tariff.create",
        obj=tariff,
        after={
            "code": code,
            "name": name,
            "kind": kind,
            "definition": normal,
            "effective_from": version.effective_from.isoformat(),
        },
    )
    return tariff


@transaction.atomic
def add_tariff_version(
    *, acting_user, tariff: Tariff, definition: dict, effective_from: dt.datetime
) -> TariffVersion:
    """A price change: ``definition`` applies from ``effective_from``, which must be after the
    tariff's latest version."""
    tariff = Tariff.objects.select_for_update().get(pk=tariff.pk)
    require(acting_user, Capability.CONFIGURE, tariff.site_id)
    normal = _definition(tariff.kind, definition)
    start = _moment(effective_from)
    latest = tariff.versions.order_by("-effective_from").first()
    if latest is not None and start <= latest.effective_from:
        raise ConflictError(
            _("A new version must start after the latest one (%(start)s).")
            % {"start": timezone.localtime(latest.effective_from).strftime("%Y-%m-%d %H:%M")},
            code="version_order",
        )
    version = TariffVersion.objects.create(
        tariff=tariff, effective_from=start, definition=normal, created_by=_user(acting_user)
    )
    record(
        acting_user=acting_user,
        action="tariff.add_version",
        obj=tariff,
        before=latest.definition if latest is not None else None,
        after={"definition": normal, "effective_from": start.isoformat()},
    )
    return version


@transaction.atomic
def assign_tariff(
    *,
    acting_user,
    tariff: Tariff,
    scope: str,
    effective_from: dt.datetime | None = None,
    group: MeterGroup | None = None,
    meter=None,
) -> TariffAssignment:
    """Give ``tariff`` to its whole site, to ``group`` or to ``meter`` from ``effective_from``."""
    require(acting_user, Capability.CONFIGURE, tariff.site_id)
    if scope not in AssignmentScope.values:
        raise ServiceError(field_errors={"scope": [_("Unknown scope.")]}, code="scope")
    wanted = {
        AssignmentScope.SITE: (group is None and meter is None),
        AssignmentScope.GROUP: (group is not None and meter is None),
        AssignmentScope.METER: (meter is not None and group is None),
    }[AssignmentScope(scope)]
    if not wanted:
        raise ServiceError(
            _(
                "A site assignment names nothing else, a group assignment a group, a meter "
                "assignment a meter."
            ),
            code="scope_target",
        )
    if group is not None and group.site_id != tariff.site_id:
        raise ServiceError(field_errors={"group": [_("Not on the tariff's site.")]}, code="site")
    if meter is not None and meter.gateway.site_id != tariff.site_id:
        raise ServiceError(field_errors={"meter": [_("Not on the tariff's site.")]}, code="site")
    assignment = TariffAssignment.objects.create(
        tariff=tariff,
        scope=scope,
        site_id=tariff.site_id,
        group=group,
        meter=meter,
        effective_from=_moment(effective_from),
        created_by=_user(acting_user),
    )
    record(
        acting_user=acting_user,
        action="tariff.assign",
        obj=tariff,
        after={
            "scope": scope,
            "group": group.pk if group is not None else None,
            "meter": meter.pk if meter is not None else None,
            "effective_from": assignment.effective_from.isoformat(),
        },
    )
    return assignment


@transaction.atomic
def create_meter_group(*, acting_user, site, name: str, meters: Iterable = ()) -> MeterGroup:
    require(acting_user, Capability.CONFIGURE, site.pk)
    name = name.strip()
    if not name:
        raise ServiceError(field_errors={"name": [_("This field is required.")]}, code="required")
    meters = _site_meters(site.pk, meters)
    try:
        with transaction.atomic():
            group = MeterGroup.objects.create(site=site, name=name)
    except IntegrityError:
        raise ConflictError(
            _("Meter group %(name)s already exists on this site.") % {"name": name},
            code="group_name_taken",
        ) from None
    group.meters.set(meters)
    record(
        acting_user=acting_user,
        action="meter_group.create",
        obj=group,
        site=site,
        after={"name": name, "meters": sorted(m.pk for m in meters)},
    )
    return group


@transaction.atomic
def set_group_meters(*, acting_user, group: MeterGroup, meters: Iterable) -> MeterGroup:
    require(acting_user, Capability.CONFIGURE, group.site_id)
    meters = _site_meters(group.site_id, meters)
    before = sorted(group.meters.values_list("pk", flat=True))
    group.meters.set(meters)
    record(
        acting_user=acting_user,
        action="meter_group.set_meters",
        obj=group,
        site=group.site,
        before={"meters": before},
        after={"meters": sorted(m.pk for m in meters)},
    )
    return group


def _site_meters(site_id: int, meters: Iterable) -> list:
    meters = list({m.pk: m for m in meters}.values())
    foreign = [m.address for m in meters if m.gateway.site_id != site_id]
    if foreign:
        raise ServiceError(
            field_errors={
                "meters": [
                    _("Not on this site: %(meters)s.") % {"meters": ", ".join(sorted(foreign))}
                ]
            },
            code="site",
        )
    return meters


def _user(acting_user):
    return acting_user if getattr(acting_user, "pk", None) else None
