"""Tuning of the headend: timeouts, retries, gaps, schedules. Plain data, no I/O."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from openprepaid.protocol.dlt645.fields import Password
from openprepaid.protocol.security.keys import MasterKey


@dataclass(frozen=True, slots=True)
class HeadendOptions:
    """Everything a line worker and the service can be tuned with.

    Times are real seconds (float). ``full_reading_every`` overrides every line's configured
    interval when given. ``time_zone`` is the meters' wall-clock zone (DL/T 645 clocks carry
    none): ``OPENPREPAID_TIME_ZONE`` or, without it, the host's local time — as the simulator.
    ``master_key`` is the site master key the money commands (open account, recharge) are
    sealed with; the command line loads it from ``OPENPREPAID_MASTER_KEY`` (else the public demo
    key, with a warning). Without one, a money command that has to be sent fails. It never
    shows in ``repr``.
    """

    turnaround: float = 0.5  # the meter's answer delay allowance per request
    network_slack: float = 0.3  # TCP, gateway buffering
    inter_frame_chars: float = 3.5  # silence between frames on a bus, in character times
    lost_after: int = 3  # consecutive failed polls before a meter is lost
    retries: int = 3  # attempts per command
    full_reading_every: dt.timedelta | None = None
    full_reading_at_start: bool = True  # else the first full readings spread over the interval
    status_sweep: bool = True
    lost_retry_every: float = 10.0  # poll a lost meter at most this often
    claim_every: float = 0.25  # ask the database for commands this often
    reconcile_every: float = 2.0
    stats_every: float = 5.0
    flush_every: float = 0.5
    flush_readings: int = 500
    reload_every: float = 60.0
    status_every: float = 2.0
    time_sync_daily: bool = True
    max_drift: dt.timedelta = dt.timedelta(seconds=60)
    command_valid_for: dt.timedelta = dt.timedelta(minutes=10)
    password: Password = field(default_factory=lambda: Password(0x02, "123456"))
    operator: str = "00000000"
    backoff_initial: float = 0.5
    backoff_cap: float = 30.0
    connect_timeout: float = 5.0
    stagger: float = 2.0  # start gateways spread over up to this many seconds
    seed: int | None = None  # jitter rng seed (tests); None: system entropy
    time_zone: str | None = field(default_factory=lambda: os.environ.get("OPENPREPAID_TIME_ZONE"))
    master_key: MasterKey | None = field(default=None, repr=False)

    def meter_now(self, now: dt.datetime) -> dt.datetime:
        """``now`` (aware) as the meters' naive wall-clock time, whole seconds."""
        local = now.astimezone(ZoneInfo(self.time_zone) if self.time_zone else None)
        return local.replace(tzinfo=None, microsecond=0)
