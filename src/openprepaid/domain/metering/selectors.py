"""Reads of live meter state, readings, commands and health for pages and the status output.

Functions that take an operator return only what lies in that operator's sites. Each one costs a
fixed number of queries, whatever the number of meters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from openprepaid.domain.metering.models import (
    Command,
    CommandBatch,
    ContactAlarm,
    GatewayHealth,
    MeterReading,
    MeterStatus,
)
from openprepaid.domain.operators.permissions import limit_to_sites
from openprepaid.domain.sites.models import CostControl, Gateway, Lifecycle, Meter, Status
from openprepaid.domain.sites.selectors import meters_for
from openprepaid.domain.tenants.models import AccountMeter, AccountStatus
from openprepaid.headend.model import CommandState

#: A meter is *fresh* when its last good reading (full or status sweep) is at most this old.
#: The status sweep passes every meter of a bus within about 30 seconds, so four sweeps missed
#: in a row make a meter stale; the full-reading interval (30 minutes) would hide a dead bus.
FRESH_WITHIN = dt.timedelta(seconds=120)


class BoardState(StrEnum):
    OPENED = "opened"
    ALARM_1 = "alarm_1"
    ALARM_2 = "alarm_2"
    ARREARS = "arrears"
    NOT_OPENED = "not_opened"
    LOST = "lost"


@dataclass(frozen=True, slots=True)
class MeterLive:
    state: BoardState
    relay_open: bool | None = None
    keep_power: bool | None = None
    last_seen_at: dt.datetime | None = None
    remaining: Decimal | None = None
    overdraft: Decimal | None = None
    fresh: bool = False


# ----------------------------------------------------------------------------- board state


def meter_states(meters: Iterable, *, now: dt.datetime | None = None) -> dict[int, MeterLive]:
    """The board state of each meter (objects with ``pk``), in five queries.

    - lost contact (the meter's own alarm, or its gateway's) → ``lost``;
    - nothing reported yet → ``not_opened``;
    - a locally controlled meter is opened when it says so (or, when it does not say, when its
      lifecycle is opened); a remotely controlled one when it belongs to an open account;
    - a local meter in overdraft, or with no money left, → ``arrears``; at or below its alarm
      level 2 → ``alarm_2``; at or below its alarm level 1 → ``alarm_1``; else ``opened`` — the
      levels of its site's billing settings overlaid by its own thresholds;
    - a remote meter shows its account's alarm level (kept by billing from the ledger).
    """
    ids = [m.pk for m in meters]
    if not ids:
        return {}
    now = now or timezone.now()
    wanted = set(ids)
    rows = Meter.objects.filter(_among("id", ids)).values_list(
        "id",
        "gateway_id",
        "cost_control",
        "lifecycle",
        "live__meter_id",
        "live__lost_contact",
        "live__account_opened",
        "live__relay_open",
        "live__keep_power",
        "live__last_seen_at",
        "live__remaining",
        "live__overdraft",
        "gateway__site_id",
    )
    rows = [row for row in rows if row[0] in wanted]
    lost_gateways = set(
        ContactAlarm.objects.filter(regained_at__isnull=True, gateway__isnull=False).values_list(
            "gateway_id", flat=True
        )
    )
    in_open_account = dict(
        AccountMeter.objects.filter(
            _among("meter_id", ids), detached_at__isnull=True, account__status=AccountStatus.OPEN
        ).values_list("meter_id", "account__balance__level")
    )
    local = {row[0]: row[-1] for row in rows if row[2] == CostControl.LOCAL}
    levels = _local_levels(local) if local else {}
    result = {}
    for (
        pk,
        gateway_id,
        cost_control,
        lifecycle,
        has_status,
        lost,
        account_opened,
        relay_open,
        keep_power,
        last_seen_at,
        remaining,
        overdraft,
        _site_id,
    ) in rows:
        if lost or gateway_id in lost_gateways:
            state = BoardState.LOST
        elif has_status is None:
            state = BoardState.NOT_OPENED
        elif cost_control == CostControl.LOCAL:
            opened = account_opened if account_opened is not None else lifecycle == "opened"
            state = (
                balance_state(remaining, overdraft, *levels.get(pk, _DEFAULT_LEVELS))
                if opened
                else BoardState.NOT_OPENED
            )
        elif pk in in_open_account:
            state = _ACCOUNT_LEVELS.get(in_open_account[pk] or "normal", BoardState.OPENED)
        else:
            state = BoardState.NOT_OPENED
        result[pk] = MeterLive(
            state=state,
            relay_open=relay_open,
            keep_power=keep_power,
            last_seen_at=last_seen_at,
            remaining=remaining,
            overdraft=overdraft,
            fresh=last_seen_at is not None and now - last_seen_at <= FRESH_WITHIN,
        )
    return result


def _among(field: str, ids: list[int]) -> Q:
    """``field`` in ``ids``; for a long, dense list of ids (a site's meters, usually created
    together) a range, which the caller narrows again: binding ten thousand parameters costs
    more than reading the few rows in between."""
    low, high = min(ids), max(ids)
    if len(ids) > 500 and high - low < 2 * len(ids):
        return Q(**{f"{field}__gte": low, f"{field}__lte": high})
    return Q(**{f"{field}__in": ids})


#: The board state of a remote meter for its account's alarm level.
_ACCOUNT_LEVELS = {
    "normal": BoardState.OPENED,
    "alarm_1": BoardState.ALARM_1,
    "alarm_2": BoardState.ALARM_2,
    "arrears": BoardState.ARREARS,
}
#: Alarm levels 1 and 2 (yuan) of a site that has no billing settings yet (the model's defaults).
_DEFAULT_LEVELS = (Decimal("50.00"), Decimal("20.00"))


def _local_levels(site_of: dict[int, int]) -> dict[int, tuple[Decimal, Decimal]]:
    """(alarm level 1, alarm level 2) of each local meter (``{meter: site}``): its site's billing
    settings overlaid by the meter's own thresholds (two queries)."""
    from openprepaid.domain.billing.models import BillingSettings, MeterThresholds

    sites = {
        pk: (Decimal(a1), Decimal(a2))
        for pk, a1, a2 in BillingSettings.objects.filter(
            site_id__in=set(site_of.values())
        ).values_list("site_id", "alarm_1", "alarm_2")
    }
    overrides = {
        pk: (a1, a2)
        for pk, a1, a2 in MeterThresholds.objects.filter(_among("meter_id", list(site_of)))
        .filter(Q(alarm_1__isnull=False) | Q(alarm_2__isnull=False))
        .values_list("meter_id", "alarm_1", "alarm_2")
    }
    result = {}
    for pk, site_id in site_of.items():
        a1, a2 = sites.get(site_id, _DEFAULT_LEVELS)
        own1, own2 = overrides.get(pk, (None, None))
        result[pk] = (a1 if own1 is None else own1, a2 if own2 is None else own2)
    return result


