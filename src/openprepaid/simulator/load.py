"""Per-unit load profiles: the power a tenant draws, in whole watts, reproducible from a seed.

Power is piecewise constant over 15-minute slots. A slot's power depends only on the seed, the
meter address, the unit kind, the phases and the slot index (15-minute slots counted from
2000-01-01 00:00), never on the order of calls: the random part comes from a BLAKE2b digest of
``seed:address:slot``, not from a shared random stream or Python's ``hash()``.

Each unit kind has opening hours (weekdays and weekends apart), a range of power while open and
a standby load while closed (fridges, lighting, routers). Three-phase units draw three times as
much.

=========== ================ ================ ============= =========
kind        weekdays         weekends         open (W)      standby W
=========== ================ ================ ============= =========
shop        09:00-21:00      10:00-22:00      1 000-6 000   80
office      08:00-18:00      closed           500-4 000     60
stall       07:00-19:00      07:00-20:00      300-1 500     20
restaurant  10:00-22:00      10:00-23:00      5 000-20 000  400
public      06:00-23:00      07:00-23:00      2 000-10 000  1 200
other       08:00-20:00      09:00-18:00      500-3 000     50
=========== ================ ================ ============= =========
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

SLOT = timedelta(minutes=15)
SLOT_MICROSECONDS = 15 * 60 * 1_000_000
EPOCH = datetime(2000, 1, 1)  # noqa: DTZ001 - meter local time
_U32 = 1 << 32


@dataclass(frozen=True, slots=True)
class UnitKind:
    weekday: tuple[int, int] | None  # (open hour, close hour), None: closed all day
    weekend: tuple[int, int] | None
    low_w: int
    high_w: int
    standby_w: int


KINDS: dict[str, UnitKind] = {
    "shop": UnitKind((9, 21), (10, 22), 1000, 6000, 80),
    "office": UnitKind((8, 18), None, 500, 4000, 60),
    "stall": UnitKind((7, 19), (7, 20), 300, 1500, 20),
    "restaurant": UnitKind((10, 22), (10, 23), 5000, 20000, 400),
    "public": UnitKind((6, 23), (7, 23), 2000, 10000, 1200),
    "other": UnitKind((8, 20), (9, 18), 500, 3000, 50),
}


def slot_index(moment: datetime) -> int:
    """The 15-minute slot that ``moment`` falls in, counted from 2000-01-01 00:00."""
    return (moment - EPOCH) // SLOT


def slot_start(index: int) -> datetime:
    return EPOCH + index * SLOT


def stable_u32(*parts: object) -> int:
    """A 32-bit number from ``parts`` that is the same in every process and every run."""
    text = ":".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=4).digest(), "big")


class LoadProfile:
    """The power one unit draws; ``power_w(moment)`` is in whole watts (never negative)."""

    __slots__ = ("_cache_index", "_cache_power", "address", "kind", "phases", "seed", "unit")

    def __init__(self, kind: str, *, seed: int, address: str, phases: int = 1) -> None:
        self.kind = kind if kind in KINDS else "other"
        self.unit = KINDS[self.kind]
        self.seed = seed
        self.address = address
        self.phases = phases
        self._cache_index = -1
        self._cache_power = 0

    def power_w(self, moment: datetime) -> int:
        return self.slot_power(slot_index(moment))

    def slot_power(self, index: int) -> int:
        """The power in slot ``index`` (constant over the slot)."""
        if index == self._cache_index:
            return self._cache_power
        start = slot_start(index)
        hours = self.unit.weekend if start.weekday() >= 5 else self.unit.weekday
        draw = stable_u32(self.seed, self.address, index)
        hour = start.hour
        if hours is not None and hours[0] <= hour < hours[1]:
            span = self.unit.high_w - self.unit.low_w
            power = self.unit.low_w + span * draw // _U32
        else:
            # Closed: standby between 75 % and 125 % of the kind's standby load.
            power = self.unit.standby_w * (75 + 50 * draw // _U32) // 100
        power *= 3 if self.phases == 3 else 1
        self._cache_index, self._cache_power = index, power
        return power
