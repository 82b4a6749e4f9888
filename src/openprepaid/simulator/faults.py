"""Faults the simulator can inject: what kinds exist, the fault book, and reply mangling.

Communication faults live in a :class:`FaultBook` that the buses and gateways consult:

* per meter (the bus applies them to each request for that meter): ``no_reply`` (the meter
  hears nothing and does nothing), ``late_reply`` (the reply starts ``delay`` seconds later),
  ``garbled`` (some reply bytes corrupted), ``bad_checksum`` (DL/T 645 CS or Modbus CRC wrong),
  ``extra_fe`` (``fe`` more FE bytes before the reply), ``offline`` (no reply; the runner also
  stops the meter's consumption), ``lost_reply`` (the meter acts on the request, its reply never
  reaches the line);
* per gateway (the gateway watches the book): ``refuse`` (new connections are refused: the
  listening socket is closed until the fault is cleared; with a ``count``, the next ``count``
  connections are accepted and reset at once instead), ``drop`` (every open connection, and every
  new one while the fault lasts, is closed once it has carried ``after`` more requests; ``after``
  = 0 closes the open ones now and new ones as they are accepted; a ``count`` limits how many
  connections are dropped).

``clock_drift``, ``cover_open`` and ``reverse_energy`` are meter-level conditions, not
communication faults: the runner applies them through the meter's own methods, so
:class:`FaultKind.comm` is ``False`` for them and the book refuses them.

A meter fault with ``count`` applies to the next ``count`` requests that reach that meter and
then clears itself; without ``count`` it stays until cleared.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum


class FaultKind(StrEnum):
    NO_REPLY = "no_reply"
    LATE_REPLY = "late_reply"
    GARBLED = "garbled"
    BAD_CHECKSUM = "bad_checksum"
    EXTRA_FE = "extra_fe"
    OFFLINE = "offline"
    LOST_REPLY = "lost_reply"
    REFUSE = "refuse"
    DROP = "drop"
    CLOCK_DRIFT = "clock_drift"
    COVER_OPEN = "cover_open"
    REVERSE_ENERGY = "reverse_energy"

    @property
    def comm(self) -> bool:
        """A communication fault (kept in the :class:`FaultBook`), not a meter condition."""
        return self not in _METER_CONDITIONS

    @property
    def per_gateway(self) -> bool:
        """Applies to a gateway's connections rather than to one meter."""
        return self in _GATEWAY_KINDS


_METER_CONDITIONS = frozenset(
    {FaultKind.CLOCK_DRIFT, FaultKind.COVER_OPEN, FaultKind.REVERSE_ENERGY}
)
_GATEWAY_KINDS = frozenset({FaultKind.REFUSE, FaultKind.DROP})
#: Meter faults after which the meter is not asked at all.
SILENCING = frozenset({FaultKind.NO_REPLY, FaultKind.OFFLINE})