def balance_state(
    remaining: Decimal | None,
    overdraft: Decimal | None,
    alarm_1: Decimal = _DEFAULT_LEVELS[0],
    alarm_2: Decimal = _DEFAULT_LEVELS[1],
) -> BoardState:
    """The board state of an opened meter holding its own wallet, for its alarm levels."""
    if overdraft is not None and overdraft > 0:
        return BoardState.ARREARS
    if remaining is None:
        return BoardState.OPENED
    if remaining <= 0:
        return BoardState.ARREARS
    if remaining <= alarm_2:
        return BoardState.ALARM_2
    if remaining <= alarm_1:
        return BoardState.ALARM_1
    return BoardState.OPENED


def meter_status(meter: Meter) -> MeterStatus | None:
    return MeterStatus.objects.filter(meter=meter).first()


def select_meters(operator, *, site, building=None, floor=None, state=None) -> list[Meter]:
    """Meters in service of ``site`` the operator may see, narrowed to a building, a floor and
    a board state — the selection a batch command applies to."""
    qs = meters_for(operator).filter(gateway__site=site).exclude(lifecycle=Lifecycle.RETIRED)
    if building is not None:
        qs = qs.filter(unit__floor__building=building)
    if floor is not None:
        qs = qs.filter(unit__floor=floor)
    meters = list(qs)
    if state:
        states = meter_states(meters)
        meters = [m for m in meters if states[m.pk].state == state]
    return meters


