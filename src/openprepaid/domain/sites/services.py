"""Verbs that change the site configuration. Each is one transaction with its permission check
and its system-log row; ``acting_user=None`` is the system itself."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from openprepaid.domain.changes import create_record, update_record
from openprepaid.domain.errors import ConflictError, ServiceError
from openprepaid.domain.operators.permissions import require
from openprepaid.domain.operators.roles import Capability
from openprepaid.domain.sites.models import (
    Building,
    Floor,
    Gateway,
    Lifecycle,
    Meter,
    Site,
    Status,
    Transport,
    Unit,
)
from openprepaid.protocol.profiles import PROFILES, Protocol, normalize_address

# ---------------------------------------------------------------------------------- sites


DEFAULT_FULL_READING_MINUTES = 30


@transaction.atomic
def create_site(
    *,
    acting_user,
    code: str,
    name: str,
    address: str = "",
    full_reading_minutes: int | None = None,
) -> Site:
    require(acting_user, Capability.MANAGE_SITES)
    return create_record(
        Site,
        acting_user=acting_user,
        action="site.create",
        code=code,
        name=name,
        address=address,
        full_reading_minutes=full_reading_minutes or DEFAULT_FULL_READING_MINUTES,
    )


@transaction.atomic
def update_site(site: Site, *, acting_user, **changes: Any) -> Site:
    require(acting_user, Capability.MANAGE_SITES, site.pk)
    _only(changes, {"code", "name", "address", "full_reading_minutes"})
    return update_record(site, acting_user=acting_user, action="site.update", **changes)


# ------------------------------------------------------------------------ buildings, floors

_FLOOR_PATTERNS = (
    (re.compile(r"^[Bb](\d{1,3})$"), -1),  # B1, B2 … basement
    (re.compile(r"^-(\d{1,3})[Ff]?$"), -1),  # -1, -1F
    (re.compile(r"^[Ff]?(\d{1,3})[Ff]?$"), 1),  # 1F, F1, 1
    (re.compile(r"^(\d{1,3})(?:层|楼)$"), 1),  # 1层, 1楼
    (re.compile(r"^地下(\d{1,3})(?:层|楼)?$"), -1),  # 地下1层
)


def floor_level(name: str) -> int:
    """The level a floor name stands for, to order floors (B2 < B1 < 1F < 2F); 0 if unknown."""
    text = name.strip()
    for pattern, sign in _FLOOR_PATTERNS:
        match = pattern.match(text)
        if match:
            return sign * int(match.group(1))
    return 0


@transaction.atomic
def create_building(*, acting_user, site: Site, name: str) -> Building:
    require(acting_user, Capability.CONFIGURE, site.pk)
    return create_record(
        Building, acting_user=acting_user, action="building.create", site=site, name=name
    )


@transaction.atomic
def create_floor(*, acting_user, building: Building, name: str) -> Floor:
    require(acting_user, Capability.CONFIGURE, building.site_id)
    return create_record(
        Floor,
        acting_user=acting_user,
        action="floor.create",
        building=building,
        name=name,
        level=floor_level(name),
    )


@transaction.atomic
def ensure_floor(*, acting_user, site: Site, building_name: str, floor_name: str) -> Floor:
    """The floor with these names, creating the building and the floor when they are new."""
    building_name, floor_name = building_name.strip(), floor_name.strip()
    building = Building.objects.filter(site=site, name=building_name).first()
    if building is None:
        building = create_building(acting_user=acting_user, site=site, name=building_name)
    floor = Floor.objects.filter(building=building, name=floor_name).first()
    if floor is None:
        floor = create_floor(acting_user=acting_user, building=building, name=floor_name)
    return floor


# ---------------------------------------------------------------------------------- units


@transaction.atomic
def create_unit(
    *,
    acting_user,
    floor: Floor,
    code: str,
    kind: str,
    name: str = "",
    area=None,
) -> Unit:
    site = floor.building.site
    require(acting_user, Capability.CONFIGURE, site.pk)
    return create_record(
        Unit,
        acting_user=acting_user,
        action="unit.create",
        site=site,
        floor=floor,
        code=code.strip(),
        kind=kind,
        name=name.strip(),
        area=area,
    )


@transaction.atomic
def update_unit(unit: Unit, *, acting_user, **changes: Any) -> Unit:
    require(acting_user, Capability.CONFIGURE, unit.site_id)
    _only(changes, {"floor", "code", "name", "kind", "area"})
    _refuse_retired(unit)
    floor = changes.get("floor")
    if floor is not None and floor.building.site_id != unit.site_id:
        raise ServiceError(field_errors={"floor": [_("The floor is on another site.")]})
    return update_record(unit, acting_user=acting_user, action="unit.update", **changes)


@transaction.atomic
def retire_unit(unit: Unit, *, acting_user) -> Unit:
    require(acting_user, Capability.CONFIGURE, unit.site_id)
    _refuse_retired(unit)
    if unit.meters.exclude(lifecycle=Lifecycle.RETIRED).exists():
        raise ConflictError(_("Retire the unit's meters first."))
    return update_record(unit, acting_user=acting_user, action="unit.retire", status=Status.RETIRED)


# ------------------------------------------------------------------------------- gateways

GATEWAY_FIELDS = {
    "name",
    "transport",
    "host",
    "port",
    "serial_device",
    "baud_rate",
    "parity",
    "location",
    "full_reading_minutes",
}


def _gateway_endpoint(fields: dict[str, Any]) -> dict[str, Any]:
    """Clear the endpoint fields that do not belong to the chosen transport."""
    if "transport" in fields:
        if fields["transport"] == Transport.SERIAL:
            fields["host"], fields["port"] = "", None
        else:
            fields["serial_device"] = ""
    for key in ("host", "serial_device", "name", "location"):
        if isinstance(fields.get(key), str):
            fields[key] = fields[key].strip()
    return fields


@transaction.atomic
def create_gateway(*, acting_user, site: Site, **fields: Any) -> Gateway:
    require(acting_user, Capability.CONFIGURE, site.pk)
    _only(fields, GATEWAY_FIELDS)
    return create_record(
        Gateway,
        acting_user=acting_user,
        action="gateway.create",
        site=site,
        **_gateway_endpoint(fields),
    )


@transaction.atomic
def update_gateway(gateway: Gateway, *, acting_user, **changes: Any) -> Gateway:
    require(acting_user, Capability.CONFIGURE, gateway.site_id)
    _only(changes, GATEWAY_FIELDS)
    _refuse_retired(gateway)
    if changes.get("transport") == Transport.MODBUS_TCP and _has_dlt645_meters(gateway):
        raise ServiceError(
            field_errors={
                "transport": [_("A Modbus-TCP gateway cannot carry the DL/T 645 meters it has.")]
            }
        )
    return update_record(
        gateway, acting_user=acting_user, action="gateway.update", **_gateway_endpoint(changes)
    )


@transaction.atomic
def retire_gateway(gateway: Gateway, *, acting_user) -> Gateway:
    require(acting_user, Capability.CONFIGURE, gateway.site_id)
    _refuse_retired(gateway)
    if gateway.meters.exclude(lifecycle=Lifecycle.RETIRED).exists():
        raise ConflictError(_("Move or retire the gateway's meters first."))
    return update_record(
        gateway, acting_user=acting_user, action="gateway.retire", status=Status.RETIRED
    )


def _has_dlt645_meters(gateway: Gateway) -> bool:
    return (
        gateway.meters.exclude(lifecycle=Lifecycle.RETIRED)
        .filter(protocol=Protocol.DLT645_2007)
        .exists()
    )


# --------------------------------------------------------------------------------- meters

METER_FIELDS = {
    "gateway",
    "unit",
    "address",
    "protocol",
    "profile",
    "phases",
    "ct_ratio",
    "cost_control",
}


def _check_meter(fields: dict[str, Any], *, site_id: int) -> dict[str, Any]:
    """Rules that span several fields or tables: address form, profile and protocol, gateway
    transport, same site. Returns the fields with the address in its canonical form."""
    errors: dict[str, list[str]] = {}
    protocol = fields.get("protocol")
    profile = PROFILES.get(fields.get("profile") or "")
    if profile is None:
        errors["profile"] = [_("Unknown model profile.")]
    else:
        if protocol and profile.protocol != protocol:
            errors["profile"] = [
                _("This model speaks %(protocol)s.") % {"protocol": profile.protocol.value}
            ]
        if fields.get("phases") and int(fields["phases"]) not in profile.phases:
            errors["phases"] = [_("This model has a different number of phases.")]
    if protocol in Protocol.__members__.values() and fields.get("address") not in (None, ""):
        try:
            fields["address"] = normalize_address(protocol, fields["address"])
        except ValueError:
            errors["address"] = [
                _("A DL/T 645 address is 1 to 12 digits (not the broadcast address).")
                if protocol == Protocol.DLT645_2007
                else _("A Modbus unit id is a whole number from 1 to 247.")
            ]
    gateway: Gateway | None = fields.get("gateway")
    unit: Unit | None = fields.get("unit")
    if gateway is not None:
        if gateway.site_id != site_id:
            errors["gateway"] = [_("The gateway is on another site.")]
        elif gateway.status == Status.RETIRED:
            errors["gateway"] = [_("The gateway is retired.")]
        elif gateway.transport == Transport.MODBUS_TCP and protocol == Protocol.DLT645_2007:
            errors["gateway"] = [_("A Modbus-TCP gateway carries only Modbus meters.")]
    if unit is not None:
        if unit.site_id != site_id:
            errors["unit"] = [_("The unit is on another site.")]
        elif unit.status == Status.RETIRED:
            errors["unit"] = [_("The unit is retired.")]
    if errors:
        raise ServiceError(field_errors=errors)
    return fields


@transaction.atomic
def create_meter(*, acting_user, **fields: Any) -> Meter:
    _only(fields, METER_FIELDS)
    gateway: Gateway = fields["gateway"]
    require(acting_user, Capability.CONFIGURE, gateway.site_id)
    fields = _check_meter(fields, site_id=gateway.site_id)
    return create_record(Meter, acting_user=acting_user, action="meter.create", **fields)


@transaction.atomic
def update_meter(meter: Meter, *, acting_user, **changes: Any) -> Meter:
    _only(changes, METER_FIELDS)
    site_id = meter.gateway.site_id
    require(acting_user, Capability.CONFIGURE, site_id)
    _refuse_retired(meter)
    if meter.lifecycle == Lifecycle.OPENED:
        locked = {"address", "protocol", "profile", "unit"} & {
            k for k, v in changes.items() if v != getattr(meter, k)
        }
        if locked:
            raise ConflictError(
                _("An opened meter keeps its address, protocol, model and unit; swap it instead.")
            )
    merged = {name: getattr(meter, name) for name in METER_FIELDS} | changes
    merged = _check_meter(merged, site_id=site_id)
    return update_record(
        meter,
        acting_user=acting_user,
        action="meter.update",
        **{k: merged[k] for k in changes},
    )


@transaction.atomic
def retire_meter(meter: Meter, *, acting_user) -> Meter:
    require(acting_user, Capability.CONFIGURE, meter.gateway.site_id)
    _refuse_retired(meter)
    if (
        meter.lifecycle == Lifecycle.OPENED
        or meter.memberships.filter(detached_at__isnull=True).exists()
    ):
        raise ConflictError(_("The meter belongs to an account; close the account or swap it."))
    return update_record(
        meter,
        acting_user=acting_user,
        action="meter.retire",
        lifecycle=Lifecycle.RETIRED,
        retired_at=timezone.now(),
    )


# -------------------------------------------------------------------------------- helpers


def _only(fields: dict[str, Any], allowed: set[str]) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"unexpected fields: {', '.join(sorted(unknown))}")


def _refuse_retired(obj) -> None:
    if getattr(obj, "status", None) == Status.RETIRED or getattr(obj, "lifecycle", None) == (
        Lifecycle.RETIRED
    ):
        raise ConflictError(_("It is retired and can no longer be changed."))