@dataclass(frozen=True, slots=True)
class Fault:
    """One fault. ``delay`` is in real seconds (``late_reply``); ``count`` limits it to the next
    N requests (meter faults) or N connections (gateway faults); ``fe`` is how many extra FE
    bytes ``extra_fe`` puts before the reply; ``after`` is how many requests a connection may
    still carry before ``drop`` closes it."""

    kind: FaultKind
    gateway: str
    meter: str | None = None
    delay: float = 0.0
    count: int | None = None
    fe: int = 8
    after: int = 0

    def __post_init__(self) -> None:
        try:
            kind = FaultKind(self.kind)
        except ValueError:
            known = ", ".join(k.value for k in FaultKind)
            raise ValueError(f"unknown fault kind {self.kind!r}; known: {known}") from None
        object.__setattr__(self, "kind", kind)
        if not isinstance(self.gateway, str) or not self.gateway:
            raise ValueError(f"{kind}: a fault names its gateway")
        if kind.per_gateway:
            if self.meter is not None:
                raise ValueError(f"{kind} is a gateway fault; it does not take a meter")
        elif not self.meter or not isinstance(self.meter, str):
            raise ValueError(f"{kind} is a meter fault; name the meter's address")
        if isinstance(self.delay, bool) or not isinstance(self.delay, int | float):
            raise ValueError(f"{kind}: delay is a number of seconds, not {self.delay!r}")
        if not 0 <= self.delay <= 3600:
            raise ValueError(f"{kind}: delay must be 0..3600 seconds, not {self.delay}")
        if kind is FaultKind.LATE_REPLY and self.delay <= 0:
            raise ValueError("late_reply needs a delay of more than 0 seconds")
        if self.count is not None and (not _whole(self.count) or self.count < 1):
            raise ValueError(f"{kind}: count must be a whole number of at least 1")
        if not _whole(self.fe) or not 1 <= self.fe <= 255:
            raise ValueError(f"{kind}: fe must be 1..255")
        if not _whole(self.after) or self.after < 0:
            raise ValueError(f"{kind}: after must be a whole number of at least 0")

    def describe(self) -> dict:
        """JSON-ready form (the control interface lists active faults with it)."""
        out: dict = {"kind": self.kind.value, "gateway": self.gateway}
        if self.meter is not None:
            out["meter"] = self.meter
        if self.kind is FaultKind.LATE_REPLY:
            out["delay"] = self.delay
        if self.kind is FaultKind.EXTRA_FE:
            out["fe"] = self.fe
        if self.kind is FaultKind.DROP:
            out["after"] = self.after
        if self.count is not None:
            out["count"] = self.count
        return out


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class _Entry:
    """A fault in the book with what is left of its count."""

    __slots__ = ("fault", "left")

    def __init__(self, fault: Fault) -> None:
        self.fault = fault
        self.left = fault.count

    def current(self) -> Fault:
        return self.fault if self.left == self.fault.count else replace(self.fault, count=self.left)


_NONE: tuple[Fault, ...] = ()
Watcher = Callable[[], None]


