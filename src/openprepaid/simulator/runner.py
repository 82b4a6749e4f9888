"""The simulator: a whole site built from a :class:`SiteSpec`, started, inspected and stopped.

:class:`Simulator` holds one :class:`SimMeter` per meter of the spec, one :class:`Bus` per
gateway and one gateway server per gateway (transparent or Modbus-TCP), all on one asyncio event
loop. It restores the meters from its state file at construction, saves them on a period and at
shutdown, and serves the control interface when given a control port. Its inspection and fault
methods are the same operations the control interface offers; call them on the loop's thread.

:class:`SimulatorThread` runs a :class:`Simulator` on its own event loop in a background thread,
with synchronous wrappers, for tests that are plain functions (the headend's tests among them).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
from collections.abc import Callable, Coroutine, Mapping
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from openprepaid.protocol.profiles import normalize_address
from openprepaid.protocol.security.keys import DEMO_MASTER_KEY_HEX, MasterKey, MeterKey
from openprepaid.simulator.bus import Bus
from openprepaid.simulator.clock import Clock, SimClock
from openprepaid.simulator.control import ControlServer
from openprepaid.simulator.faults import Fault, FaultBook, FaultKind
from openprepaid.simulator.gateway import ModbusTcpGateway, TransparentGateway, make_gateway
from openprepaid.simulator.load import stable_u32
from openprepaid.simulator.meter import SimMeter
from openprepaid.simulator.sitespec import DLT645, MODBUS, GatewaySpec, SiteSpec
from openprepaid.simulator.state import StateFileError, load_state, save_state

log = logging.getLogger(__name__)

T = TypeVar("T")
DEFAULT_SEED = 2026
START_TIMEOUT = 30.0
#: Parameters a fault kind accepts (besides ``gateway`` and ``meter``).
FAULT_PARAMS: dict[FaultKind, frozenset[str]] = {
    FaultKind.NO_REPLY: frozenset({"count"}),
    FaultKind.LATE_REPLY: frozenset({"delay", "count"}),
    FaultKind.GARBLED: frozenset({"count"}),
    FaultKind.BAD_CHECKSUM: frozenset({"count"}),
    FaultKind.EXTRA_FE: frozenset({"fe", "count"}),
    FaultKind.OFFLINE: frozenset(),
    FaultKind.LOST_REPLY: frozenset({"count"}),
    FaultKind.REFUSE: frozenset({"count"}),
    FaultKind.DROP: frozenset({"after", "count"}),
    FaultKind.CLOCK_DRIFT: frozenset({"seconds_per_day"}),
    FaultKind.COVER_OPEN: frozenset(),
    FaultKind.REVERSE_ENERGY: frozenset(),
}
_METER_CONDITIONS = (FaultKind.CLOCK_DRIFT, FaultKind.COVER_OPEN, FaultKind.REVERSE_ENERGY)

Gateway = TransparentGateway | ModbusTcpGateway


class SimulatorError(ValueError):
    """A request the simulator cannot carry out (unknown meter, bad fault); says why."""


def meter_seed(site_seed: int, gateway: str, protocol: str, address: str) -> int:
    """A meter's own seed: from the site seed and the meter's identity only, so that adding a
    meter to a site changes no other meter. DL/T 645 addresses are unique site-wide; a Modbus
    unit id is only unique on its bus, so the gateway is part of its identity."""
    identity = address if protocol == DLT645 else f"{gateway}/{address}"
    return stable_u32(site_seed, "meter", protocol, identity)


def opening_balance_for(seed: int, low: Decimal, high: Decimal) -> Decimal:
    """A whole-yuan opening balance in ``[low, high]`` drawn from the meter's seed."""
    low_yuan, high_yuan = int(low.to_integral_value()), int(high.to_integral_value())
    if low_yuan > high_yuan:
        raise SimulatorError(f"opening balance range {low}-{high} is empty")
    rng = random.Random(stable_u32(seed, "opening-balance"))  # noqa: S311 - simulated data
    return Decimal(rng.randint(low_yuan, high_yuan))