# -------------------------------------------------------------------------------- readings


def latest_reading(meter: Meter) -> MeterReading | None:
    return MeterReading.objects.filter(meter=meter).order_by("-read_at").first()


def reading_history(meter: Meter, *, since: dt.datetime) -> list[MeterReading]:
    """The meter's full readings from ``since``, oldest first."""
    return list(MeterReading.objects.filter(meter=meter, read_at__gte=since).order_by("read_at"))


# -------------------------------------------------------------------------------- commands


def commands_for(meter: Meter, limit: int = 20) -> list[Command]:
    """The meter's latest commands, newest first."""
    return list(
        Command.objects.filter(meter=meter)
        .select_related("requested_by", "batch")
        .order_by("-created_at", "-id")[:limit]
    )


def command_list(operator, *, meter=None, state: str = "", kind: str = "", batch=None):
    """Commands of the meters the operator may see, newest first (a queryset, to paginate)."""
    qs = limit_to_sites(
        Command.objects.select_related("meter", "requested_by"), operator, "meter__gateway__site"
    )
    given = {"meter": meter, "state": state, "kind": kind, "batch": batch}
    return qs.filter(**{k: v for k, v in given.items() if v not in (None, "")}).order_by(
        "-created_at", "-id"
    )


def batches_for(operator):
    """Command batches of the operator's sites, newest first (a queryset, to paginate)."""
    return limit_to_sites(
        CommandBatch.objects.select_related("site", "requested_by"), operator
    ).order_by("-created_at", "-id")


def batch_commands(batch: CommandBatch) -> list[Command]:
    """Each meter's command of the batch, in unit order (with the meter's unit, floor and
    building)."""
    return list(
        batch.commands.select_related("meter__unit__floor__building", "requested_by").order_by(
            "meter__unit__code", "meter__address"
        )
    )


def batch_progress(batch: CommandBatch) -> dict[str, int]:
    """How many of the batch's commands are in each state (states with none are left out)."""
    rows = batch.commands.values("state").annotate(n=Count("id")).order_by()
    return {row["state"]: row["n"] for row in rows}


def recent_batches(operator, limit: int = 20) -> list[CommandBatch]:
    """The latest batches of the operator's sites, each with ``progress`` (state → count) and
    ``total``."""
    batches = list(
        limit_to_sites(
            CommandBatch.objects.select_related("site", "requested_by"), operator
        ).order_by("-created_at", "-id")[:limit]
    )
    progress: dict[int, dict[str, int]] = {b.pk: {} for b in batches}
    if batches:
        rows = (
            Command.objects.filter(batch_id__in=list(progress))
            .values("batch_id", "state")
            .annotate(n=Count("id"))
            .order_by()
        )
        for row in rows:
            progress[row["batch_id"]][row["state"]] = row["n"]
    for batch in batches:
        batch.progress = progress[batch.pk]
        batch.total = sum(batch.progress.values())
    return batches


# ---------------------------------------------------------------------------------- health


@dataclass(frozen=True, slots=True)
class GatewayHealthRow:
    gateway: Gateway
    connected: bool
    lost_since: dt.datetime | None
    last_connected_at: dt.datetime | None
    requests: int
    failures: int
    round_trip_ms_avg: Decimal | None
    round_trip_ms_max: Decimal | None
    last_error: str
    meters: int
    meters_fresh: int
    meters_lost: int