class FaultBook:
    """The active communication faults of a simulated site.

    Buses call :meth:`for_meter` for every request (a dict lookup when the meter has no fault);
    gateways :meth:`watch` their name and are told when their gateway faults change. The book is
    plain data used from the event loop thread: the runner calls :meth:`add` and :meth:`clear`
    there (``loop.call_soon_threadsafe``), never from another thread.
    """

    def __init__(self) -> None:
        # gateway -> meter address -> entries; only non-empty lists are kept.
        self._meters: dict[str, dict[str, list[_Entry]]] = {}
        self._gateways: dict[str, list[_Entry]] = {}
        self._watchers: dict[str, list[Watcher]] = {}

    # --- changes -----------------------------------------------------------------------------

    def add(self, fault: Fault) -> Fault:
        """Make ``fault`` active (in addition to any others) and return it."""
        if not isinstance(fault, Fault):
            raise TypeError(f"a Fault, not {type(fault).__name__}")
        if not fault.kind.comm:
            raise ValueError(
                f"{fault.kind} is a meter condition, applied through the meter, not the fault book"
            )
        entry = _Entry(fault)
        if fault.kind.per_gateway:
            self._gateways.setdefault(fault.gateway, []).append(entry)
            self._notify(fault.gateway)
        else:
            per_meter = self._meters.setdefault(fault.gateway, {})
            per_meter.setdefault(fault.meter or "", []).append(entry)
        return fault

    def clear(
        self,
        gateway: str | None = None,
        meter: str | None = None,
        kind: FaultKind | str | None = None,
    ) -> int:
        """Remove the faults matching every given filter (none given: all); returns how many."""
        kind = None if kind is None else FaultKind(kind)
        removed = 0
        touched: set[str] = set()
        for gw in list(self._meters):
            if gateway is not None and gw != gateway:
                continue
            per_meter = self._meters[gw]
            for address in list(per_meter):
                if meter is not None and address != meter:
                    continue
                entries = per_meter[address]
                keep = [e for e in entries if kind is not None and e.fault.kind is not kind]
                removed += len(entries) - len(keep)
                if keep:
                    per_meter[address] = keep
                else:
                    del per_meter[address]
            if not per_meter:
                del self._meters[gw]
        if meter is None:
            for gw in list(self._gateways):
                if gateway is not None and gw != gateway:
                    continue
                entries = self._gateways[gw]
                keep = [e for e in entries if kind is not None and e.fault.kind is not kind]
                if len(keep) != len(entries):
                    removed += len(entries) - len(keep)
                    touched.add(gw)
                if keep:
                    self._gateways[gw] = keep
                else:
                    del self._gateways[gw]
        for gw in touched:
            self._notify(gw)
        return removed

    # --- reading -----------------------------------------------------------------------------

    def active(self) -> list[Fault]:
        """Every active fault, with its remaining ``count``."""
        out = [e.current() for entries in self._gateways.values() for e in entries]
        for per_meter in self._meters.values():
            for entries in per_meter.values():
                out.extend(e.current() for e in entries)
        return out

    def for_meter(self, gateway: str, address: str) -> tuple[Fault, ...]:
        """The faults that apply to one request reaching meter ``address`` on ``gateway``.
        Counts are consumed: call it once per request the meter hears."""
        per_meter = self._meters.get(gateway)
        if per_meter is None:
            return _NONE
        entries = per_meter.get(address)
        if entries is None:
            return _NONE
        faults = tuple(e.fault for e in entries)
        if any(e.left is not None for e in entries):
            keep = []
            for e in entries:
                if e.left is not None:
                    e.left -= 1
                    if e.left <= 0:
                        continue
                keep.append(e)
            if keep:
                per_meter[address] = keep
            else:
                del per_meter[address]
                if not per_meter:
                    del self._meters[gateway]
        return faults

    def peek_meter(self, gateway: str, address: str) -> tuple[Fault, ...]:
        """The faults of one meter, without consuming counts."""
        entries = self._meters.get(gateway, {}).get(address, ())
        return tuple(e.fault for e in entries)

    def gateway_fault(self, gateway: str, kind: FaultKind) -> Fault | None:
        """The first active gateway fault of ``kind`` on ``gateway`` (counts not consumed)."""
        for entry in self._gateways.get(gateway, ()):
            if entry.fault.kind is kind:
                return entry.current()
        return None

    def consume_gateway(self, gateway: str, kind: FaultKind) -> None:
        """One use (a refused or dropped connection) of the gateway fault of ``kind``; a
        count-limited fault clears itself when used up (watchers are told)."""
        entries = self._gateways.get(gateway, [])
        for entry in entries:
            if entry.fault.kind is kind:
                if entry.left is None:
                    return
                entry.left -= 1
                if entry.left <= 0:
                    entries.remove(entry)
                    if not entries:
                        del self._gateways[gateway]
                    self._notify(gateway)
                return

    # --- watchers ----------------------------------------------------------------------------

    def watch(self, gateway: str, callback: Watcher) -> None:
        """Call ``callback()`` whenever ``gateway``'s gateway faults change."""
        self._watchers.setdefault(gateway, []).append(callback)

    def unwatch(self, gateway: str, callback: Watcher) -> None:
        callbacks = self._watchers.get(gateway, [])
        if callback in callbacks:
            callbacks.remove(callback)

    def _notify(self, gateway: str) -> None:
        for callback in list(self._watchers.get(gateway, ())):
            callback()


# --- reply mangling ------------------------------------------------------------------------


def garble(data: bytes, rng: random.Random, *, skip: int = 0) -> bytes:
    """``data`` with one to three bytes after the first ``skip`` (the preamble) changed; the
    positions and new values come from ``rng``, so a seeded bus garbles reproducibly."""
    if len(data) <= skip:
        return data
    out = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        position = rng.randrange(skip, len(out))
        out[position] ^= rng.randrange(1, 256)
    return bytes(out)


def bad_dlt645_checksum(data: bytes) -> bytes:
    """A DL/T 645 frame (``… CS 16``) with a wrong CS byte."""
    if len(data) < 2:
        return data
    return data[:-2] + bytes(((data[-2] + 0x5A) & 0xFF,)) + data[-1:]


def bad_modbus_crc(data: bytes) -> bytes:
    """A Modbus-RTU frame with a wrong CRC (its low byte changed)."""
    if len(data) < 2:
        return data
    return data[:-2] + bytes((data[-2] ^ 0xA5,)) + data[-1:]


def extra_fe(data: bytes, count: int) -> bytes:
    """``count`` more FE wake-up bytes before ``data``."""
    return b"\xfe" * count + data
