"""Carrying out one claimed command on the bus, confirmed by reading the meter back.

Relay and keep-power commands are confirmed only when the meter's status (DL/T 645 status
word 3, the Modbus status block) shows the wanted state. *Ghost success*: when a command got
no reply, or when the command comes back after a restart (``attempts`` > 0), the status is
read first; if the meter already shows the wanted state the command is confirmed without
being sent again. Otherwise it is sent again, up to ``retries`` attempts, then failed. A
command is never sent twice once a read-back shows it done. Money commands (open account,
recharge) are carried out by :mod:`openprepaid.headend.money`, on the purchase count.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from openprepaid.headend.bus import LineBus
from openprepaid.headend.model import (
    MONEY_KINDS,
    CommandKind,
    CommandOrder,
    CommandOutcome,
    CommandState,
    MeterTarget,
    Reading,
)
from openprepaid.headend.money import MoneyCommand
from openprepaid.headend.options import HeadendOptions
from openprepaid.headend.reader import FULL, STATUS, PollError, is_modbus, modbus_read, poll
from openprepaid.headend.transport import ReplyTimeout
from openprepaid.protocol.dlt645 import AbnormalReply, Ack
from openprepaid.protocol.dlt645 import profile as dlt
from openprepaid.protocol.errors import LocalProtocolError
from openprepaid.protocol.modbus import ExceptionResponse, ReadHoldingRegistersRequest, acrel
from openprepaid.protocol.modbus.profile import modbus_profile

Report = Callable[[CommandOutcome], Awaitable[None]]


def wanted(kind: CommandKind) -> Callable[[Reading], bool] | None:
    """The read-back test of a relay command (``None`` for the others)."""
    return {
        CommandKind.TRIP: lambda r: r.relay_open is True,
        CommandKind.CLOSE: lambda r: r.relay_open is False,
        CommandKind.CLOSE_ALLOWED: lambda r: (
            r.relay_commanded_trip is not True
            and (r.relay_commanded_trip is False or r.relay_open is False)
        ),
        CommandKind.KEEP_POWER_ON: lambda r: r.keep_power is True,
        CommandKind.KEEP_POWER_OFF: lambda r: r.keep_power is False,
        CommandKind.RESUME_PREPAID: lambda r: (
            r.keep_power is False and r.relay_commanded_trip is not True
        ),
    }.get(kind)


class CommandRefused(Exception):
    """The meter answered no (or the command cannot be expressed for it)."""


@dataclass(slots=True)
class Execution:
    """What carrying out a command produced: readings for the batch, the final outcome."""

    readings: list[Reading] = field(default_factory=list)
    sends: int = 0  # how many times the command went on the wire


class CommandRunner:
    def __init__(
        self,
        bus: LineBus,
        options: HeadendOptions,
        now: Callable[[], dt.datetime],
        report: Report,
    ) -> None:
        self.bus = bus
        self.options = options
        self.now = now
        self.report = report

    async def _finish(self, order: CommandOrder, state: CommandState, detail: str = "") -> None:
        await self.report(CommandOutcome(order.command_id, state, self.now(), detail))

    async def run(self, order: CommandOrder, meter: MeterTarget) -> Execution:
        """Carry out ``order`` and report its outcome (sent, then confirmed or failed)."""
        execution = Execution()
        try:
            if order.kind is CommandKind.READ_NOW:
                await self._read_now(order, meter, execution)
            elif order.kind in MONEY_KINDS:
                finish = functools.partial(self._finish, order)
                await MoneyCommand(self.bus, self.options, self.now, finish, execution).run(
                    order, meter
                )
            elif wanted(order.kind) is not None:
                await self._relay(order, meter, execution)
            else:
                await self._write(order, meter, execution)
        except CommandRefused as exc:
            await self._finish(order, CommandState.FAILED, str(exc))
        return execution

    # --- read now ------------------------------------------------------------------------------

    async def _read_now(self, order: CommandOrder, meter: MeterTarget, ex: Execution) -> None:
        reason = ""
        for _ in range(max(1, self.options.retries)):
            try:
                ex.readings.append(await poll(self.bus, meter, FULL, self.now))
            except PollError as exc:
                reason = exc.reason
                continue
            await self._finish(order, CommandState.CONFIRMED)
            return
        await self._finish(order, CommandState.FAILED, f"no reading: {reason}")

    # --- relay and keep power ------------------------------------------------------------------

    async def _read_back(self, meter: MeterTarget, ex: Execution) -> Reading | None:
        try:
            reading = await poll(self.bus, meter, STATUS, self.now)
        except PollError:
            return None
        ex.readings.append(reading)
        return reading

    async def _relay(self, order: CommandOrder, meter: MeterTarget, ex: Execution) -> None:
        test = wanted(order.kind)
        assert test is not None
        if order.attempts > 0:
            # Claimed again after a restart: it may already have acted.
            status = await self._read_back(meter, ex)
            if status is not None and test(status):
                await self._finish(order, CommandState.CONFIRMED, "already in effect")
                return
        sent = False
        last = "no reply"
        for _ in range(max(1, self.options.retries)):
            try:
                await self._send_relay(order.kind, meter)
                answered = True
            except ReplyTimeout:
                answered = False
            ex.sends += 1
            if not sent:
                sent = True
                await self._finish(order, CommandState.SENT)
            status = await self._read_back(meter, ex)
            if status is not None and test(status):
                detail = "" if answered else "reply lost; confirmed by reading back"
                await self._finish(order, CommandState.CONFIRMED, detail)
                return
            if answered and status is not None:
                last = f"the meter accepted it but reports {_describe(status)}"
                break  # acknowledged but without effect (keep power, say): sending again won't help
            last = "no reply" if status is None or not answered else last
        await self._finish(order, CommandState.FAILED, last)

    async def _send_relay(self, kind: CommandKind, meter: MeterTarget) -> None:
        """Send the command (two for resume prepaid on DL/T 645); ``CommandRefused`` on no."""
        if is_modbus(meter):
            profile = modbus_profile(meter.profile)
            requests = {
                CommandKind.TRIP: [profile.trip()],
                CommandKind.CLOSE: [profile.close()],
                CommandKind.CLOSE_ALLOWED: [profile.close()],
                CommandKind.KEEP_POWER_ON: [profile.keep_power(True)],
                CommandKind.KEEP_POWER_OFF: [profile.keep_power(False)],
                CommandKind.RESUME_PREPAID: [profile.keep_power(False)],
            }[kind]
            for request in requests:
                await self._modbus(meter, request)
            return
        profile = dlt.dlt645_profile(meter.profile)
        options = self.options
        auth: dict[str, Any] = {
            "valid_until": options.meter_now(self.now()) + options.command_valid_for,
            "password": options.password,
            "operator": options.operator,
        }
        address = meter.address
        requests = {
            CommandKind.TRIP: lambda: [profile.trip(address, **auth)],
            CommandKind.CLOSE: lambda: [profile.direct_close(address, **auth)],
            CommandKind.CLOSE_ALLOWED: lambda: [profile.close_allowed(address, **auth)],
            CommandKind.KEEP_POWER_ON: lambda: [profile.keep_power(address, True, **auth)],
            CommandKind.KEEP_POWER_OFF: lambda: [profile.keep_power(address, False, **auth)],
            CommandKind.RESUME_PREPAID: lambda: [
                profile.keep_power(address, False, **auth),
                profile.close_allowed(address, **auth),
            ],
        }[kind]()
        for request in requests:
            await self._dlt645(request)

    async def _dlt645(self, request: Any) -> None:
        reply = await self.bus.dlt645(request)
        if isinstance(reply, AbnormalReply):
            raise CommandRefused(f"refused by the meter: {reply.error!r}")
        if not isinstance(reply, Ack):
            raise CommandRefused(f"unexpected reply {type(reply).__name__}")

    async def _modbus(self, meter: MeterTarget, request: Any) -> None:
        response = await self.bus.modbus(int(meter.address), request)
        if isinstance(response, ExceptionResponse):
            if response.exception in (0x0A, 0x0B):
                raise ReplyTimeout("the gateway got no answer")
            raise CommandRefused(f"refused by the meter: {response.exception.name}")

    # --- writes: prices, settings, time --------------------------------------------------------

    async def _write(self, order: CommandOrder, meter: MeterTarget, ex: Execution) -> None:
        sends = await self._write_requests(order, meter)
        last = "no reply"
        for _ in range(max(1, self.options.retries)):
            try:
                for send in sends:
                    await send()
            except ReplyTimeout:
                ex.sends += 1
                continue
            ex.sends += 1
            await self._finish(order, CommandState.CONFIRMED)
            return
        await self._finish(order, CommandState.FAILED, last)

    async def _write_requests(
        self, order: CommandOrder, meter: MeterTarget
    ) -> list[Callable[[], Awaitable[None]]]:
        kind, params = order.kind, order.params or {}
        options = self.options
        try:
            if kind is CommandKind.TIME_SYNC:
                if is_modbus(meter):
                    raise CommandRefused("Modbus meters have no clock to set")
                profile = dlt.dlt645_profile(meter.profile)

                async def set_time() -> None:
                    moment = options.meter_now(self.now())
                    for request in profile.set_time(
                        meter.address, moment, password=options.password, operator=options.operator
                    ):
                        await self._dlt645(request)

                return [set_time]
            if kind is CommandKind.PUSH_PRICES:
                prices = [Decimal(str(p)) for p in params.get("prices", ())]
                if is_modbus(meter):
                    if len(prices) != 4:
                        raise CommandRefused("Modbus meters take exactly four prices")
                    request = modbus_profile(meter.profile).push_prices(*prices)
                    return [lambda: self._modbus(meter, request)]
                writes = dlt.dlt645_profile(meter.profile).push_prices(
                    meter.address, prices, password=options.password, operator=options.operator
                )
                return [lambda w=w: self._dlt645(w) for w in writes]
            if kind is CommandKind.PUSH_SETTINGS:
                return self._settings(meter, params)
        except (LocalProtocolError, InvalidOperation, TypeError, ValueError) as exc:
            raise CommandRefused(f"cannot express the command: {exc}") from None
        raise CommandRefused(f"unknown command {kind}")

    def _settings(self, meter: MeterTarget, params: dict) -> list[Callable[[], Awaitable[None]]]:
        unknown = sorted(set(params) - set(dlt.THRESHOLD_DIS))
        if unknown:
            raise CommandRefused(f"unsupported settings: {', '.join(unknown)}")
        values = {name: Decimal(str(value)) for name, value in params.items()}
        options = self.options
        if not is_modbus(meter):
            writes = dlt.dlt645_profile(meter.profile).push_thresholds(
                meter.address, password=options.password, operator=options.operator, **values
            )
            return [lambda w=w: self._dlt645(w) for w in writes]
        if "hoarding_limit" in values:
            raise CommandRefused("Modbus meters have no hoarding limit")
        profile = modbus_profile(meter.profile)
        names = ("alarm_1", "alarm_2", "overdraft_limit", "close_allowed_limit")

        async def push() -> None:
            current = dict(values)
            if set(names) - set(current):
                # The four thresholds are one write: fill the ones not given from the meter.
                block = ReadHoldingRegistersRequest(acrel.SIM_THRESHOLDS[0].address, 8)
                try:
                    registers = await modbus_read(self.bus, meter, block)
                except PollError as exc:
                    raise ReplyTimeout(exc.reason) from None
                if registers is None:
                    raise CommandRefused("the meter refused to show its thresholds")
                read = acrel.decode_values(profile.register_map, {block.address: registers})
                for name, register in zip(names, acrel.SIM_THRESHOLDS, strict=True):
                    current.setdefault(name, read[register.name])
            await self._modbus(meter, profile.push_thresholds(*(current[n] for n in names)))

        return [push]


def _describe(reading: Reading) -> str:
    relay = {True: "relay open", False: "relay closed", None: "relay unknown"}[reading.relay_open]
    keep = " and keep power" if reading.keep_power else ""
    return relay + keep