class Simulator:
    """A simulated site: meters, buses, gateway servers, durable state and control interface.

    ``clock`` defaults to ``SimClock(speed=speed, time_zone=time_zone)`` started at the later
    of the site's wall time and the simulated time saved in the state file (so meters restored
    from an accelerated run do not see time go back). ``opening_balance=(low, high)`` opens
    every new meter's account with a whole-yuan balance drawn from its seed; ``None`` leaves
    accounts unopened. Meters restored from ``state_path`` keep what they held. Every
    ``save_every`` seconds (real time) the state is written; ``0`` saves only at :meth:`stop`
    and :meth:`save`.
    """

    def __init__(
        self,
        spec: SiteSpec,
        *,
        clock: Clock | None = None,
        speed: int = 1,
        timing: bool = True,
        seed: int = DEFAULT_SEED,
        master_key: MasterKey | None = None,
        state_path: Path | str | None = None,
        save_every: float = 60.0,
        opening_balance: tuple[Decimal, Decimal] | None = None,
        control_host: str = "127.0.0.1",
        control_port: int | None = None,
        time_zone: str | None = None,
    ) -> None:
        self.spec = spec
        self.speed = speed
        self.timing = timing
        self.seed = seed
        self.master_key = master_key or MasterKey.from_hex(DEMO_MASTER_KEY_HEX)
        self.state_path = None if state_path is None else Path(state_path)
        self.save_every = save_every
        self.control_host = control_host
        self.control_port = control_port
        saved = self._read_state()
        if clock is None:
            clock = SimClock(speed=speed, time_zone=time_zone)
            saved_time = _saved_time(saved)
            if saved_time is not None and saved_time > clock.now():
                clock = SimClock(start=saved_time, speed=speed)
        self.clock = clock
        self.fault_book = FaultBook()
        self.meters: dict[str, dict[str, SimMeter]] = {}  # gateway name -> address -> meter
        self._by_address: dict[str, list[tuple[str, SimMeter]]] = {}
        self.buses: dict[str, Bus] = {}
        self.gateways: dict[str, Gateway] = {}
        self._gateway_specs: dict[str, GatewaySpec] = {}
        self._conditions: dict[tuple[str, str, FaultKind], dict[str, Any]] = {}
        now = clock.now()
        for gateway in spec.gateways:
            if gateway.name in self._gateway_specs:
                raise SimulatorError(f"gateway name {gateway.name!r} twice in the site")
            self._gateway_specs[gateway.name] = gateway
            meters = self._build_meters(gateway, now, opening_balance)
            self.meters[gateway.name] = meters
            bus = Bus(
                gateway.name,
                baud_rate=gateway.baud_rate,
                bits_per_byte=gateway.bits_per_byte,
                meters=meters.values(),
                clock=clock,
                faults=self.fault_book,
                gateway=gateway.name,
                timing=timing,
                seed=stable_u32(seed, "bus", gateway.name),
            )
            self.buses[gateway.name] = bus
            self.gateways[gateway.name] = make_gateway(gateway, bus, self.fault_book)
        self.restored = self._restore(saved) if saved else 0
        self.control: ControlServer | None = None
        # Saves are numbered when their snapshot is taken; a periodic save written from a
        # worker thread never overwrites a newer one (the final save at stop, say).
        self._save_lock = threading.Lock()
        self._saves_taken = 0
        self._save_written = 0
        self._save_task: asyncio.Task | None = None
        self._stop_event: asyncio.Event | None = None
        self._started = False

    # --- construction ----------------------------------------------------------------------

    def _build_meters(
        self,
        gateway: GatewaySpec,
        now: datetime,
        opening_balance: tuple[Decimal, Decimal] | None,
    ) -> dict[str, SimMeter]:
        meters: dict[str, SimMeter] = {}
        for spec in gateway.meters:
            seed = meter_seed(self.seed, gateway.name, spec.protocol, spec.address)
            balance = None
            if opening_balance is not None:
                balance = opening_balance_for(seed, *opening_balance)
            meter = SimMeter(
                spec,
                seed=seed,
                now=now,
                meter_key=MeterKey.derive(self.master_key, spec.meter_number),
                opening_balance=balance,
            )
            # A security session lasts its minutes of real time at any speed: the headend
            # authenticates and sends within real milliseconds, simulated minutes at 3600×.
            meter.security.session_validity *= max(1, getattr(self.clock, "speed", None) or 1)
            meters[spec.address] = meter
            self._by_address.setdefault(spec.address, []).append((gateway.name, meter))
        return meters

    def _read_state(self) -> dict[str, Any] | None:
        if self.state_path is None:
            return None
        try:
            return load_state(self.state_path)
        except FileNotFoundError:
            return None

    def _restore(self, saved: Mapping[str, Any]) -> int:
        stored = saved.get("meters")
        if not isinstance(stored, dict):
            raise StateFileError(f"simulator state file {self.state_path} has no meters table")
        restored = 0
        unknown: list[str] = []
        for gateway, per_gateway in stored.items():
            meters = self.meters.get(gateway)
            if not isinstance(per_gateway, dict):
                raise StateFileError(
                    f"simulator state file {self.state_path}: gateway {gateway!r} is not a table"
                )
            for address, snapshot in per_gateway.items():
                meter = None if meters is None else meters.get(address)
                if meter is None:
                    unknown.append(f"{gateway}/{address}")
                    continue
                try:
                    meter.restore(snapshot)
                except (KeyError, TypeError, ValueError) as exc:
                    raise StateFileError(
                        f"simulator state file {self.state_path}: meter {gateway}/{address}"
                        f" cannot be restored: {exc!r}"
                    ) from None
                restored += 1
        if unknown:
            shown = ", ".join(unknown[:5]) + (" …" if len(unknown) > 5 else "")
            log.warning(
                "%d meter(s) in %s are not in this site and were ignored: %s",
                len(unknown),
                self.state_path,
                shown,
            )
        fresh = self.spec.meter_count - restored
        if fresh:
            log.info("%d meter(s) are not in %s and start afresh", fresh, self.state_path)
        return restored

    # --- running -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Open every gateway's port (and the control port); returns once they listen."""
        if self._started:
            return
        self._stop_event = asyncio.Event()
        started: list[Gateway] = []
        try:
            for gateway in self.gateways.values():
                await gateway.start()
                started.append(gateway)
            if self.control_port is not None:
                self.control = ControlServer(self, self.control_host, self.control_port)
                await self.control.start()
        except BaseException:
            for gateway in started:
                await gateway.stop()
            raise
        self._started = True
        if self.state_path is not None and self.save_every > 0:
            self._save_task = asyncio.create_task(self._save_periodically())
        log.info(
            "simulator started: %d gateways, %d meters", len(self.gateways), self.spec.meter_count
        )

    async def stop(self) -> None:
        """Close every port and save the state (when there is a state file)."""
        if not self._started:
            return
        self._started = False
        if self._save_task is not None:
            self._save_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._save_task
            self._save_task = None
        if self.control is not None:
            await self.control.stop()
        for gateway in self.gateways.values():
            await gateway.stop()
        if self.state_path is not None:
            self.save()
        if self._stop_event is not None:
            self._stop_event.set()

    def request_stop(self) -> None:
        """Make :meth:`run_forever` return (signal handlers call it)."""
        if self._stop_event is not None:
            self._stop_event.set()

    async def run_forever(self) -> None:
        """Start (if not started), serve until :meth:`request_stop` or cancellation, then stop."""
        await self.start()
        assert self._stop_event is not None
        try:
            await self._stop_event.wait()
        finally:
            await self.stop()

    async def _save_periodically(self) -> None:
        while True:
            await asyncio.sleep(self.save_every)
            try:
                number, data = self._take_snapshot()
                await asyncio.to_thread(self._write_state, number, data)
            except (OSError, ValueError) as exc:
                log.error("saving the simulator state to %s failed: %s", self.state_path, exc)

    @property
    def running(self) -> bool:
        return self._started

    # --- state -------------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock.now()

    def now_text(self) -> str:
        return self.clock.now().isoformat()

    def state(self) -> dict[str, Any]:
        """What the state file holds: every meter's snapshot (brought up to now) and the time."""
        now = self.clock.now()
        meters: dict[str, dict[str, Any]] = {}
        for gateway, per_gateway in self.meters.items():
            snapshots = meters[gateway] = {}
            for address, meter in per_gateway.items():
                meter.advance(now)
                snapshots[address] = meter.snapshot()
        return {
            "site": self.spec.code,
            "seed": self.seed,
            "sim_time": now.isoformat(),
            "meters": meters,
        }

    def save(self) -> str | None:
        """Write the state file now; its path, or ``None`` when the simulator has none."""
        if self.state_path is None:
            return None
        self._write_state(*self._take_snapshot())
        return str(self.state_path)

    def _take_snapshot(self) -> tuple[int, dict[str, Any]]:
        self._saves_taken += 1
        return self._saves_taken, self.state()

    def _write_state(self, number: int, data: dict[str, Any]) -> None:
        assert self.state_path is not None
        with self._save_lock:
            if number < self._save_written:
                return  # a newer snapshot is already on disk
            save_state(self.state_path, data)
            self._save_written = number

    # --- inspection --------------------------------------------------------------------------

    def gateway_of(self, address: str, gateway: str | None = None) -> str:
        """The name of the gateway whose bus carries meter ``address``."""
        return self._find(address, gateway)[0]

    def meter(self, address: str, gateway: str | None = None) -> SimMeter:
        """The meter with bus address ``address`` (a DL/T 645 address, or a Modbus unit id
        together with its ``gateway``)."""
        return self._find(address, gateway)[1]

    def _find(self, address: str, gateway: str | None) -> tuple[str, SimMeter]:
        if gateway is not None and gateway not in self.meters:
            raise SimulatorError(f"no gateway {gateway!r} in the site")
        keys = {str(address).strip()}
        for protocol in (DLT645, MODBUS):
            with contextlib.suppress(ValueError):
                keys.add(normalize_address(protocol, str(address)))
        found = [
            (name, meter)
            for key in keys
            for name, meter in self._by_address.get(key, ())
            if gateway is None or name == gateway
        ]
        if not found:
            where = f" on gateway {gateway}" if gateway else ""
            raise SimulatorError(f"no meter {address!r}{where}")
        if len(found) > 1:
            names = ", ".join(sorted(name for name, _ in found))
            raise SimulatorError(f"meter {address!r} is on gateways {names}: name the gateway")
        return found[0]

    def inspect(self, address: str, gateway: str | None = None) -> dict[str, Any]:
        """What the meter holds now (registers, wallet, relay, clock, tamper), JSON-ready, with
        its gateway and the faults on it."""
        name, meter = self._find(address, gateway)
        data = meter.inspect(self.clock.now())
        data["gateway"] = name
        data["faults"] = [
            f for f in self.faults() if f.get("meter") == meter.address and f["gateway"] == name
        ]
        return data

    def listing(self) -> dict[str, Any]:
        """The site listing with the ports really listened on, the control port and the mode."""
        listing = self.spec.listing()
        for entry in listing["gateways"]:
            entry["port"] = self.gateways[entry["name"]].port
            for meter in entry["meters"]:  # the line-time floor of a sweep needs it
                found = self.meter(meter["address"], entry["name"])
                meter["turnaround_ms"] = round(found.turnaround * 1000)
        listing["control"] = (
            None if self.control is None else {"host": self.control.host, "port": self.control.port}
        )
        # A clock that is not a SimClock (a test's ManualClock) has no speed.
        listing["speed"] = self.clock.speed if isinstance(self.clock, SimClock) else None
        listing["timing"] = self.timing
        listing["meter_count"] = self.spec.meter_count
        listing["state_file"] = None if self.state_path is None else str(self.state_path)
        return listing

    def stats(self) -> dict[str, Any]:
        return {name: gateway.stats() for name, gateway in self.gateways.items()}

    # --- faults ------------------------------------------------------------------------------

    def inject(
        self,
        kind: FaultKind | str,
        *,
        gateway: str | None = None,
        meter: str | None = None,
        **params: Any,
    ) -> dict[str, Any]:
        """Apply a fault; returns it as applied (JSON-ready).

        Gateway kinds (``refuse``, ``drop``) need ``gateway``; meter kinds need ``meter`` (its
        gateway is found from the address when not given). ``clock_drift`` (``seconds_per_day``),
        ``cover_open`` and ``reverse_energy`` act on the meter itself; ``offline`` also powers
        the meter down until cleared."""
        try:
            kind = FaultKind(kind)
        except ValueError:
            known = ", ".join(k.value for k in FaultKind)
            raise SimulatorError(f"unknown fault kind {kind!r}; known: {known}") from None
        allowed = FAULT_PARAMS[kind]
        unknown = sorted(set(params) - allowed)
        if unknown:
            accepted = ", ".join(sorted(allowed)) or "no parameters"
            raise SimulatorError(f"{kind} does not take {', '.join(unknown)} (it takes {accepted})")
        if kind.per_gateway:
            if meter is not None:
                raise SimulatorError(f"{kind} is a gateway fault; name the gateway, not a meter")
            if gateway is None:
                raise SimulatorError(f"{kind} needs a gateway")
            if gateway not in self.gateways:
                raise SimulatorError(f"no gateway {gateway!r} in the site")
            return self.fault_book.add(Fault(kind, gateway, **params)).describe()
        if meter is None:
            raise SimulatorError(f"{kind} is a meter fault; name the meter")
        gateway, target = self._find(meter, gateway)
        now = self.clock.now()
        if kind in _METER_CONDITIONS:
            described: dict[str, Any] = {
                "kind": kind.value,
                "gateway": gateway,
                "meter": target.address,
            }
            if kind is FaultKind.CLOCK_DRIFT:
                seconds = params.get("seconds_per_day")
                if isinstance(seconds, bool) or not isinstance(seconds, int):
                    raise SimulatorError("clock_drift needs seconds_per_day, a whole number")
                target.set_clock_drift(seconds, now)
                described["seconds_per_day"] = seconds
            elif kind is FaultKind.COVER_OPEN:
                target.open_cover(now)
            else:
                target.set_reverse_energy(True, now)
            self._conditions[gateway, target.address, kind] = described
            return dict(described)
        fault = self.fault_book.add(Fault(kind, gateway, meter=target.address, **params))
        if kind is FaultKind.OFFLINE:
            target.set_powered(False, now)
        return fault.describe()

    def clear_faults(
        self,
        gateway: str | None = None,
        meter: str | None = None,
        kind: FaultKind | str | None = None,
    ) -> int:
        """Remove the faults matching every filter given (none: all) and undo the meter
        conditions among them (drift back to 0, reverse energy off, power back on, cover
        closed; the cover-open count stays, as a meter's event record does). Returns how many
        were removed."""
        if kind is not None:
            try:
                kind = FaultKind(kind)
            except ValueError:
                raise SimulatorError(f"unknown fault kind {kind!r}") from None
        address = None
        if meter is not None:
            gateway, target = self._find(meter, gateway)
            address = target.address
        elif gateway is not None and gateway not in self.gateways:
            raise SimulatorError(f"no gateway {gateway!r} in the site")
        now = self.clock.now()
        offline = [
            (f.gateway, f.meter)
            for f in self.fault_book.active()
            if f.kind is FaultKind.OFFLINE
            and (gateway is None or f.gateway == gateway)
            and (address is None or f.meter == address)
            and kind in (None, FaultKind.OFFLINE)
        ]
        removed = self.fault_book.clear(gateway=gateway, meter=address, kind=kind)
        for gw, addr in offline:
            if addr is not None and not self.fault_book.peek_meter(gw, addr):
                self.meters[gw][addr].set_powered(True, now)
        for key in list(self._conditions):
            gw, addr, condition = key
            if (
                (gateway is not None and gw != gateway)
                or (address is not None and addr != address)
                or (kind is not None and condition is not kind)
            ):
                continue
            del self._conditions[key]
            removed += 1
            target = self.meters[gw][addr]
            if condition is FaultKind.CLOCK_DRIFT:
                target.set_clock_drift(0, now)
            elif condition is FaultKind.REVERSE_ENERGY:
                target.set_reverse_energy(False, now)
            else:
                target.advance(now)
                target.cover_open = False
                target.version += 1  # a reply could show the cover flag: invalidate caches
        return removed

    def faults(self) -> list[dict[str, Any]]:
        """Every active fault and meter condition, JSON-ready."""
        active = [f.describe() for f in self.faults_book_active()]
        return active + [dict(d) for d in self._conditions.values()]

    def faults_book_active(self) -> list[Fault]:
        return self.fault_book.active()


