"""The meter's time-of-use day table: which tariff applies at a time of day.

Tariffs are numbered as DL/T 645 numbers them: 1 sharp (尖), 2 peak (峰), 3 flat (平), 4 valley
(谷). A day table holds up to 14 switch points ``(hour, minute, tariff)``; each tariff runs from
its switch point to the next, and the last one wraps past midnight to the first. The table is
read and written as DI 04010001 (``day_table_1_set_1``, 14 × ``hhmmNN``).

The default is a typical commercial table:

======  =====  ======
from    to     tariff
======  =====  ======
00:00   08:00  4 valley
08:00   10:00  3 flat
10:00   12:00  2 peak
12:00   14:00  1 sharp
14:00   17:00  2 peak
17:00   19:00  3 flat
19:00   21:00  1 sharp
21:00   23:00  2 peak
23:00   24:00  4 valley
======  =====  ======
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, time, timedelta

MAX_SWITCHES = 14
TARIFFS = (1, 2, 3, 4)
TARIFF_NAMES = {1: "sharp", 2: "peak", 3: "flat", 4: "valley"}
DEFAULT_DAY_TABLE: tuple[tuple[int, int, int], ...] = (
    (0, 0, 4),
    (8, 0, 3),
    (10, 0, 2),
    (12, 0, 1),
    (14, 0, 2),
    (17, 0, 3),
    (19, 0, 1),
    (21, 0, 2),
    (23, 0, 4),
)
_DAY = timedelta(days=1)


class TouTableError(ValueError):
    """A day table the meter refuses (too many switches, bad times or tariffs)."""


class TouTable:
    """One day table: switch points sorted by time of day, at most 14."""

    __slots__ = ("_minutes", "_tariffs", "switches")

    def __init__(self, switches: Iterable[tuple[int, int, int]] = DEFAULT_DAY_TABLE) -> None:
        cleaned: dict[int, int] = {}
        for hour, minute, tariff in switches:
            if not (0 <= hour <= 23 and 0 <= minute <= 59):
                raise TouTableError(f"switch time {hour:02d}:{minute:02d} is not a time of day")
            if tariff not in TARIFFS:
                raise TouTableError(f"tariff {tariff} is not 1..4")
            cleaned[hour * 60 + minute] = tariff
        if not cleaned:
            raise TouTableError("a day table needs at least one switch point")
        if len(cleaned) > MAX_SWITCHES:
            raise TouTableError(f"a day table has at most {MAX_SWITCHES} switch points")
        self._minutes = sorted(cleaned)
        self._tariffs = [cleaned[m] for m in self._minutes]
        self.switches: tuple[tuple[int, int, int], ...] = tuple(
            (m // 60, m % 60, cleaned[m]) for m in self._minutes
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TouTable) and other.switches == self.switches

    def __hash__(self) -> int:
        return hash(self.switches)

    def __repr__(self) -> str:
        return f"TouTable({self.switches!r})"

    def tariff_at(self, moment: time | datetime) -> int:
        """The tariff (1..4) in force at ``moment`` (a time of day or a datetime)."""
        minute = moment.hour * 60 + moment.minute
        index = bisect.bisect_right(self._minutes, minute) - 1
        return self._tariffs[index]  # index -1 wraps to the last switch (before the first)

    def next_switch(self, after: datetime) -> datetime:
        """The first switch moment strictly after ``after``."""
        day = after.replace(hour=0, minute=0, second=0, microsecond=0)
        since_midnight = after - day
        for minute in self._minutes:
            at = timedelta(minutes=minute)
            if at > since_midnight:
                return day + at
        return day + _DAY + timedelta(minutes=self._minutes[0])

    # --- DL/T 645 DI 04010001 ------------------------------------------------------------------

    def to_fields(self) -> list[dict[str, int]]:
        """14 ``hhmmNN`` field groups; unused ones repeat the last switch (meters pad so)."""
        rows = [{"hour": h, "minute": m, "tariff": t} for h, m, t in self.switches]
        while len(rows) < MAX_SWITCHES:
            rows.append(dict(rows[-1]))
        return rows

    @classmethod
    def from_fields(cls, rows: Sequence[Mapping[str, int] | None]) -> TouTable:
        """The table from decoded ``hhmmNN`` groups (repeated padding rows collapse)."""
        if len(rows) > MAX_SWITCHES:
            raise TouTableError(f"a day table has at most {MAX_SWITCHES} switch points")
        switches = []
        for row in rows:
            if row is None:
                raise TouTableError("a switch point is not BCD")
            switches.append((row["hour"], row["minute"], row["tariff"]))
        return cls(switches)
