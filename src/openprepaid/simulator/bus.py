"""One simulated RS-485 bus: its meters, one request at a time, frame timing and comm faults.

A request occupies the line for ``len(request) × bits_per_byte / baud_rate`` seconds, then the
addressed meter waits its own ``turnaround``, handles the request (so its state is that of that
moment), and its reply occupies the line for ``len(reply) × bits / baud``; the reply is delivered
when its last byte is on the line. Requests queue first come first served. Deadlines are
absolute (``loop.call_at`` on ``loop.time()``): each request starts at ``max(its arrival, the
end of the previous one)``, computed from the previous end's *deadline*, so the lateness of
single callbacks does not add up over a sweep.

With ``timing=False`` a request is answered synchronously, inside the call that submits it:
no timers, no tasks (the throughput benchmark's path).

Addressing: DL/T 645 requests go to the meter with the frame's address; the broadcast address
999999999999 reaches every DL/T 645 meter and none replies; an address with AA pads (the
wildcard) reaches the first meter whose address matches the digits given (a real bus carrying
several would see their replies collide). Modbus requests go to the meter with the unit id;
unit id 0 is broadcast (every Modbus meter acts, none replies).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Protocol

from openprepaid.protocol.dlt645.frame import BROADCAST_ADDRESS, Frame, encode_frame
from openprepaid.protocol.modbus.rtu import encode_rtu

from .faults import (
    SILENCING,
    Fault,
    FaultBook,
    FaultKind,
    bad_dlt645_checksum,
    bad_modbus_crc,
    extra_fe,
    garble,
)

DLT645 = "dlt645_2007"
MODBUS = "modbus_rtu"

log = logging.getLogger(__name__)
Deliver = Callable[[bytes | None], None]


class BusMeter(Protocol):
    """What the bus needs of a meter (``SimMeter`` has it)."""

    address: str
    protocol: str
    unit_id: int | None
    turnaround: float
    reply_preamble: int

    def handle_dlt645(self, frame: Frame, now: datetime) -> Any: ...

    def handle_modbus(self, pdu: Any, now: datetime) -> Any: ...


class Clock(Protocol):
    def now(self) -> datetime: ...


class _Job:
    __slots__ = ("arrival", "deliver", "pdu_or_frame", "raw_len", "timeout", "unit_id")

    def __init__(
        self,
        unit_id: int | None,
        pdu_or_frame: Any,
        raw_len: int,
        deliver: Deliver,
        timeout: float | None,
        arrival: float,
    ) -> None:
        self.unit_id = unit_id  # None: DL/T 645
        self.pdu_or_frame = pdu_or_frame
        self.raw_len = raw_len
        self.deliver = deliver
        self.timeout = timeout
        self.arrival = arrival


class Bus:
    """One RS-485 line and the meters on it.

    Submit with :meth:`request_dlt645` or :meth:`request_modbus`; ``deliver(reply_bytes)`` is
    called with the raw reply as it would arrive from the line, or ``deliver(None)`` when no
    reply will come (no meter, broadcast, a silencing fault, or the caller's ``timeout``
    expired first).
    """

    def __init__(
        self,
        name: str,
        *,
        baud_rate: int,
        bits_per_byte: int,
        meters: Iterable[BusMeter],
        clock: Clock,
        faults: FaultBook,
        gateway: str | None = None,
        timing: bool = True,
        seed: int = 0,
    ) -> None:
        if baud_rate <= 0 or bits_per_byte <= 0:
            raise ValueError("baud rate and bits per byte must be positive")
        self.name = name
        self.gateway = name if gateway is None else gateway
        self.baud_rate = baud_rate
        self.bits_per_byte = bits_per_byte
        self.byte_time = bits_per_byte / baud_rate
        self.clock = clock
        self.faults = faults
        self.timing = timing
        self.rng = random.Random(seed)  # noqa: S311 - reproducible corruption, not secrets
        self.meters: dict[str, BusMeter] = {}
        self._dlt645: dict[str, BusMeter] = {}
        self._modbus: dict[int, BusMeter] = {}
        for meter in meters:
            if meter.address in self.meters:
                raise ValueError(f"bus {name}: meter address {meter.address} twice")
            self.meters[meter.address] = meter
            if meter.protocol == MODBUS:
                if meter.unit_id is None:
                    raise ValueError(f"bus {name}: Modbus meter {meter.address} has no unit id")
                self._modbus[meter.unit_id] = meter
            else:
                self._dlt645[meter.address] = meter
        # statistics
        self.requests = 0
        self.replies = 0
        self.silent = 0
        self.faults_applied = 0
        self.busy_seconds = 0.0
        # timing state
        self._queue: deque[_Job] = deque()
        self._busy = False
        self._free_at = 0.0
        self._handle: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # --- public ------------------------------------------------------------------------------

    def frame_time(self, nbytes: int) -> float:
        """Seconds ``nbytes`` take on the line."""
        return nbytes * self.byte_time

    @property
    def queued(self) -> int:
        """Requests waiting for the line (not counting the one on it)."""
        return len(self._queue)

    def stats(self) -> dict:
        return {
            "requests": self.requests,
            "replies": self.replies,
            "silent": self.silent,
            "faults_applied": self.faults_applied,
            "busy_seconds": round(self.busy_seconds, 6),
            "queued": len(self._queue),
        }

    def request_dlt645(
        self, frame: Frame, raw_len: int, deliver: Deliver, *, timeout: float | None = None
    ) -> None:
        """Put a DL/T 645 request of ``raw_len`` bytes on the line (FE preamble included)."""
        self.requests += 1
        if not self.timing:
            deliver(self._answer_safely(None, frame)[0])
            return
        self._submit(_Job(None, frame, raw_len, deliver, timeout, self._time()))

    def request_modbus(
        self,
        unit_id: int,
        pdu: Any,
        raw_len: int,
        deliver: Deliver,
        *,
        timeout: float | None = None,
    ) -> None:
        """Put a Modbus-RTU request of ``raw_len`` bytes for ``unit_id`` on the line.

        ``timeout`` (a master's, e.g. a Modbus-TCP gateway's): when no reply has started that
        long after the request's end, ``deliver(None)`` is called then, and the line is held
        until that moment (the master does not send meanwhile)."""
        self.requests += 1
        if not self.timing:
            deliver(self._answer_safely(unit_id, pdu)[0])
            return
        self._submit(_Job(unit_id, pdu, raw_len, deliver, timeout, self._time()))

    def cancel_pending(self) -> int:
        """Forget the queued requests and the one on the line (their callers get nothing);
        returns how many were dropped."""
        dropped = len(self._queue) + (1 if self._busy else 0)
        self._queue.clear()
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._busy = False
        return dropped

    # --- answering (shared by both modes) ------------------------------------------------------

    def _answer_safely(self, unit_id: int | None, request: Any) -> tuple[bytes | None, float]:
        try:
            return self._answer(unit_id, request)
        except Exception:
            # A meter model that fails must not stop the line: the request goes unanswered.
            log.exception("bus %s: meter failed on %r", self.name, request)
            self.silent += 1
            return None, 0.0

    def _answer(self, unit_id: int | None, request: Any) -> tuple[bytes | None, float]:
        """Let the addressed meter(s) handle ``request`` now; the reply bytes as they go on the
        line (faults applied) or ``None``, and the extra delay before them."""
        if unit_id is None:
            address = request.address
            meter = self._dlt645.get(address)
            if meter is None:
                if address == BROADCAST_ADDRESS:
                    self._broadcast(self._dlt645.values(), request, dlt645=True)
                    return None, 0.0
                meter = self._wildcard(address)
                if meter is None:
                    self.silent += 1
                    return None, 0.0
        else:
            meter = self._modbus.get(unit_id)
            if meter is None:
                if unit_id == 0:
                    self._broadcast(self._modbus.values(), request, dlt645=False)
                    return None, 0.0
                self.silent += 1
                return None, 0.0
        faults = self.faults.for_meter(self.gateway, meter.address)
        if faults:
            return self._answer_faulted(meter, unit_id, request, faults)
        if unit_id is None:
            reply = meter.handle_dlt645(request, self.clock.now())
            if reply is None:
                self.silent += 1
                return None, 0.0
            self.replies += 1
            return encode_frame(reply, meter.reply_preamble), 0.0
        reply = meter.handle_modbus(request, self.clock.now())
        if reply is None:
            self.silent += 1
            return None, 0.0
        self.replies += 1
        return encode_rtu(unit_id, reply), 0.0

    def _answer_faulted(
        self, meter: BusMeter, unit_id: int | None, request: Any, faults: tuple[Fault, ...]
    ) -> tuple[bytes | None, float]:
        self.faults_applied += 1
        kinds = {f.kind for f in faults}
        if kinds & SILENCING:
            self.silent += 1
            return None, 0.0
        now = self.clock.now()
        if unit_id is None:
            reply = meter.handle_dlt645(request, now)
        else:
            reply = meter.handle_modbus(request, now)
        if reply is None or FaultKind.LOST_REPLY in kinds:
            self.silent += 1
            return None, 0.0
        if unit_id is None:
            preamble = meter.reply_preamble
            data = encode_frame(reply, preamble)
        else:
            preamble = 0
            data = encode_rtu(unit_id, reply)
        delay = 0.0
        for fault in faults:
            kind = fault.kind
            if kind is FaultKind.BAD_CHECKSUM:
                data = bad_dlt645_checksum(data) if unit_id is None else bad_modbus_crc(data)
            elif kind is FaultKind.GARBLED:
                data = garble(data, self.rng, skip=preamble)
        for fault in faults:
            if fault.kind is FaultKind.EXTRA_FE:
                data = extra_fe(data, fault.fe)
            elif fault.kind is FaultKind.LATE_REPLY:
                delay += fault.delay
        self.replies += 1
        return data, delay

    def _broadcast(self, meters: Iterable[BusMeter], request: Any, *, dlt645: bool) -> None:
        self.silent += 1
        now = self.clock.now()
        for meter in list(meters):
            faults = self.faults.for_meter(self.gateway, meter.address)
            if faults:
                self.faults_applied += 1
                if any(f.kind in SILENCING for f in faults):
                    continue
            if dlt645:
                meter.handle_dlt645(request, now)
            else:
                meter.handle_modbus(request, now)

    def _wildcard(self, address: str) -> BusMeter | None:
        """The first DL/T 645 meter matching an address with AA pads, if any."""
        if "A" not in address:
            return None
        for candidate, meter in self._dlt645.items():
            if all(address[i : i + 2] in ("AA", candidate[i : i + 2]) for i in range(0, 12, 2)):
                return meter
        return None

    def _turnaround(self, job: _Job) -> float:
        if job.unit_id is None:
            meter = self._dlt645.get(job.pdu_or_frame.address)
            if meter is None:
                address = job.pdu_or_frame.address
                if address == BROADCAST_ADDRESS:
                    return 0.0
                meter = self._wildcard(address)
        elif job.unit_id == 0:
            return 0.0
        else:
            meter = self._modbus.get(job.unit_id)
        return 0.0 if meter is None else meter.turnaround

    # --- timing ------------------------------------------------------------------------------

    def _time(self) -> float:
        loop = self._loop = asyncio.get_running_loop()  # a restarted simulator has a new loop
        return loop.time()

    def _submit(self, job: _Job) -> None:
        if self._busy:
            self._queue.append(job)
        else:
            self._start(job, max(job.arrival, self._free_at))

    def _start(self, job: _Job, start: float) -> None:
        self._busy = True
        request_end = start + self.frame_time(job.raw_len)
        handle_at = request_end + self._turnaround(job)
        assert self._loop is not None
        self._handle = self._loop.call_at(
            handle_at, self._handle_job, job, start, request_end, handle_at
        )

    def _handle_job(self, job: _Job, start: float, request_end: float, handle_at: float) -> None:
        reply, delay = self._answer_safely(job.unit_id, job.pdu_or_frame)
        loop = self._loop
        assert loop is not None
        timeout = job.timeout
        if reply is None:
            end = handle_at if timeout is None else max(handle_at, request_end + timeout)
            self._handle = loop.call_at(end, self._finish, job, None, start, end, True)
            return
        reply_start = handle_at + delay
        end = reply_start + self.frame_time(len(reply))
        if timeout is not None and reply_start > request_end + timeout:
            # The master gave up before the reply began; the reply still takes the line.
            loop.call_at(request_end + timeout, self._deliver, job, None)
            self._handle = loop.call_at(end, self._finish, job, None, start, end, False)
            return
        self._handle = loop.call_at(end, self._finish, job, reply, start, end, True)

    def _finish(
        self, job: _Job, reply: bytes | None, start: float, end: float, notify: bool
    ) -> None:
        self._handle = None
        self._busy = False
        self._free_at = end
        self.busy_seconds += end - start
        if self._queue:  # the next request starts before this reply is handed over, so that
            following = self._queue.popleft()  # a request submitted on delivery queues behind it
            self._start(following, max(following.arrival, end))
        if notify:
            self._deliver(job, reply)

    def _deliver(self, job: _Job, reply: bytes | None) -> None:
        try:
            job.deliver(reply)
        except Exception:
            log.exception("bus %s: delivering a reply failed", self.name)
