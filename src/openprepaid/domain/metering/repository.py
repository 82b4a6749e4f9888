"""The headend's door to the database: :class:`DjangoRepository` implements
``openprepaid.headend.repository.Repository`` with the metering tables.

Its writes are the headend's own (the system actor): readings, statuses, alarms and command
outcomes are records of their own and write no system-log rows. Every method is one transaction;
the headend calls them from worker threads (``asyncio.to_thread``), each with its own database
connection.

Commands and restarts: a claimed command is in ``sending`` (or ``sent``) with ``claimed_at``
set to the headend's clock. The repository remembers which commands *this process* claimed and
has not finished (in memory). :meth:`DjangoRepository.claim_commands` hands a command in
``sending`` or ``sent`` out again when another process claimed it (a headend that stopped: at
once, so nothing is lost over a restart) or when this process claimed it longer than
``command_lease`` ago and never finished it. A command handed out again is back in ``sending``
(from ``sent`` through ``queued``, as the lifecycle allows) and keeps its ``attempts``: more
than zero means it may already have acted, so the headend reads back before it sends again.
A relay command left in flight for a meter that has a newer relay command queued is not handed
out again: it becomes ``failed`` ("superseded … while in flight") and the newer one is sent.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from openprepaid.domain.metering.models import (
    AlarmKind,
    Command,
    CommandOrigin,
    ContactAlarm,
    GatewayHealth,
    MeterReading,
    MeterStatus,
    ReadingKind,
)
from openprepaid.domain.sites.models import Gateway, Lifecycle, Meter, Status
from openprepaid.headend.model import (
    MONEY_KINDS,
    RELAY_KINDS,
    Batch,
    CommandKind,
    CommandOrder,
    CommandOutcome,
    CommandState,
    ContactChange,
    DesiredRelay,
    GatewayStats,
    LineConfig,
    MeterControl,
    MeterTarget,
    PollFailure,
    Reading,
    check_transition,
)

#: States in which a command is in the headend's hands.
IN_FLIGHT = (CommandState.SENDING, CommandState.SENT)
#: States in which a command is still to be carried out or confirmed.
OPEN_STATES = (CommandState.QUEUED, *IN_FLIGHT)

#: The fields of :class:`MeterStatus` the headend writes; the desired ones are the operators'.
REPORTED_FIELDS = (
    "last_seen_at",
    "last_full_at",
    "last_failure_at",
    "last_failure",
    "consecutive_failures",
    "lost_contact",
    "lost_since",
    "relay_open",
    "relay_commanded_trip",
    "keep_power",
    "account_opened",
    "remaining",
    "overdraft",
    "purchase_count",
    "energy_total",
    "power_kw",
    "meter_time",
    "updated_at",
)
# Reading attributes copied onto the status when the reading carries them.
_STATUS_VALUES = (
    "relay_open",
    "relay_commanded_trip",
    "keep_power",
    "account_opened",
    "remaining",
    "overdraft",
    "purchase_count",
    "energy_total",
    "power_kw",
)
_HEALTH_FIELDS = (
    "connected",
    "last_connected_at",
    "last_error",
    "requests",
    "failures",
    "round_trip_ms_avg",
    "round_trip_ms_max",
    "updated_at",
)
_CENT = Decimal("0.01")


class DjangoRepository:
    """``full_reading_every``: when given, the full-reading interval of every line; otherwise
    each gateway's own ``full_reading_minutes``, else its site's. ``reconcile_expiry``: how
    long a command the reconciler queued stays valid (it decides again on the next sweep).
    ``command_lease``: how long a command this process claimed may stay unfinished before it is
    handed out again."""

    def __init__(
        self,
        *,
        full_reading_every: dt.timedelta | None = None,
        reconcile_expiry: dt.timedelta = dt.timedelta(hours=1),
        command_lease: dt.timedelta = dt.timedelta(seconds=60),
    ) -> None:
        self.full_reading_every = full_reading_every
        self.reconcile_expiry = reconcile_expiry
        self.command_lease = command_lease
        self._owned: set[int] = set()
        self._lock = threading.Lock()

    # ------------------------------------------------------------------------ configuration

    def lines(self) -> list[LineConfig]:
        meters: dict[int, list[MeterTarget]] = defaultdict(list)
        rows = (
            Meter.objects.filter(gateway__status=Status.ACTIVE)
            .exclude(lifecycle=Lifecycle.RETIRED)
            .values_list(
                "id",
                "gateway_id",
                "address",
                "protocol",
                "profile",
                "phases",
                "ct_ratio",
                "cost_control",
            )
            .order_by("gateway_id", "id")
        )
        for pk, gateway_id, address, protocol, profile, phases, ct_ratio, cost in rows:
            meters[gateway_id].append(
                MeterTarget(
                    meter_id=pk,
                    address=address,
                    protocol=protocol,
                    profile=profile,
                    phases=phases,
                    ct_ratio=ct_ratio,
                    cost_control=cost,
                )
            )
        result = []
        gateways = Gateway.objects.filter(status=Status.ACTIVE).select_related("site")
        for gateway in gateways.order_by("site_id", "name"):
            minutes = gateway.full_reading_minutes or gateway.site.full_reading_minutes
            targets = sorted(meters.get(gateway.pk, ()), key=_address_order)
            result.append(
                LineConfig(
                    gateway_id=gateway.pk,
                    name=gateway.name,
                    transport=gateway.transport,
                    host=gateway.host,
                    port=gateway.port or 0,
                    serial_device=gateway.serial_device,
                    baud_rate=gateway.baud_rate,
                    parity=gateway.parity,
                    meters=tuple(targets),
                    full_reading_every=self.full_reading_every or dt.timedelta(minutes=minutes),
                )
            )
        return result

    def lost_state(self) -> tuple[set[int], set[int]]:
        meters: set[int] = set()
        gateways: set[int] = set()
        rows = ContactAlarm.objects.filter(regained_at__isnull=True).values_list(
            "meter_id", "gateway_id"
        )
        for meter_id, gateway_id in rows:
            if meter_id is not None:
                meters.add(meter_id)
            if gateway_id is not None:
                gateways.add(gateway_id)
        return meters, gateways

    # ----------------------------------------------------------------------------- storing

    def store(self, batch: Batch) -> None:
        with transaction.atomic():
            full = [r for r in batch.readings if r.kind == ReadingKind.FULL]
            if full:
                MeterReading.objects.bulk_create(
                    [_reading_row(r) for r in full], ignore_conflicts=True
                )
            meter_ids = {r.meter_id for r in batch.readings} | {f.meter_id for f in batch.failures}
            contact_meters = {c.meter_id for c in batch.contact if c.meter_id is not None}
            meter_ids |= contact_meters
            lost_now = _apply_contact(batch.contact) if batch.contact else {}
            if meter_ids:
                statuses = MeterStatus.objects.in_bulk(meter_ids)
                changed = _apply_to_statuses(statuses, batch.readings, batch.failures, lost_now)
                if changed:
                    MeterStatus.objects.bulk_create(
                        changed,
                        update_conflicts=True,
                        unique_fields=["meter"],
                        update_fields=list(REPORTED_FIELDS),
                    )
            if batch.gateways:
                _store_gateway_stats(batch.gateways)
        if full:
            # Billing prices what is new in its own transaction (it catches up on the next
            # batch if it fails) and checks the readings for overload; the readings are stored
            # whatever happens to it.
            from openprepaid.domain.billing.engine import bill_after_store

            bill_after_store({r.meter_id for r in full}, full)
        if batch.readings:
            # A meter that answers again gets the money commands that were sent to it without
            # a read-back settling them (same purchase count: done at most once).
            from openprepaid.domain.billing.services.delivery import retry_unconfirmed

            retry_unconfirmed({r.meter_id for r in batch.readings})

    # ---------------------------------------------------------------------------- commands

    def claim_commands(self, gateway_id: int, now: dt.datetime, limit: int) -> list[CommandOrder]:
        with transaction.atomic(), self._lock:
            on_line = Command.objects.filter(meter__gateway_id=gateway_id)
            queued = list(
                on_line.filter(state=CommandState.QUEUED)
                .select_for_update(of=("self",))
                .order_by("created_at", "id")
            )
            superseded, expired, ready = _sort_queued(queued, now)
            if superseded:
                check_transition(CommandState.QUEUED, CommandState.SUPERSEDED)
                for newer_id, older_ids in superseded.items():
                    Command.objects.filter(pk__in=older_ids, state=CommandState.QUEUED).update(
                        state=CommandState.SUPERSEDED,
                        finished_at=now,
                        updated_at=timezone.now(),
                        detail=f"superseded by #{newer_id}",
                    )
            if expired:
                check_transition(CommandState.QUEUED, CommandState.EXPIRED)
                Command.objects.filter(pk__in=expired, state=CommandState.QUEUED).update(
                    state=CommandState.EXPIRED, finished_at=now, updated_at=timezone.now()
                )
            stuck = list(
                on_line.filter(state__in=IN_FLIGHT)
                .filter(
                    ~Q(pk__in=self._owned)
                    | Q(claimed_at__isnull=True)
                    | Q(claimed_at__lte=now - self.command_lease)
                )
                .select_for_update(of=("self",))
                .order_by("created_at", "id")[: max(limit, 0)]
            )
            newer_relay = {c.meter_id: c.pk for c in ready if c.kind in RELAY_KINDS}
            stale = [c for c in stuck if c.kind in RELAY_KINDS and c.meter_id in newer_relay]
            for command in stale:
                # A newer intent waits: the old one is not carried out again.
                check_transition(CommandState(command.state), CommandState.FAILED)
                Command.objects.filter(pk=command.pk).update(
                    state=CommandState.FAILED,
                    finished_at=now,
                    updated_at=timezone.now(),
                    detail=f"superseded by #{newer_relay[command.meter_id]} while in flight",
                )
            stuck = [c for c in stuck if c not in stale]
            for command in stuck:
                if command.state == CommandState.SENT:
                    check_transition(CommandState.SENT, CommandState.QUEUED)
                    check_transition(CommandState.QUEUED, CommandState.SENDING)
                command.state = CommandState.SENDING
                command.claimed_at = now
                command.updated_at = timezone.now()
            if stuck:
                Command.objects.bulk_update(stuck, ["state", "claimed_at", "updated_at"])
            take = [c.pk for c in ready[: max(limit - len(stuck), 0)]]
            claimed: list[Command] = []
            if take:
                check_transition(CommandState.QUEUED, CommandState.SENDING)
                Command.objects.filter(pk__in=take, state=CommandState.QUEUED).update(
                    state=CommandState.SENDING, claimed_at=now, updated_at=timezone.now()
                )
                claimed = list(
                    Command.objects.filter(pk__in=take, state=CommandState.SENDING).order_by(
                        "created_at", "id"
                    )
                )
            orders = [_order(c) for c in (*stuck, *claimed)]
            self._owned.update(o.command_id for o in orders)
            return orders

    def finish_command(self, outcome: CommandOutcome) -> None:
        new = CommandState(outcome.state)
        with transaction.atomic():
            command = Command.objects.select_for_update().get(pk=outcome.command_id)
            old = CommandState(command.state)
            check_transition(old, new)
            command.state = new
            fields = ["state", "updated_at"]
            if old == CommandState.SENDING and new != CommandState.QUEUED:
                command.attempts += 1
                fields.append("attempts")
            if new == CommandState.SENT or (
                old == CommandState.SENDING and new == CommandState.CONFIRMED
            ):
                command.sent_at = outcome.at
                fields.append("sent_at")
            if new in (CommandState.CONFIRMED, CommandState.FAILED):
                command.finished_at = outcome.at
                fields.append("finished_at")
            if outcome.detail:
                command.detail = outcome.detail[:200]
                fields.append("detail")
            command.save(update_fields=fields)
            if command.kind in MONEY_KINDS and command.is_final:
                from openprepaid.domain.billing.services.delivery import command_finished

                command_finished(command.pk)  # the sale is delivered (or not) with the command
        with self._lock:
            if new == CommandState.SENT:
                self._owned.add(command.pk)
            else:
                self._owned.discard(command.pk)

    def controls(self, gateway_id: int) -> list[MeterControl]:
        """The desired state of each meter of the line: the operator's override, else the
        account's relay intent (billing), whose trip keep power and the site's friendly time
        hold back (``openprepaid.domain.billing.control.effective_relay``)."""
        from openprepaid.domain.billing import control as billing_control

        rows = (
            Meter.objects.filter(gateway_id=gateway_id)
            .exclude(lifecycle=Lifecycle.RETIRED)
            .values_list(
                "id",
                "live__desired_relay",
                "live__desired_keep_power",
                "live__relay_open",
                "live__keep_power",
                "live__lost_contact",
                "live__account_relay",
                "gateway__site_id",
            )
            .order_by("id")
        )
        rows = list(rows)
        tripping = {site for *_values, account, site in rows if account == DesiredRelay.OPEN}
        friendly = billing_control.friendly_sites(tripping, timezone.now()) if tripping else set()
        return [
            MeterControl(
                meter_id=pk,
                desired_relay=billing_control.effective_relay(
                    operator=desired,
                    account=account,
                    keep_power=bool(keep),
                    friendly=site in friendly,
                ),
                desired_keep_power=bool(keep),
                reported_relay_open=relay_open,
                reported_keep_power=reported_keep,
                lost_contact=bool(lost),
            )
            for pk, desired, keep, relay_open, reported_keep, lost, account, site in rows
        ]

    def enqueue_reconcile(
        self, meter_id: int, kind: CommandKind, now: dt.datetime, reason: str
    ) -> int | None:
        kind = CommandKind(kind)
        kinds = RELAY_KINDS if kind in RELAY_KINDS else {kind}
        with transaction.atomic():
            busy = Command.objects.filter(
                meter_id=meter_id, kind__in=[k.value for k in kinds], state__in=OPEN_STATES
            ).exists()
            if busy:
                return None
            command = Command.objects.create(
                meter_id=meter_id,
                kind=kind,
                origin=CommandOrigin.RECONCILE,
                detail=reason[:200],
                expires_at=now + self.reconcile_expiry,
            )
            return command.pk

    def pending_gateways(self) -> set[int]:
        active = (CommandState.QUEUED, CommandState.SENDING, CommandState.SENT)
        return set(
            Command.objects.filter(state__in=active)
            .values_list("meter__gateway_id", flat=True)
            .distinct()
        )

    def pending_meters(self, gateway_id: int) -> Sequence[int]:
        return list(
            Command.objects.filter(meter__gateway_id=gateway_id, state=CommandState.QUEUED)
            .order_by("meter_id")
            .values_list("meter_id", flat=True)
            .distinct()
        )


# -------------------------------------------------------------------------------- helpers


def _address_order(target: MeterTarget) -> tuple[int, str]:
    return (int(target.address), target.address) if target.address.isdigit() else (0, "")


def _meter_clock(value: dt.datetime | None) -> dt.datetime | None:
    if value is None or timezone.is_aware(value):
        return value
    return timezone.make_aware(value, timezone.get_default_timezone())


def _reading_row(r: Reading) -> MeterReading:
    return MeterReading(
        meter_id=r.meter_id,
        read_at=r.read_at,
        kind=r.kind,
        energy_total=r.energy_total,
        energy_sharp=r.energy_sharp,
        energy_peak=r.energy_peak,
        energy_flat=r.energy_flat,
        energy_valley=r.energy_valley,
        remaining=r.remaining,
        overdraft=r.overdraft,
        purchase_count=r.purchase_count,
        relay_open=r.relay_open,
        keep_power=r.keep_power,
        power_kw=r.power_kw,
        voltage=[str(v) for v in r.voltage],
        current=[str(v) for v in r.current],
        meter_time=_meter_clock(r.meter_time),
        status_word_1=r.status_word_1,
        status_word_3=r.status_word_3,
    )


def _apply_to_statuses(
    statuses: dict[int, MeterStatus],
    readings: Iterable[Reading],
    failures: Iterable[PollFailure],
    lost_now: dict[int, dt.datetime | None],
) -> list[MeterStatus]:
    """Apply the batch's events, per meter in time order, to the status rows (new rows for
    meters without one). Events older than what the row already knows are skipped, so a batch
    delivered twice changes nothing the second time."""
    events: dict[int, list[tuple[dt.datetime, int, Reading | PollFailure]]] = defaultdict(list)
    for reading in readings:
        events[reading.meter_id].append((reading.read_at, 1, reading))
    for failure in failures:
        events[failure.meter_id].append((failure.at, 0, failure))
    changed: dict[int, MeterStatus] = {}
    for meter_id in set(events) | set(lost_now):
        status = statuses.get(meter_id) or MeterStatus(meter_id=meter_id)
        touched = meter_id not in statuses
        for _at, _order, event in sorted(events.get(meter_id, ()), key=lambda e: e[:2]):
            if isinstance(event, Reading):
                touched |= _apply_reading(status, event)
            else:
                touched |= _apply_failure(status, event)
        if meter_id in lost_now:
            since = lost_now[meter_id]
            touched |= status.lost_contact != (since is not None) or status.lost_since != since
            status.lost_contact, status.lost_since = since is not None, since
        if touched:
            changed[meter_id] = status
    return list(changed.values())


def _apply_reading(status: MeterStatus, reading: Reading) -> bool:
    if status.last_seen_at is not None and reading.read_at < status.last_seen_at:
        return False
    status.last_seen_at = reading.read_at
    status.consecutive_failures = 0
    if reading.kind == ReadingKind.FULL:
        status.last_full_at = reading.read_at
    for name in _STATUS_VALUES:
        value = getattr(reading, name)
        if value is not None:
            setattr(status, name, value)
    if reading.meter_time is not None:
        status.meter_time = _meter_clock(reading.meter_time)
    return True


def _apply_failure(status: MeterStatus, failure: PollFailure) -> bool:
    if status.last_seen_at is not None and failure.at <= status.last_seen_at:
        return False
    if status.last_failure_at is not None and failure.at <= status.last_failure_at:
        return False
    status.consecutive_failures += 1
    status.last_failure_at = failure.at
    status.last_failure = failure.reason[:200]
    return True


def _apply_contact(changes: Iterable[ContactChange]) -> dict[int, dt.datetime | None]:
    """Open and close lost-contact alarms; returns, for each meter the changes name, the time it
    has been lost since (``None``: in contact). A change already recorded — the same loss, or
    anything older than the latest alarm of its meter or gateway — changes nothing."""
    meters: dict[int, dt.datetime | None] = {}
    for change in sorted(changes, key=lambda c: c.at):
        if change.meter_id is not None:
            subject = Q(meter_id=change.meter_id)
            kind = AlarmKind.METER_LOST
        elif change.gateway_id is not None:
            subject = Q(gateway_id=change.gateway_id)
            kind = AlarmKind.GATEWAY_LOST
        else:
            continue
        alarms = ContactAlarm.objects.filter(subject)
        open_alarm = alarms.filter(regained_at__isnull=True).first()
        if change.lost:
            known = (
                open_alarm is not None
                or alarms.filter(Q(lost_at__gte=change.at) | Q(regained_at__gte=change.at)).exists()
            )
            if not known:
                open_alarm = ContactAlarm.objects.create(
                    kind=kind,
                    meter_id=change.meter_id,
                    gateway_id=None if change.meter_id is not None else change.gateway_id,
                    lost_at=change.at,
                    reason=change.reason[:200],
                )
        elif open_alarm is not None and open_alarm.lost_at <= change.at:
            open_alarm.regained_at = change.at
            open_alarm.save(update_fields=["regained_at"])
            open_alarm = None
        if change.meter_id is not None:
            meters[change.meter_id] = open_alarm.lost_at if open_alarm is not None else None
    return meters


def _store_gateway_stats(stats: Iterable[GatewayStats]) -> None:
    by_gateway: dict[int, list[GatewayStats]] = defaultdict(list)
    for item in stats:
        by_gateway[item.gateway_id].append(item)
    healths = GatewayHealth.objects.in_bulk(list(by_gateway))
    changed = []
    for gateway_id, items in by_gateway.items():
        health = healths.get(gateway_id) or GatewayHealth(gateway_id=gateway_id)
        touched = False
        for item in sorted(items, key=lambda s: s.at):
            if health.updated_at is not None and item.at <= health.updated_at:
                continue  # delivered before
            _add_stats(health, item)
            touched = True
        if touched:
            changed.append(health)
    if changed:
        GatewayHealth.objects.bulk_create(
            changed,
            update_conflicts=True,
            unique_fields=["gateway"],
            update_fields=list(_HEALTH_FIELDS),
        )


def _add_stats(health: GatewayHealth, item: GatewayStats) -> None:
    old_good = health.requests - health.failures if health.round_trip_ms_avg is not None else 0
    new_good = max(item.requests - item.failures, 0)
    if item.round_trip_ms_avg is not None and new_good:
        old_avg = health.round_trip_ms_avg or Decimal(0)
        total = old_avg * old_good + Decimal(item.round_trip_ms_avg) * new_good
        health.round_trip_ms_avg = (total / (old_good + new_good)).quantize(_CENT)
    if item.round_trip_ms_max is not None:
        peak = Decimal(item.round_trip_ms_max).quantize(_CENT)
        if health.round_trip_ms_max is None or peak > health.round_trip_ms_max:
            health.round_trip_ms_max = peak
    health.requests += max(item.requests, 0)
    health.failures += max(item.failures, 0)
    health.connected = item.connected
    if item.connected:
        health.last_connected_at = item.at
    if item.last_error:
        health.last_error = item.last_error[:200]
    health.updated_at = item.at


def _sort_queued(
    queued: list[Command], now: dt.datetime
) -> tuple[dict[int, list[int]], list[int], list[Command]]:
    """Split queued commands (oldest first) into superseded ones (by the id of the newer relay
    command for the same meter), expired ones, and the rest, still oldest first."""
    newest_relay: dict[int, Command] = {}
    for command in queued:
        if command.kind in RELAY_KINDS:
            newest_relay[command.meter_id] = command  # the last one wins
    superseded: dict[int, list[int]] = defaultdict(list)
    expired: list[int] = []
    ready: list[Command] = []
    for command in queued:
        newest = newest_relay.get(command.meter_id)
        if command.kind in RELAY_KINDS and newest is not None and newest.pk != command.pk:
            superseded[newest.pk].append(command.pk)
        elif command.expires_at is not None and command.expires_at <= now:
            expired.append(command.pk)
        else:
            ready.append(command)
    return dict(superseded), expired, ready


def _order(command: Command) -> CommandOrder:
    return CommandOrder(
        command_id=command.pk,
        meter_id=command.meter_id,
        kind=CommandKind(command.kind),
        params=dict(command.params or {}),
        attempts=command.attempts,
        expires_at=command.expires_at,
    )
