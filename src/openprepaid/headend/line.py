"""One worker per gateway line: it owns the connection and keeps exactly one request in flight.

Each turn of the loop, in order: a claimed command (commands preempt polling); the daily
broadcast time sync; setting the clock of a meter found drifting; a full reading that is due
(every ``full_reading_every`` per meter, the first pass at start); otherwise a status sweep of
the next meter, round robin, so the bus is never idle. Side tasks talk to the database only:
the reconciler (desired against reported state, every ``reconcile_every``) and the gateway
statistics report. Commands are claimed by :meth:`LineWorker.claim_now`, which the headend's
one dispatcher calls for the lines that have work (``Repository.pending_gateways``).

Time sync on drift is done by the worker itself, not as a command row: a full reading that
shows the meter's clock more than ``max_drift`` off puts the meter on a list, and the next turn
writes its date and time (DL/T 645 04000101/04000102), then the meter is read in full again at
its next due time.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import logging
import random
import time
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal

from openprepaid.headend.batching import Collector
from openprepaid.headend.bus import BusStats, LineBus
from openprepaid.headend.contact import ContactTracker
from openprepaid.headend.control import CommandRunner
from openprepaid.headend.model import (
    CommandOrder,
    CommandOutcome,
    CommandState,
    GatewayStats,
    IllegalTransition,
    LineConfig,
    MeterTarget,
    PollFailure,
    Reading,
)
from openprepaid.headend.options import HeadendOptions
from openprepaid.headend.reader import FULL, STATUS, PollError, is_modbus, poll
from openprepaid.headend.reconcile import decide
from openprepaid.headend.repository import Repository
from openprepaid.headend.transport import Backoff, LinkLost, open_link
from openprepaid.protocol.dlt645 import AbnormalReply
from openprepaid.protocol.dlt645 import profile as dlt

log = logging.getLogger(__name__)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _ms(seconds: float) -> Decimal:
    return Decimal(f"{seconds * 1000:.1f}")


class LineWorker:
    def __init__(
        self,
        line: LineConfig,
        repo: Repository,
        collector: Collector,
        contact: ContactTracker,
        options: HeadendOptions,
        *,
        clock: Callable[[], dt.datetime] = utcnow,
        rng: random.Random | None = None,
    ) -> None:
        self.line = line
        self.repo = repo
        self.collector = collector
        self.contact = contact
        self.options = options
        self.clock = clock
        self.rng = rng or random.Random(  # noqa: S311 - jitter, not secrets
            None if options.seed is None else f"{options.seed}:{line.gateway_id}"
        )
        self.backoff = Backoff(options.backoff_initial, options.backoff_cap, self.rng)
        self.meters = {m.meter_id: m for m in line.meters}
        self.order = list(line.meters)
        self.interval = (options.full_reading_every or line.full_reading_every).total_seconds()
        self.bus: LineBus | None = None
        self.stats = BusStats()  # since the last gateway report, over reconnects
        self.totals = BusStats()  # since the start
        self.orders: collections.deque[CommandOrder] = collections.deque()
        self.known: set[int] = set()  # command ids claimed and not finished
        # Recently finished ids: a claim that raced a command's end must not bring it back.
        self.finished: collections.deque[int] = collections.deque(maxlen=1000)
        self.interrupted: set[int] = set()  # commands cut off by a lost connection
        self.busy: set[int] = set()  # meters with a command being carried out
        self.latest: dict[int, Reading] = {}  # the newest reading of each meter (this worker)
        self.next_full: dict[int, float] = {}
        if not options.full_reading_at_start:
            start, count = time.monotonic(), len(self.order)
            for i, meter in enumerate(self.order):
                self.next_full[meter.meter_id] = start + self.interval * (i + 1) / count
        self.next_lost_poll: dict[int, float] = {}
        self.drifted: collections.deque[int] = collections.deque()
        self.next_broadcast = 0.0
        self.cursor = 0
        self.sweep_started = time.monotonic()
        self.last_sweep = None  # seconds the last complete status pass took
        self.readings = 0
        self.last_error = ""
        self.connected = False
        self.connects = 0

    # --- the loop ------------------------------------------------------------------------------

    async def run(self) -> None:
        if self.options.stagger:
            await asyncio.sleep(self.rng.random() * self.options.stagger)
        side = [
            asyncio.create_task(self._reconciler()),
            asyncio.create_task(self._reporter()),
        ]
        try:
            while True:
                if self.bus is None:
                    await self._connect()
                    continue
                try:
                    await self._turn()
                except LinkLost as exc:
                    self._disconnect(str(exc))
                except Exception as exc:  # a bug or bad configuration: keep the line going
                    log.exception("line %s: unexpected error", self.line.name)
                    self.last_error = f"{type(exc).__name__}: {exc}"
                    await asyncio.sleep(1.0)
        finally:
            for task in side:
                task.cancel()
            if self.bus is not None:
                self.bus.link.close()
            await asyncio.gather(*side, return_exceptions=True)

    async def close(self) -> None:
        """After cancelling :meth:`run`: put claimed, unstarted commands back in the queue."""
        while self.orders:
            order = self.orders.popleft()
            await self._report(
                CommandOutcome(
                    order.command_id, CommandState.QUEUED, self.clock(), "headend stopped"
                )
            )

    async def _connect(self) -> None:
        try:
            link = await open_link(self.line, timeout=self.options.connect_timeout)
        except LinkLost as exc:
            self.last_error = str(exc)
            change = self.contact.gateway_connect(
                self.line.gateway_id, False, self.clock(), str(exc)
            )
            if change is not None:
                self.collector.add_contact(change)
            await asyncio.sleep(self.backoff.next_delay())
            return
        self.backoff.reset()
        self.connects += 1
        self.bus = LineBus(link, self.line, self.options, stats=self.stats, totals=self.totals)
        self.connected = True
        change = self.contact.gateway_connect(self.line.gateway_id, True, self.clock())
        if change is not None:
            self.collector.add_contact(change)
        await self.claim_now()  # commands waiting before the first poll go first

    def _disconnect(self, reason: str) -> None:
        self.last_error = reason
        log.info("line %s: %s", self.line.name, reason)
        if self.bus is not None:
            self.bus.link.close()
        self.bus = None
        self.connected = False
        self._report_stats()

    async def _turn(self) -> None:
        if self.orders:
            await self._command(self.orders.popleft())
            return
        now = time.monotonic()
        if self.options.time_sync_daily and now >= self.next_broadcast:
            await self._broadcast_time()
            self.next_broadcast = now + 86400
            return
        if self.drifted:
            await self._set_clock(self.meters[self.drifted.popleft()])
            return
        meter, kind = self._next_poll(now)
        if meter is None:
            await asyncio.sleep(0.05)
            return
        await self._poll(meter, kind)

    def _pollable(self, meter: MeterTarget, now: float) -> bool:
        if meter.meter_id in self.busy:
            return False
        if self.contact.is_lost(meter.meter_id):
            return now >= self.next_lost_poll.get(meter.meter_id, 0.0)
        return True

    def _next_poll(self, now: float) -> tuple[MeterTarget | None, str]:
        # The most overdue full reading first: in bus order, a full-reading interval shorter
        # than one pass over the bus would read the first meters again and again.
        due: MeterTarget | None = None
        due_at = now
        for meter in self.order:
            at = self.next_full.get(meter.meter_id, 0.0)
            if at <= due_at and (due is None or at < due_at) and self._pollable(meter, now):
                due, due_at = meter, at
        if due is not None:
            return due, FULL
        if not self.options.status_sweep or not self.order:
            return None, STATUS
        for _ in range(len(self.order)):
            if self.cursor >= len(self.order):
                self.cursor = 0
                self.last_sweep = now - self.sweep_started
                self.sweep_started = now
            meter = self.order[self.cursor]
            self.cursor += 1
            if self._pollable(meter, now):
                return meter, STATUS
        return None, STATUS

    async def _poll(self, meter: MeterTarget, kind: str) -> None:
        assert self.bus is not None
        try:
            reading = await poll(self.bus, meter, kind, self.clock)
        except PollError as exc:
            self._failed(meter, exc.reason)
            return
        self._got(reading)
        if kind == FULL:
            self.next_full[meter.meter_id] = time.monotonic() + self.interval
            self._check_drift(meter, reading)

    def _failed(self, meter: MeterTarget, reason: str) -> None:
        at = self.clock()
        self.collector.add_failure(PollFailure(meter.meter_id, at, reason))
        change = self.contact.meter_polled(meter.meter_id, False, at, reason)
        if change is not None:
            self.collector.add_contact(change)
        if self.contact.is_lost(meter.meter_id):
            self.next_lost_poll[meter.meter_id] = time.monotonic() + self.options.lost_retry_every

    def _got(self, reading: Reading) -> None:
        self.collector.add_reading(reading)
        self.readings += 1
        previous = self.latest.get(reading.meter_id)
        if previous is None or previous.read_at <= reading.read_at:
            self.latest[reading.meter_id] = reading
        change = self.contact.meter_polled(reading.meter_id, True, reading.read_at)
        if change is not None:
            self.collector.add_contact(change)

    # --- time ----------------------------------------------------------------------------------

    def _check_drift(self, meter: MeterTarget, reading: Reading) -> None:
        if reading.meter_time is None or meter.meter_id in self.drifted:
            return
        drift = abs(reading.meter_time - self.options.meter_now(reading.read_at))
        if drift > self.options.max_drift:
            self.drifted.append(meter.meter_id)

    async def _broadcast_time(self) -> None:
        assert self.bus is not None
        meters = [m for m in self.order if not is_modbus(m)]
        if not meters:
            return
        profile = dlt.dlt645_profile(meters[0].profile)
        await self.bus.broadcast_time(profile.broadcast_time(self.options.meter_now(self.clock())))

    async def _set_clock(self, meter: MeterTarget) -> None:
        assert self.bus is not None
        options = self.options
        profile = dlt.dlt645_profile(meter.profile)
        writes = profile.set_time(
            meter.address,
            options.meter_now(self.clock()),
            password=options.password,
            operator=options.operator,
        )
        for write in writes:
            try:
                reply = await self.bus.dlt645(write)
            except TimeoutError:
                return  # the next full reading will find it still drifting
            if isinstance(reply, AbnormalReply):
                log.warning("meter %s refused the time: %r", meter.address, reply.error)
                return

    # --- commands ------------------------------------------------------------------------------

    async def _report(self, outcome: CommandOutcome) -> None:
        try:
            await asyncio.to_thread(self.repo.finish_command, outcome)
        except IllegalTransition as exc:
            log.warning("command %s: %s", outcome.command_id, exc)

    async def _command(self, order: CommandOrder) -> None:
        assert self.bus is not None
        meter = self.meters.get(order.meter_id)
        requeued = False
        try:
            if meter is None:
                await self._report(
                    CommandOutcome(
                        order.command_id, CommandState.FAILED, self.clock(), "meter not on line"
                    )
                )
                return
            self.busy.add(meter.meter_id)
            if order.command_id in self.interrupted:
                order = replace(order, attempts=max(1, order.attempts))
            runner = CommandRunner(self.bus, self.options, self.clock, self._report)
            try:
                execution = await runner.run(order, meter)
            except LinkLost:
                requeued = True
                self.interrupted.add(order.command_id)  # it may have acted: read back first
                await self._report(
                    CommandOutcome(
                        order.command_id, CommandState.QUEUED, self.clock(), "connection lost"
                    )
                )
                raise
            except Exception as exc:
                log.exception("command %s failed unexpectedly", order.command_id)
                await self._report(
                    CommandOutcome(
                        order.command_id,
                        CommandState.FAILED,
                        self.clock(),
                        f"{type(exc).__name__}: {exc}",
                    )
                )
                return
            for reading in execution.readings:
                self._got(reading)
        finally:
            if not requeued:
                self.finished.append(order.command_id)
                self.interrupted.discard(order.command_id)
            self.known.discard(order.command_id)
            if meter is not None:
                self.busy.discard(meter.meter_id)

    async def claim_now(self) -> None:
        """Claim the line's queued commands into the worker's queue."""
        try:
            orders = await asyncio.to_thread(
                self.repo.claim_commands, self.line.gateway_id, self.clock(), 16
            )
        except Exception:
            log.exception("line %s: claiming commands failed", self.line.name)
            return
        for order in orders:
            if order.command_id not in self.known and order.command_id not in self.finished:
                self.known.add(order.command_id)
                self.orders.append(order)

    async def _reconciler(self) -> None:
        while True:
            await asyncio.sleep(self.options.reconcile_every)
            try:
                await self.reconcile_once()
            except Exception:
                log.exception("line %s: reconciling failed", self.line.name)

    async def reconcile_once(self) -> list[tuple[int, str]]:
        """Compare desired and reported state once; queue what the reconciler decides."""
        controls = await asyncio.to_thread(self.repo.controls, self.line.gateway_id)
        pending = self.busy | {o.meter_id for o in self.orders}
        queued = []
        for control in controls:
            latest = self.latest.get(control.meter_id)
            if latest is not None:  # fresher than the database, which lags by a flush
                if latest.relay_open is not None:
                    control = replace(control, reported_relay_open=latest.relay_open)
                if latest.keep_power is not None:
                    control = replace(control, reported_keep_power=latest.keep_power)
            control = replace(control, lost_contact=self.contact.is_lost(control.meter_id))
            kind = decide(control, control.meter_id in pending)
            if kind is None:
                continue
            command_id = await asyncio.to_thread(
                self.repo.enqueue_reconcile,
                control.meter_id,
                kind,
                self.clock(),
                f"desired {control.desired_relay}, keep power {control.desired_keep_power}",
            )
            if command_id is not None:
                queued.append((control.meter_id, str(kind)))
        return queued

    # --- health --------------------------------------------------------------------------------

    async def _reporter(self) -> None:
        while True:
            await asyncio.sleep(self.options.stats_every)
            self._report_stats()

    def _report_stats(self) -> None:
        stats = self.stats.take()
        self.collector.add_gateway(
            GatewayStats(
                gateway_id=self.line.gateway_id,
                at=self.clock(),
                connected=self.connected,
                requests=stats.requests if stats else 0,
                failures=stats.failures if stats else 0,
                round_trip_ms_avg=_ms(stats.rtt_total / stats.rtt_count)
                if stats and stats.rtt_count
                else None,
                round_trip_ms_max=_ms(stats.rtt_max) if stats and stats.rtt_count else None,
                last_error=self.last_error,
            )
        )

    def status(self) -> dict:
        totals = self.totals
        return {
            "gateway_id": self.line.gateway_id,
            "name": self.line.name,
            "transport": self.line.transport,
            "connected": self.connected,
            "connects": self.connects,
            "meters": len(self.order),
            "lost_meters": sum(1 for m in self.order if self.contact.is_lost(m.meter_id)),
            "requests": totals.requests if totals else 0,
            "failures": totals.failures if totals else 0,
            "rtt_ms_avg": float(_ms(totals.rtt_total / totals.rtt_count))
            if totals and totals.rtt_count
            else None,
            "rtt_ms_max": float(_ms(totals.rtt_max)) if totals and totals.rtt_count else None,
            "last_sweep_seconds": None if self.last_sweep is None else round(self.last_sweep, 3),
            "readings": self.readings,
            "commands_waiting": len(self.orders),
            "last_error": self.last_error,
        }