def gateway_health(operator, *, now: dt.datetime | None = None) -> list[GatewayHealthRow]:
    """Every gateway in service the operator may see, with its counters and its meters'
    freshness."""
    now = now or timezone.now()
    gateways = list(
        limit_to_sites(
            Gateway.objects.filter(status=Status.ACTIVE).select_related("site", "health"),
            operator,
        ).order_by("site__code", "name")
    )
    ids = [g.pk for g in gateways]
    counts = {
        row["gateway_id"]: row
        for row in Meter.objects.filter(gateway_id__in=ids)
        .exclude(lifecycle=Lifecycle.RETIRED)
        .values("gateway_id")
        .annotate(
            total=Count("id"),
            fresh=Count("id", filter=Q(live__last_seen_at__gte=now - FRESH_WITHIN)),
            lost=Count("id", filter=Q(live__lost_contact=True)),
        )
        .order_by()
    }
    lost_since = dict(
        ContactAlarm.objects.filter(gateway_id__in=ids, regained_at__isnull=True).values_list(
            "gateway_id", "lost_at"
        )
    )
    result = []
    for gateway in gateways:
        health = getattr(gateway, "health", None)
        count = counts.get(gateway.pk, {})
        result.append(
            GatewayHealthRow(
                gateway=gateway,
                connected=bool(health and health.connected),
                lost_since=lost_since.get(gateway.pk),
                last_connected_at=health.last_connected_at if health else None,
                requests=health.requests if health else 0,
                failures=health.failures if health else 0,
                round_trip_ms_avg=health.round_trip_ms_avg if health else None,
                round_trip_ms_max=health.round_trip_ms_max if health else None,
                last_error=health.last_error if health else "",
                meters=count.get("total", 0),
                meters_fresh=count.get("fresh", 0),
                meters_lost=count.get("lost", 0),
            )
        )
    return result


def last_gateway_report() -> dt.datetime | None:
    """When the headend last wrote a gateway line's statistics (it does every few seconds while
    it runs); ``None`` if it never did."""
    return GatewayHealth.objects.aggregate(last=Max("updated_at"))["last"]


def health_summary(*, now: dt.datetime | None = None) -> dict:
    """The whole installation's health as JSON-ready values (for the health endpoint and
    ``openprepaid headend --status``)."""
    now = now or timezone.now()
    gateways = Gateway.objects.filter(status=Status.ACTIVE).aggregate(
        total=Count("id"), connected=Count("id", filter=Q(health__connected=True))
    )
    meters = (
        Meter.objects.filter(gateway__status=Status.ACTIVE)
        .exclude(lifecycle=Lifecycle.RETIRED)
        .aggregate(
            total=Count("id"),
            fresh=Count("id", filter=Q(live__last_seen_at__gte=now - FRESH_WITHIN)),
            lost=Count("id", filter=Q(live__lost_contact=True)),
            never_seen=Count("id", filter=Q(live__last_seen_at__isnull=True)),
            oldest=Min("live__last_seen_at"),
        )
    )
    commands = dict.fromkeys(
        (CommandState.QUEUED.value, CommandState.SENDING.value, CommandState.SENT.value), 0
    )
    rows = (
        Command.objects.filter(state__in=list(commands))
        .values("state")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        commands[row["state"]] = row["n"]
    open_alarms = ContactAlarm.objects.filter(regained_at__isnull=True).aggregate(
        meters=Count("id", filter=Q(meter__isnull=False)),
        gateways=Count("id", filter=Q(gateway__isnull=False)),
    )
    oldest = meters["oldest"]
    return {
        "generated_at": now.isoformat(),
        "gateways": {"total": gateways["total"], "connected": gateways["connected"]},
        "meters": {
            "total": meters["total"],
            "fresh": meters["fresh"],
            "lost": meters["lost"],
            "never_seen": meters["never_seen"],
            "oldest_last_seen": oldest.isoformat() if oldest else None,
            "fresh_within_seconds": int(FRESH_WITHIN.total_seconds()),
        },
        "commands": commands,
        "open_alarms": open_alarms,
    }
