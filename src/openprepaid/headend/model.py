"""What the headend and the database exchange: plain frozen dataclasses, no Django.

The headend sits below the domain in the layers, so it cannot import the domain's models. It
states what it needs as these records and the :class:`~openprepaid.headend.repository.Repository`
protocol; the domain implements the protocol (``openprepaid.domain.metering.repository``) and the
command line wires the two together. Times are aware UTC datetimes except ``meter_time``, which is
the meter's own naive wall-clock time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum


class CommandKind(StrEnum):
    TRIP = "trip"
    CLOSE = "close"  # direct close
    CLOSE_ALLOWED = "close_allowed"
    KEEP_POWER_ON = "keep_power_on"
    KEEP_POWER_OFF = "keep_power_off"
    RESUME_PREPAID = "resume_prepaid"  # keep power off and the relay back to the meter's rule
    PUSH_PRICES = "push_prices"  # params: {"prices": ["1.2000", "1.0000", "0.7000", "0.4000"]}
    PUSH_SETTINGS = "push_settings"  # params: thresholds in yuan, e.g. {"alarm_1": "50.00"}
    TIME_SYNC = "time_sync"
    READ_NOW = "read_now"
    # Money on the meter (local cost control), queued only by the billing services:
    # params {"amount": "100.00", "purchase_count": 3, "customer": "000000000001"}.
    OPEN_ACCOUNT = "open_account"  # the first purchase, which also opens the account on the meter
    RECHARGE = "recharge"


#: Commands that put money on a meter: never from an operator's command form, never superseded;
#: confirmed only by the meter's purchase count (and balance) read back.
MONEY_KINDS = frozenset({CommandKind.OPEN_ACCOUNT, CommandKind.RECHARGE})

#: Commands that move the relay or keep power: a newer one supersedes an older queued one.
RELAY_KINDS = frozenset(
    {
        CommandKind.TRIP,
        CommandKind.CLOSE,
        CommandKind.CLOSE_ALLOWED,
        CommandKind.KEEP_POWER_ON,
        CommandKind.KEEP_POWER_OFF,
        CommandKind.RESUME_PREPAID,
    }
)


class CommandState(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"  # on the wire, the outcome not yet confirmed by reading back
    CONFIRMED = "confirmed"
    FAILED = "failed"
    SUPERSEDED = "superseded"
    EXPIRED = "expired"


#: The command lifecycle as a table: state → the states it may move to.
TRANSITIONS: dict[CommandState, frozenset[CommandState]] = {
    CommandState.QUEUED: frozenset(
        {CommandState.SENDING, CommandState.SUPERSEDED, CommandState.EXPIRED}
    ),
    CommandState.SENDING: frozenset(
        {CommandState.SENT, CommandState.CONFIRMED, CommandState.FAILED, CommandState.QUEUED}
    ),
    CommandState.SENT: frozenset(
        {CommandState.CONFIRMED, CommandState.FAILED, CommandState.QUEUED}
    ),
    CommandState.CONFIRMED: frozenset(),
    CommandState.FAILED: frozenset(),
    CommandState.SUPERSEDED: frozenset(),
    CommandState.EXPIRED: frozenset(),
}
FINAL_STATES = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)


class IllegalTransition(ValueError):
    """A command asked to move between states the lifecycle does not connect."""


def check_transition(old: CommandState, new: CommandState) -> None:
    if new not in TRANSITIONS[CommandState(old)]:
        raise IllegalTransition(f"a command cannot go from {old} to {new}")


class DesiredRelay(StrEnum):
    AUTO = "auto"  # the meter's own rule (local cost control) or the account's (billing)
    CLOSED = "closed"
    OPEN = "open"


@dataclass(frozen=True, slots=True)
class MeterTarget:
    """A meter as a gateway line sees it."""

    meter_id: int
    address: str  # 12 digits (DL/T 645) or the Modbus unit id "1".."247"
    protocol: str  # "dlt645_2007" | "modbus_rtu"
    profile: str
    phases: int = 1
    ct_ratio: int = 1
    cost_control: str = "remote"


@dataclass(frozen=True, slots=True)
class LineConfig:
    """One gateway line: how to reach it and the meters on its bus."""

    gateway_id: int
    name: str
    transport: str  # "transparent_tcp" | "modbus_tcp" | "serial"
    host: str = ""
    port: int = 0
    serial_device: str = ""
    baud_rate: int = 2400
    parity: str = "E"
    meters: tuple[MeterTarget, ...] = ()
    full_reading_every: dt.timedelta = dt.timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class Reading:
    """What one poll of one meter found. ``kind`` is ``"full"`` (energy per tariff, balance,
    purchase count, status, power, voltage, current, clock) or ``"status"`` (relay status word
    and balance). Values the poll did not cover are ``None``."""

    meter_id: int
    read_at: dt.datetime
    kind: str = "full"
    energy_total: Decimal | None = None  # kWh, primary (CT ratio applied)
    energy_sharp: Decimal | None = None
    energy_peak: Decimal | None = None
    energy_flat: Decimal | None = None
    energy_valley: Decimal | None = None
    remaining: Decimal | None = None  # yuan on the meter (local cost control)
    overdraft: Decimal | None = None
    purchase_count: int | None = None
    relay_open: bool | None = None
    relay_commanded_trip: bool | None = None
    keep_power: bool | None = None
    account_opened: bool | None = None
    power_kw: Decimal | None = None
    voltage: tuple[Decimal, ...] = ()
    current: tuple[Decimal, ...] = ()
    meter_time: dt.datetime | None = None
    status_word_1: int | None = None
    status_word_3: int | None = None

    @property
    def value_count(self) -> int:
        """How many data items this reading carries (the benchmark's unit)."""
        count = sum(
            v is not None
            for v in (
                self.energy_total,
                self.energy_sharp,
                self.energy_peak,
                self.energy_flat,
                self.energy_valley,
                self.remaining,
                self.overdraft,
                self.purchase_count,
                self.relay_open,
                self.keep_power,
                self.power_kw,
                self.meter_time,
                self.status_word_1,
                self.status_word_3,
            )
        )
        return count + len(self.voltage) + len(self.current)


@dataclass(frozen=True, slots=True)
class PollFailure:
    meter_id: int
    at: dt.datetime
    reason: str  # "timeout", "garbled", "refused: …", "connection: …"


@dataclass(frozen=True, slots=True)
class ContactChange:
    """A meter or a whole gateway lost or regained: recorded once, as an alarm."""

    at: dt.datetime
    lost: bool
    meter_id: int | None = None
    gateway_id: int | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class GatewayStats:
    gateway_id: int
    at: dt.datetime
    connected: bool
    requests: int  # since the last report
    failures: int
    round_trip_ms_avg: Decimal | None = None
    round_trip_ms_max: Decimal | None = None
    last_error: str = ""


@dataclass(frozen=True, slots=True)
class Batch:
    """Everything a line worker hands over at once (written in one transaction)."""

    readings: tuple[Reading, ...] = ()
    failures: tuple[PollFailure, ...] = ()
    contact: tuple[ContactChange, ...] = ()
    gateways: tuple[GatewayStats, ...] = ()


@dataclass(frozen=True, slots=True)
class CommandOrder:
    """A command the headend has claimed (state ``sending``)."""

    command_id: int
    meter_id: int
    kind: CommandKind
    params: dict = field(default_factory=dict)
    attempts: int = 0
    expires_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class CommandOutcome:
    command_id: int
    state: CommandState  # sent, confirmed, failed, or queued again (retry later)
    at: dt.datetime
    detail: str = ""


@dataclass(frozen=True, slots=True)
class MeterControl:
    """What the meter should be doing (from the account and operator overrides) and what it was
    last seen doing; the reconciler compares the two."""

    meter_id: int
    desired_relay: DesiredRelay = DesiredRelay.AUTO
    desired_keep_power: bool = False
    reported_relay_open: bool | None = None
    reported_keep_power: bool | None = None
    lost_contact: bool = False
