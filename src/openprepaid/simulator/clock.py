"""Simulated time: real or accelerated (:class:`SimClock`) and hand-driven (:class:`ManualClock`).

Meters keep naive local wall-clock time (DL/T 645 clocks carry no zone), so every simulated
moment is a naive ``datetime``. ``SimClock`` maps the monotonic clock onto simulated time:
``now() = start + (monotonic() - m0) × speed``. Bus timing stays in real seconds; use
:meth:`SimClock.real_seconds` to turn a simulated span into real seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime: ...


class SimClock:
    """Real time (``speed=1``) or accelerated time (``speed=3600``: one simulated hour per real
    second), starting at ``start`` (default: the current wall time in ``time_zone``, the site's
    zone such as ``"Asia/Shanghai"``, or the host's local time without one; whole seconds)."""

    def __init__(
        self,
        *,
        start: datetime | None = None,
        speed: int = 1,
        time_zone: str | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not isinstance(speed, int) or isinstance(speed, bool) or speed < 1:
            raise ValueError("the clock speed is a whole number of at least 1")
        if start is None and time_zone:
            # Meters keep naive local time: the site's wall clock, without its zone.
            start = datetime.now(ZoneInfo(time_zone)).replace(tzinfo=None, microsecond=0)
        elif start is None:
            start = datetime.now().replace(microsecond=0)  # noqa: DTZ005 - the host's local time
        if start.tzinfo is not None:
            raise ValueError("simulated time is naive local time")
        self.start = start
        self.speed = speed
        self._monotonic = monotonic
        self._m0 = monotonic()

    def now(self) -> datetime:
        elapsed = self._monotonic() - self._m0
        # Microseconds as an integer so that the mapping is exact at any speed.
        return self.start + timedelta(microseconds=int(elapsed * 1_000_000) * self.speed)

    def real_seconds(self, sim: timedelta) -> float:
        """How many real seconds ``sim`` of simulated time take at this speed."""
        return sim.total_seconds() / self.speed


class ManualClock:
    """A clock that moves only when told to (tests)."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = moment

    def advance(self, delta: timedelta) -> None:
        self._now += delta
