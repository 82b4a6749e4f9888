"""An in-memory Repository for the headend tests: the tests' database.

It applies the rules the protocol's docstrings state: readings deduplicated by (meter,
read_at), a newer queued relay command supersedes an older one, expired commands expire,
claims return commands stuck in sending/sent (older than ``lease``), lost-contact alarms open
and close once, the lifecycle is checked on every outcome."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field, replace

from openprepaid.headend.model import (
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
    PollFailure,
    Reading,
    check_transition,
)

PENDING = (CommandState.QUEUED, CommandState.SENDING, CommandState.SENT)


@dataclass
class Command:
    command_id: int
    meter_id: int
    kind: CommandKind
    params: dict
    queued_at: dt.datetime
    expires_at: dt.datetime | None = None
    origin: str = "operator"
    state: CommandState = CommandState.QUEUED
    attempts: int = 0
    claimed_at: dt.datetime | None = None
    history: list[CommandOutcome] = field(default_factory=list)


@dataclass
class Alarm:
    meter_id: int | None
    gateway_id: int | None
    lost_at: dt.datetime
    regained_at: dt.datetime | None = None
    reason: str = ""


class MemoryRepository:
    def __init__(self, lines: list[LineConfig], *, lease: dt.timedelta = dt.timedelta(seconds=30)):
        self._lines = list(lines)
        self.lease = lease
        self.lock = threading.Lock()
        self.gateway_of = {m.meter_id: line.gateway_id for line in lines for m in line.meters}
        self.desired: dict[int, tuple[DesiredRelay, bool]] = {}
        self.commands: dict[int, Command] = {}
        self.received: list[Reading] = []  # every reading handed over, duplicates included
        self.readings: dict[tuple[int, dt.datetime], Reading] = {}
        self.latest: dict[int, Reading] = {}
        self.failures: list[PollFailure] = []
        self.contact: list[ContactChange] = []
        self.alarms: list[Alarm] = []
        self.gateway_stats: list[GatewayStats] = []
        self.batches = 0

    # --- what the console does -----------------------------------------------------------------

    def enqueue(
        self,
        meter_id: int,
        kind: CommandKind,
        *,
        params: dict | None = None,
        now: dt.datetime | None = None,
        expires_at: dt.datetime | None = None,
        origin: str = "operator",
    ) -> int:
        with self.lock:
            return self._enqueue(meter_id, kind, params or {}, now, expires_at, origin)

    def _enqueue(self, meter_id, kind, params, now, expires_at, origin) -> int:
        command_id = len(self.commands) + 1
        self.commands[command_id] = Command(
            command_id,
            meter_id,
            CommandKind(kind),
            params,
            now or dt.datetime.now(dt.UTC),
            expires_at,
            origin,
        )
        return command_id

    def set_desired(self, meter_id: int, relay: DesiredRelay, keep_power: bool = False) -> None:
        with self.lock:
            self.desired[meter_id] = (relay, keep_power)

    def set_lines(self, lines: list[LineConfig]) -> None:
        with self.lock:
            self._lines = list(lines)

    def state(self, command_id: int) -> CommandState:
        with self.lock:
            return self.commands[command_id].state

    # --- the protocol --------------------------------------------------------------------------

    def lines(self) -> list[LineConfig]:
        with self.lock:
            return list(self._lines)

    def lost_state(self) -> tuple[set[int], set[int]]:
        with self.lock:
            open_alarms = [a for a in self.alarms if a.regained_at is None]
            return (
                {a.meter_id for a in open_alarms if a.meter_id is not None},
                {a.gateway_id for a in open_alarms if a.gateway_id is not None},
            )

    def store(self, batch: Batch) -> None:
        with self.lock:
            self.batches += 1
            for reading in batch.readings:
                self.received.append(reading)
                key = (reading.meter_id, reading.read_at)
                if key in self.readings:
                    continue
                self.readings[key] = reading
                latest = self.latest.get(reading.meter_id)
                if latest is None or latest.read_at <= reading.read_at:
                    self.latest[reading.meter_id] = reading
            self.failures.extend(batch.failures)
            for change in batch.contact:
                self.contact.append(change)
                self._alarm(change)
            self.gateway_stats.extend(batch.gateways)

    def _alarm(self, change: ContactChange) -> None:
        open_alarm = next(
            (
                a
                for a in self.alarms
                if a.regained_at is None
                and a.meter_id == change.meter_id
                and a.gateway_id == change.gateway_id
            ),
            None,
        )
        if change.lost and open_alarm is None:
            self.alarms.append(
                Alarm(change.meter_id, change.gateway_id, change.at, None, change.reason)
            )
        elif not change.lost and open_alarm is not None:
            open_alarm.regained_at = change.at

    def claim_commands(self, gateway_id: int, now: dt.datetime, limit: int) -> list[CommandOrder]:
        with self.lock:
            mine = [
                c for c in self.commands.values() if self.gateway_of.get(c.meter_id) == gateway_id
            ]
            claimed: list[CommandOrder] = []
            for command in sorted(mine, key=lambda c: c.command_id):
                if command.state is CommandState.QUEUED:
                    if command.expires_at is not None and command.expires_at <= now:
                        command.state = CommandState.EXPIRED
                        continue
                    if command.kind in RELAY_KINDS and any(
                        other.command_id > command.command_id
                        and other.meter_id == command.meter_id
                        and other.kind in RELAY_KINDS
                        and other.state is CommandState.QUEUED
                        for other in mine
                    ):
                        command.state = CommandState.SUPERSEDED
                        continue
                elif command.state in (CommandState.SENDING, CommandState.SENT):
                    if command.claimed_at is None or now - command.claimed_at < self.lease:
                        continue
                else:
                    continue
                if len(claimed) >= limit:
                    continue
                claimed.append(
                    CommandOrder(
                        command.command_id,
                        command.meter_id,
                        command.kind,
                        dict(command.params),
                        command.attempts,
                        command.expires_at,
                    )
                )
                if command.state is CommandState.QUEUED:
                    command.state = CommandState.SENDING
                command.attempts += 1
                command.claimed_at = now
            return claimed

    def finish_command(self, outcome: CommandOutcome) -> None:
        with self.lock:
            command = self.commands[outcome.command_id]
            check_transition(command.state, outcome.state)
            command.state = outcome.state
            command.history.append(outcome)

    def controls(self, gateway_id: int) -> list[MeterControl]:
        with self.lock:
            lost = {a.meter_id for a in self.alarms if a.regained_at is None}
            result = []
            for meter_id, gw in self.gateway_of.items():
                if gw != gateway_id:
                    continue
                relay, keep = self.desired.get(meter_id, (DesiredRelay.AUTO, False))
                latest = self.latest.get(meter_id)
                control = MeterControl(meter_id, relay, keep, lost_contact=meter_id in lost)
                if latest is not None:
                    control = replace(
                        control,
                        reported_relay_open=latest.relay_open,
                        reported_keep_power=latest.keep_power,
                    )
                result.append(control)
            return result

    def enqueue_reconcile(
        self, meter_id: int, kind: CommandKind, now: dt.datetime, reason: str
    ) -> int | None:
        with self.lock:
            if any(
                c.meter_id == meter_id and c.kind in RELAY_KINDS and c.state in PENDING
                for c in self.commands.values()
            ):
                return None
            return self._enqueue(meter_id, kind, {}, now, None, "reconcile")

    def pending_gateways(self) -> set[int]:
        with self.lock:
            return {
                self.gateway_of[c.meter_id]
                for c in self.commands.values()
                if c.state in PENDING and c.meter_id in self.gateway_of
            }

    def pending_meters(self, gateway_id: int) -> list[int]:
        with self.lock:
            return sorted(
                {
                    c.meter_id
                    for c in self.commands.values()
                    if c.state is CommandState.QUEUED
                    and self.gateway_of.get(c.meter_id) == gateway_id
                }
            )
