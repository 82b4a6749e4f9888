"""Verbs that ask the headend to act on meters. Each is one transaction with its permission
check and its system-log row. A command is a row in state ``queued``; the headend claims it,
carries it out and records the outcome (``openprepaid.domain.metering.repository``).

A relay command (trip, close, keep power …) also sets the meter's *desired* state, which the
headend's reconciler keeps the meter in, and supersedes the relay commands of the meter still
queued: the newest intent wins and a stale one is never sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from openprepaid.domain.audit.services import record
from openprepaid.domain.errors import ConflictError, ServiceError
from openprepaid.domain.metering.models import (
    Command,
    CommandBatch,
    CommandOrigin,
    MeterStatus,
)
from openprepaid.domain.operators.permissions import require
from openprepaid.domain.operators.roles import Capability
from openprepaid.domain.sites.models import Lifecycle, Meter
from openprepaid.headend.model import (
    MONEY_KINDS,
    RELAY_KINDS,
    CommandKind,
    CommandState,
    DesiredRelay,
    check_transition,
)

#: How long an operator's command waits for the headend before it expires.
COMMAND_LIFETIME = dt.timedelta(days=1)

#: Thresholds ``push_settings`` may set, with the decimal places each is given in.
SETTINGS = {
    "alarm_1": 2,  # yuan
    "alarm_2": 2,
    "overdraft_limit": 2,
    "close_allowed_limit": 2,
    "overload_power_kw": 4,  # kW
}
MAX_PRICES = 4  # sharp, peak, flat, valley
_LIMIT = Decimal("999999.99")
_PRICE_LIMIT = Decimal("9999.9999")  # a meter holds XXXX.XXXX yuan/kWh

#: What each relay command makes the meter's desired state: (desired relay, keep power); None
#: leaves that part as it is.
DESIRED: dict[CommandKind, tuple[DesiredRelay | None, bool | None]] = {
    CommandKind.TRIP: (DesiredRelay.OPEN, None),
    CommandKind.CLOSE: (DesiredRelay.CLOSED, None),
    CommandKind.CLOSE_ALLOWED: (DesiredRelay.CLOSED, None),
    CommandKind.KEEP_POWER_ON: (None, True),
    CommandKind.KEEP_POWER_OFF: (None, False),
    CommandKind.RESUME_PREPAID: (DesiredRelay.AUTO, False),
}


@transaction.atomic
def request_command(
    *,
    acting_user,
    meter: Meter,
    kind: CommandKind | str,
    params: dict | None = None,
    batch: CommandBatch | None = None,
) -> Command:
    """Queue one command for one meter."""
    kind = _kind(kind)
    site_id = meter.gateway.site_id
    require(acting_user, Capability.CONTROL_METERS, site_id)
    params = clean_params(kind, params)
    _refuse_retired([meter])
    (command,) = _queue([meter], kind=kind, params=params, acting_user=acting_user, batch=batch)
    record(
        acting_user=acting_user,
        action=f"command.{kind.value}",
        obj=command,
        site=meter.gateway.site,
        after={"meter": meter.pk, "kind": kind.value, "params": params},
    )
    return command


@transaction.atomic
def request_batch(
    *,
    acting_user,
    meters: Iterable[Meter],
    kind: CommandKind | str,
    params: dict | None = None,
    description: str = "",
) -> CommandBatch:
    """Queue one command for each of ``meters`` (all on one site) as a batch. Nothing is queued
    unless every meter may receive it."""
    kind = _kind(kind)
    meters = list({m.pk: m for m in meters}.values())
    if not meters:
        raise ServiceError(_("Choose at least one meter."), code="no_meters")
    sites = {m.gateway.site_id for m in meters}
    if len(sites) != 1:
        raise ServiceError(_("The meters of a batch must be on one site."), code="several_sites")
    (site_id,) = sites
    require(acting_user, Capability.CONTROL_METERS, site_id)
    params = clean_params(kind, params)
    _refuse_retired(meters)
    batch = CommandBatch.objects.create(
        site_id=site_id,
        kind=kind,
        params=params,
        description=description.strip()[:200],
        requested_by=acting_user if getattr(acting_user, "pk", None) else None,
    )
    _queue(meters, kind=kind, params=params, acting_user=acting_user, batch=batch)
    record(
        acting_user=acting_user,
        action=f"command_batch.{kind.value}",
        obj=batch,
        after={
            "kind": kind.value,
            "params": params,
            "meters": sorted(m.pk for m in meters),
            "description": batch.description,
        },
    )
    return batch


def queue_money_command(
    meter: Meter, kind: CommandKind | str, params: dict, acting_user, *, attempts: int = 0
) -> Command:
    """Queue an open-account or recharge command carrying a sale's money to a meter. Only the
    billing services call this, inside the sale's transaction (which checks the permission and
    writes the system-log row). Money commands never expire and are never superseded: paid
    money must reach the meter or be corrected at the desk. ``attempts`` > 0 queues the money
    again after an attempt that may have reached the meter: the headend then treats a meter it
    cannot read as "unconfirmed", never as "not sent"."""
    kind = CommandKind(kind)
    if kind not in MONEY_KINDS:
        raise ValueError(f"{kind} is not a money command")
    _refuse_retired([meter])
    return Command.objects.create(
        meter=meter,
        kind=kind,
        params=dict(params),
        origin=CommandOrigin.OPERATOR,
        requested_by=acting_user if getattr(acting_user, "pk", None) else None,
        attempts=attempts,
    )


def clean_params(kind: CommandKind, params: dict | None) -> dict[str, Any]:
    """The command's parameters checked and in their stored form (decimal strings)."""
    params = dict(params or {})
    if kind == CommandKind.PUSH_PRICES:
        return {"prices": _clean_prices(params)}
    if kind == CommandKind.PUSH_SETTINGS:
        return _clean_settings(params)
    if params:
        raise ServiceError(
            field_errors={"params": [_("This command takes no parameters.")]}, code="params"
        )
    return {}