def _saved_time(saved: Mapping[str, Any] | None) -> datetime | None:
    if not saved or not isinstance(saved.get("sim_time"), str):
        return None
    try:
        return datetime.fromisoformat(saved["sim_time"])
    except ValueError:
        return None


class SimulatorThread:
    """A :class:`Simulator` on its own event loop in a background thread::

        with SimulatorThread(spec, timing=False) as sim:
            host, port = sim.address("GW001")
            ...
            sim.inject("no_reply", meter="300001000001")

    Entering builds and starts the simulator and returns once every port listens (errors in
    building or starting are raised here); leaving stops it (and saves its state, if it has a
    state file). The wrappers run on the loop's thread, so they are safe to call from the test.
    """

    def __init__(self, spec: SiteSpec, **options: Any) -> None:
        self.spec = spec
        self.options = options
        self.simulator: Simulator | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._stop: asyncio.Event | None = None

    # --- lifetime ------------------------------------------------------------------------------

    def start(self) -> SimulatorThread:
        if self._thread is not None:
            raise RuntimeError("this SimulatorThread has already been started")
        self._thread = threading.Thread(target=self._run, name="simulator", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT):
            raise RuntimeError("the simulator did not start in time")
        if self._error is not None:
            self._thread.join()
            error, self._error = self._error, None
            raise error
        return self

    def stop(self) -> None:
        thread, loop, stop = self._thread, self.loop, self._stop
        if thread is None or loop is None or stop is None or not thread.is_alive():
            return
        loop.call_soon_threadsafe(stop.set)
        thread.join(START_TIMEOUT)
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def __enter__(self) -> SimulatorThread:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self.loop = loop
        try:
            loop.run_until_complete(self._main())
        except BaseException as exc:
            self._error = exc
        finally:
            self._ready.set()
            with contextlib.suppress(Exception):
                loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        simulator = Simulator(self.spec, **self.options)
        await simulator.start()
        self.simulator = simulator
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await simulator.stop()

    # --- running code on the loop ------------------------------------------------------------

    def _sim(self) -> Simulator:
        if self.simulator is None or self.loop is None:
            raise RuntimeError("the simulator is not running")
        return self.simulator

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = 60.0) -> T:
        """Run ``coro`` on the simulator's loop and return its result."""
        self._sim()
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call ``function(*args, **kwargs)`` on the simulator's loop thread; its result."""

        async def call() -> T:
            return function(*args, **kwargs)

        return self.run(call())

    # --- synchronous wrappers ----------------------------------------------------------------

    @property
    def clock(self) -> Clock:
        return self._sim().clock

    def listing(self) -> dict[str, Any]:
        return self.call(self._sim().listing)

    def address(self, gateway: str) -> tuple[str, int]:
        """Where gateway ``gateway`` listens: ``(host, port)``."""
        server = self._sim().gateways[gateway]
        return server.host, server.port

    @property
    def control_port(self) -> int | None:
        control = self._sim().control
        return None if control is None else control.port

    def inspect(self, address: str, gateway: str | None = None) -> dict[str, Any]:
        return self.call(self._sim().inspect, address, gateway)

    def inject(
        self,
        kind: FaultKind | str,
        *,
        gateway: str | None = None,
        meter: str | None = None,
        **params: Any,
    ) -> dict[str, Any]:
        return self.call(self._sim().inject, kind, gateway=gateway, meter=meter, **params)

    def clear_faults(
        self,
        gateway: str | None = None,
        meter: str | None = None,
        kind: FaultKind | str | None = None,
    ) -> int:
        return self.call(self._sim().clear_faults, gateway=gateway, meter=meter, kind=kind)

    def faults(self) -> list[dict[str, Any]]:
        return self.call(self._sim().faults)

    def with_meter(
        self, address: str, function: Callable[[SimMeter], T], gateway: str | None = None
    ) -> T:
        """``function(meter)`` on the loop thread (to read or set a meter's state directly)."""
        simulator = self._sim()
        return self.call(lambda: function(simulator.meter(address, gateway)))

    def snapshot(self, address: str, gateway: str | None = None) -> dict[str, Any]:
        """The meter's durable state (brought up to now)."""
        simulator = self._sim()

        def snap(meter: SimMeter) -> dict[str, Any]:
            meter.advance(simulator.clock.now())
            return meter.snapshot()

        return self.with_meter(address, snap, gateway)

    def save(self) -> str | None:
        return self.call(self._sim().save)

    def stats(self) -> dict[str, Any]:
        return self.call(self._sim().stats)