# -------------------------------------------------------------------------------- helpers


def _kind(kind: CommandKind | str) -> CommandKind:
    try:
        kind = CommandKind(kind)
    except ValueError:
        raise ServiceError(_("Unknown command."), code="unknown_command") from None
    if kind in MONEY_KINDS:
        # Money reaches a meter only through a sale (billing services), with its ledger entry.
        raise ServiceError(
            _("Money is put on a meter by a sale at the sales desk, not by a command."),
            code="money_command",
        )
    return kind


def _refuse_retired(meters: Sequence[Meter]) -> None:
    retired = [m.address for m in meters if m.lifecycle == Lifecycle.RETIRED]
    if retired:
        raise ConflictError(
            _("Meter %(meter)s is retired.") % {"meter": ", ".join(retired)}, code="retired"
        )


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, float | bool):
        return None  # money never travels as a float
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _places(number: Decimal) -> int:
    exponent = number.normalize().as_tuple().exponent
    return max(-exponent, 0) if isinstance(exponent, int) else 0


def _clean_prices(params: dict) -> list[str]:
    prices = params.pop("prices", None)
    if params:
        raise ServiceError(field_errors={"params": [_("Only prices may be given.")]}, code="params")
    if not isinstance(prices, list | tuple) or not 1 <= len(prices) <= MAX_PRICES:
        raise ServiceError(field_errors={"prices": [_("Give one to four prices.")]}, code="params")
    cleaned = []
    for value in prices:
        number = _decimal(value)
        if number is None or number <= 0 or number > _PRICE_LIMIT or _places(number) > 4:
            raise ServiceError(
                field_errors={
                    "prices": [
                        _("%(value)s is not a price above zero with at most 4 decimals.")
                        % {"value": value}
                    ]
                },
                code="params",
            )
        cleaned.append(str(number.quantize(Decimal("0.0001"))))
    return cleaned


def _clean_settings(params: dict) -> dict[str, str]:
    if not params:
        raise ServiceError(
            field_errors={"params": [_("Give at least one setting.")]}, code="params"
        )
    errors: dict[str, list[str]] = {}
    cleaned = {}
    for name, value in params.items():
        places = SETTINGS.get(name)
        if places is None:
            errors[str(name)] = [_("Unknown setting.")]
            continue
        number = _decimal(value)
        if number is None or number < 0 or number > _LIMIT or _places(number) > places:
            errors[name] = [
                _("A number from 0 with at most %(places)d decimals.") % {"places": places}
            ]
            continue
        cleaned[name] = str(number.quantize(Decimal(1).scaleb(-places)))
    if errors:
        raise ServiceError(field_errors=errors, code="params")
    return cleaned


def _queue(
    meters: Sequence[Meter],
    *,
    kind: CommandKind,
    params: dict,
    acting_user,
    batch: CommandBatch | None,
) -> list[Command]:
    """Queue the commands (a fixed number of queries whatever the number of meters)."""
    now = timezone.now()
    ids = [m.pk for m in meters]
    if kind in RELAY_KINDS:
        check_transition(CommandState.QUEUED, CommandState.SUPERSEDED)
        Command.objects.filter(
            meter_id__in=ids, state=CommandState.QUEUED, kind__in=[k.value for k in RELAY_KINDS]
        ).update(
            state=CommandState.SUPERSEDED,
            finished_at=now,
            updated_at=now,
            detail="superseded by a newer command",
        )
        _set_desired(ids, *DESIRED[kind])
    operator = acting_user if getattr(acting_user, "pk", None) else None
    return Command.objects.bulk_create(
        [
            Command(
                meter_id=pk,
                kind=kind,
                params=params,
                origin=CommandOrigin.OPERATOR,
                requested_by=operator,
                batch=batch,
                expires_at=now + COMMAND_LIFETIME,
            )
            for pk in ids
        ]
    )


def _set_desired(meter_ids: list[int], relay: DesiredRelay | None, keep: bool | None) -> None:
    changes: dict[str, Any] = {"updated_at": timezone.now()}
    if relay is not None:
        changes["desired_relay"] = relay.value
    if keep is not None:
        changes["desired_keep_power"] = keep
    # Rows the headend has not written yet are created with the desired state; the headend only
    # ever writes the reported fields, so neither side overwrites the other.
    MeterStatus.objects.bulk_create(
        [MeterStatus(meter_id=pk) for pk in meter_ids], ignore_conflicts=True
    )
    MeterStatus.objects.filter(meter_id__in=meter_ids).update(**changes)
