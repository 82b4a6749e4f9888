"""One simulated prepaid meter: registers, wallet, relay, cost control, security module, clock
and tamper, with :meth:`SimMeter.snapshot` / :meth:`SimMeter.restore` / :meth:`SimMeter.inspect`.

Exact arithmetic throughout (no float in the model):

* energy: primary watt-milliseconds accumulate in a residue; each 0.01 kWh of *secondary*
  energy (``36 000 000 × CT ratio`` primary W·ms) is one register tick;
* registers: integer ticks per tariff (1 sharp, 2 peak, 3 flat, 4 valley);
* money: the security module's ``balance_fen`` plus a micro-yuan residue (0..9999) not yet
  taken out as a whole fen; a tick costs ``price × CT ratio`` micro-yuan (price in
  0.0001 yuan/kWh × 0.01 kWh);
* prices: integers in 0.0001 yuan/kWh; thresholds: integers in fen.

Defaults (document in ``docs/simulator.md``): prices sharp 1.2000, peak 1.0000, flat 0.7000,
valley 0.4000 yuan/kWh; alarm level 1 at 50.00 yuan, level 2 at 20.00 yuan, overdraft limit
0.00, close-allowed limit 0.00, no hoarding limit (reads 0). Passwords: level 02 ``123456``,
level 04 ``000000``.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from openprepaid.protocol.dlt645.codes import ControlCommand
from openprepaid.protocol.dlt645.frame import Frame
from openprepaid.protocol.dlt645.status import StatusWord1, StatusWord3
from openprepaid.protocol.security.keys import MeterKey
from openprepaid.protocol.security.messages import (
    AuthenticationAccepted,
    RemoteControlAccepted,
    SecurityRefusal,
    WalletAccepted,
    yuan_to_fen,
)
from openprepaid.protocol.security.meter import MeterSecurityModule
from openprepaid.simulator.load import EPOCH, LoadProfile, slot_index, slot_start, stable_u32
from openprepaid.simulator.sitespec import DLT645, LOCAL, REMOTE, MeterSpec
from openprepaid.simulator.tou import TouTable

TICK_WMS = 36_000_000  # 0.01 kWh in watt-milliseconds
MICRO_YUAN_PER_FEN = 10_000
POWER_FACTOR = 950  # 0.950
NOMINAL_DECIVOLTS = 2200
_MS = timedelta(milliseconds=1)
_US = timedelta(microseconds=1)
_SECONDS_PER_DAY = 86_400
DEFAULT_PRICES = (12000, 10000, 7000, 4000)  # 0.0001 yuan/kWh: sharp, peak, flat, valley
DEFAULT_THRESHOLDS = {  # fen
    "alarm_1": 5000,
    "alarm_2": 2000,
    "overdraft_limit": 0,
    "close_allowed_limit": 0,
}
THRESHOLD_NAMES = ("alarm_1", "alarm_2", "overdraft_limit", "close_allowed_limit", "hoarding_limit")
DEFAULT_PASSWORDS: Mapping[int, str] = {0x02: "123456", 0x04: "000000"}
SNAPSHOT_VERSION = 1
_HUNDREDTH = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Instant:
    """Instantaneous values as the meter shows them (secondary side), integers."""

    power_w: int  # total, signed (negative under reverse energy)
    phase_power_w: tuple[int, ...]  # per phase, signed
    voltage_dv: tuple[int, ...]  # 0.1 V per phase
    current_ma: tuple[int, ...]  # mA per phase, signed like the power
    apparent_va: int
    power_factor: int  # 0.001 units, signed


def _digest(*parts: object, size: int) -> bytes:
    text = ":".join(str(p) for p in parts).encode()
    return hashlib.blake2b(text, digest_size=size).digest()


def _kwh(ticks: int) -> Decimal:
    return Decimal(ticks).scaleb(-2)


def _yuan(fen: int) -> Decimal:
    return Decimal(fen).scaleb(-2)


class SimMeter:
    """A prepaid meter (DL/T 645 or Acrel Modbus) that consumes, deducts and answers."""

    def __init__(
        self,
        spec: MeterSpec,
        *,
        seed: int,
        now: datetime,
        meter_key: MeterKey,
        opening_balance: Decimal | None = None,
        passwords: Mapping[int, str] | None = None,
    ) -> None:
        self.spec = spec
        self.address = spec.address
        self.protocol = spec.protocol
        self.unit_id = spec.unit_id
        self.seed = seed
        timing = stable_u32(seed, spec.address, "timing")
        if spec.protocol == DLT645:
            self.turnaround = (20 + timing % 61) / 1000
            self.reply_preamble = 4 if timing >> 16 & 1 else 0
        else:
            self.turnaround = (10 + timing % 31) / 1000
            self.reply_preamble = 0
        self.passwords = dict(DEFAULT_PASSWORDS if passwords is None else passwords)
        self.load = LoadProfile(spec.unit_kind, seed=seed, address=spec.address, phases=spec.phases)
        rng_seed = int.from_bytes(_digest(seed, spec.address, "esam-rng", size=8), "big")
        self.security = MeterSecurityModule(
            meter_key,
            esam_serial=_digest(seed, spec.address, "esam-serial", size=8),
            rng=random.Random(rng_seed).randbytes,  # noqa: S311 - simulated ESAM challenge
        )
        self.meter_key = meter_key
        if opening_balance is not None:
            self.security.customer_number = spec.meter_number
            self.security.purchase_count = 1
            self.security.balance_fen = yuan_to_fen(opening_balance)
        self.cost_control = spec.cost_control
        self.ct_ratio = spec.ct_ratio
        self.code = spec.unit_id or 0
        self.billing = [0, 0, 0, 0]  # ticks per tariff, the register the meter reports
        self.reverse = [0, 0, 0, 0]
        self.energy_wms = 0
        self.money_uy = 0
        self.prices = list(DEFAULT_PRICES)
        self.thresholds = dict(DEFAULT_THRESHOLDS)
        self.commanded_trip = False
        self.auto_trip = False
        self.keep_power = False
        self.alarm_commanded = False
        self.tou = TouTable()
        self.clock_offset_us = 0
        self.clock_drift = 0  # seconds per day
        self.clock_epoch = now
        self.cover_open = False
        self.cover_open_count = 0
        self.reverse_energy = False
        self.powered = True
        self.last = now
        self.version = 0  # bumped on every change a reply could show
        self.read_cache: dict[int, tuple[int, Any]] = {}  # DI -> (version, encoded value)
        self._piece_end: datetime | None = None
        self._piece_power = 0
        self._piece_tariff = 1
        self._piece_slot = -1

    def __repr__(self) -> str:
        return f"SimMeter({self.address!r}, {self.protocol}, {self.cost_control})"

    # --- derived state -------------------------------------------------------------------------

    @property
    def relay_open(self) -> bool:
        return not self.keep_power and (self.commanded_trip or self.auto_trip)

    @property
    def account_opened(self) -> bool:
        return self.security.customer_number is not None

    @property
    def balance_fen(self) -> int:
        return self.security.balance_fen

    @property
    def hoarding_limit_fen(self) -> int:
        return self.security.hoarding_limit_fen or 0

    @property
    def deducting(self) -> bool:
        return self.cost_control == LOCAL and self.account_opened

    @property
    def alarm_level(self) -> int:
        """0 none, 1 at or below alarm level 1, 2 at or below level 2, 3 in arrears."""
        if not self.deducting:
            return 0
        balance = self.security.balance_fen
        if balance < 0:
            return 3
        if balance <= self.thresholds["alarm_2"]:
            return 2
        if balance <= self.thresholds["alarm_1"]:
            return 1
        return 0

    def energy_ticks(self, kind: int) -> tuple[int, int, int, int, int]:
        """(total, T1..T4) in 0.01 kWh: kind 0 combined / 1 forward (the billing register),
        2 reverse."""
        regs = self.reverse if kind == 2 else self.billing
        return (sum(regs), regs[0], regs[1], regs[2], regs[3])

    # --- time ------------------------------------------------------------------------------

    def meter_time(self, now: datetime) -> datetime:
        """The meter's own clock at true simulated time ``now`` (offset and drift applied)."""
        if not self.clock_drift:
            if not self.clock_offset_us:
                return now
            return now + timedelta(microseconds=self.clock_offset_us)
        elapsed = (now - self.clock_epoch) // _US
        drift = self.clock_drift * elapsed // _SECONDS_PER_DAY
        return now + timedelta(microseconds=self.clock_offset_us + drift)

    def _true_time(self, meter_moment: datetime) -> datetime:
        """The first true moment at which the meter clock shows ``meter_moment``."""
        base = (meter_moment - self.clock_epoch) // _US - self.clock_offset_us
        if not self.clock_drift:
            return self.clock_epoch + timedelta(microseconds=base)
        scale = _SECONDS_PER_DAY + self.clock_drift
        elapsed = -(-base * _SECONDS_PER_DAY // scale)
        return self.clock_epoch + timedelta(microseconds=elapsed)

    def _fold_clock(self, now: datetime) -> None:
        self.clock_offset_us = (self.meter_time(now) - now) // _US
        self.clock_epoch = now

    def set_meter_time(self, moment: datetime, now: datetime) -> None:
        """Time sync: the meter clock shows ``moment`` at true time ``now``."""
        self.advance(now)
        self.clock_offset_us = (moment - now) // _US
        self.clock_epoch = now
        self._changed()

    def set_clock_drift(self, seconds_per_day: int, now: datetime) -> None:
        if not -_SECONDS_PER_DAY // 2 < seconds_per_day < _SECONDS_PER_DAY // 2:
            raise ValueError("clock drift must be within ±12 hours a day")
        self.advance(now)
        self._fold_clock(now)
        self.clock_drift = int(seconds_per_day)
        self._changed()

    # --- consumption -----------------------------------------------------------------------

    def _changed(self) -> None:
        self.version += 1
        self._piece_end = None

    def _new_piece(self, moment: datetime) -> None:
        index = slot_index(moment)
        consuming = self.powered and not self.relay_open
        power = self.load.slot_power(index) if consuming else 0
        meter_moment = self.meter_time(moment)
        tariff = self.tou.tariff_at(meter_moment)
        end = slot_start(index + 1)
        switch = self._true_time(self.tou.next_switch(meter_moment))
        if switch < end:
            end = switch
        if end <= moment:
            end = moment + _US
        if power != self._piece_power or index != self._piece_slot:
            self.version += 1
        self._piece_end = end
        self._piece_power = power
        self._piece_tariff = tariff
        self._piece_slot = index

    def advance(self, now: datetime) -> None:
        """Integrate consumption from the last moment to ``now``."""
        last = self.last
        if now <= last:
            return
        end_of_piece = self._piece_end
        if end_of_piece is not None and now < end_of_piece and last < end_of_piece:
            if self._piece_power:  # fast path: still inside the same piece
                span = (now - EPOCH) // _MS - (last - EPOCH) // _MS
                self._consume(self._piece_power * span, self._piece_tariff)
            self.last = now
            return
        while last < now:
            if self._piece_end is None or last >= self._piece_end:
                self._new_piece(last)
            piece_end = self._piece_end
            assert piece_end is not None
            end = now if now < piece_end else piece_end
            if self._piece_power:
                span = (end - EPOCH) // _MS - (last - EPOCH) // _MS
                self._consume(self._piece_power * span, self._piece_tariff)
            last = end
        self.last = now

    def _consume(self, wms: int, tariff: int) -> None:
        energy = self.energy_wms + wms
        tick = TICK_WMS * self.ct_ratio
        ticks = energy // tick
        if not ticks:
            self.energy_wms = energy
            return
        slot = tariff - 1
        self.version += 1
        if self.reverse_energy:
            self.reverse[slot] += ticks
            taken = min(ticks, self.billing[slot])
            self.billing[slot] -= taken
            rest = ticks - taken
            for other in range(4):  # a tariff register at zero borrows from the others
                if not rest:
                    break
                step = min(rest, self.billing[other])
                self.billing[other] -= step
                rest -= step
            self.energy_wms = energy - ticks * tick
            return
        tripped = False
        if self.deducting:
            cost = self.prices[slot] * self.ct_ratio
            if cost:
                if not self.keep_power:
                    # Smallest number of ticks that leaves balance < -overdraft limit.
                    due = self.security.balance_fen + self.thresholds["overdraft_limit"] + 1
                    need = due * MICRO_YUAN_PER_FEN - self.money_uy
                    to_trip = max(1, -(-need // cost))
                    if to_trip <= ticks:
                        ticks, tripped = to_trip, True
                money = self.money_uy + ticks * cost
                self.security.deduct(money // MICRO_YUAN_PER_FEN)
                self.money_uy = money % MICRO_YUAN_PER_FEN
        self.billing[slot] += ticks
        if tripped:
            self.energy_wms = 0
            self.auto_trip = True
            self._changed()
        else:
            self.energy_wms = energy - ticks * tick

    def _reevaluate_relay(self) -> None:
        """After a wallet change or a change of mode: close again when the money allows."""
        if self.auto_trip and (
            self.cost_control != LOCAL
            or self.security.balance_fen > self.thresholds["close_allowed_limit"]
        ):
            self.auto_trip = False
        self._changed()

    def instant(self, now: datetime) -> Instant:
        """Power, voltage and current at ``now`` (call :meth:`advance` first)."""
        if self._piece_end is None or not self._piece_slot_covers(now):
            self._new_piece(now)
        phases = 3 if self.spec.phases == 3 else 1
        index = self._piece_slot
        if not self.powered:
            zeros = (0,) * phases
            return Instant(0, zeros, zeros, zeros, 0, 1000)
        volts = tuple(
            NOMINAL_DECIVOLTS + stable_u32(self.seed, self.address, "v", index, p) % 61 - 30
            for p in range(phases)
        )
        power = self._piece_power // self.ct_ratio
        if phases == 3:
            third = power // 3
            split = (power - 2 * third, third, third)
        else:
            split = (power,)
        sign = -1 if self.reverse_energy else 1
        currents = tuple(
            sign * (p * 10_000_000 // (v * POWER_FACTOR)) for p, v in zip(split, volts, strict=True)
        )
        return Instant(
            power_w=sign * power,
            phase_power_w=tuple(sign * p for p in split),
            voltage_dv=volts,
            current_ma=currents,
            apparent_va=power * 1000 // POWER_FACTOR,
            power_factor=sign * POWER_FACTOR if power else 1000,
        )

    def _piece_slot_covers(self, now: datetime) -> bool:
        end = self._piece_end
        return end is not None and now < end and slot_index(now) == self._piece_slot

    # --- status ----------------------------------------------------------------------------

    def status_word_1(self) -> StatusWord1:
        word = StatusWord1(0)
        if self.cost_control == REMOTE:
            word |= StatusWord1.REMOTE_COST_CONTROL
        if self.account_opened and self.security.balance_fen < 0:
            word |= StatusWord1.OVERDRAFT
        if self.reverse_energy:
            word |= StatusWord1.ACTIVE_POWER_REVERSE
        return word

    def status_word_3(self) -> StatusWord3:
        word = StatusWord3.MONEY_PREPAID
        if self.relay_open:
            word |= StatusWord3.RELAY_OPEN
        if self.commanded_trip:
            word |= StatusWord3.RELAY_TRIP_COMMANDED
        if self.keep_power:
            word |= StatusWord3.KEEP_POWER
        if self.alarm_commanded or self.alarm_level >= 2:
            word |= StatusWord3.PRE_TRIP_ALARM
        if not self.account_opened:
            word |= StatusWord3.LOCAL_ACCOUNT_NOT_OPENED | StatusWord3.REMOTE_ACCOUNT_NOT_OPENED
        return word

    # --- commands and parameters -------------------------------------------------------------

    def command(self, command: ControlCommand, now: datetime) -> None:
        """Act on a remote-control command (trip, close, alarm, keep power)."""
        self.advance(now)
        if command is ControlCommand.TRIP:
            if not self.keep_power:
                self.commanded_trip = True
        elif command in (ControlCommand.CLOSE_ALLOWED, ControlCommand.DIRECT_CLOSE):
            # Close allowed: the simulated tenant presses the button at once.
            self.commanded_trip = False
        elif command is ControlCommand.KEEP_POWER:
            self.keep_power = True
            self.commanded_trip = False
        elif command is ControlCommand.KEEP_POWER_RELEASE:
            self.keep_power = False
        elif command is ControlCommand.ALARM:
            self.alarm_commanded = True
        elif command is ControlCommand.ALARM_RELEASE:
            self.alarm_commanded = False
        self._changed()

    def set_price(self, tariff: int, units: int, now: datetime) -> None:
        """Tariff 1..4 price in 0.0001 yuan/kWh."""
        self.advance(now)
        self.prices[tariff - 1] = units
        self._changed()

    def set_threshold(self, name: str, fen: int, now: datetime) -> None:
        self.advance(now)
        if name == "hoarding_limit":
            self.security.hoarding_limit_fen = fen or None
        else:
            self.thresholds[name] = fen
        self._reevaluate_relay()

    def set_cost_control(self, mode: str, now: datetime) -> None:
        self.advance(now)
        self.cost_control = mode
        self._reevaluate_relay()

    def set_ct_ratio(self, ratio: int, now: datetime) -> None:
        self.advance(now)
        self.ct_ratio = ratio
        self.energy_wms = 0
        self._changed()

    def set_code(self, code: int, now: datetime) -> None:
        self.advance(now)
        self.code = code
        self._changed()

    def set_tou(self, table: TouTable, now: datetime) -> None:
        self.advance(now)
        self.tou = table
        self._changed()

    def security_request(
        self, di: int, payload: bytes, now: datetime
    ) -> AuthenticationAccepted | WalletAccepted | SecurityRefusal:
        """A C=03 command for the security module, at the meter's clock."""
        self.advance(now)
        outcome = self.security.handle(di, payload, now=self.meter_time(now))
        if isinstance(outcome, WalletAccepted):
            self._reevaluate_relay()
        return outcome

    def remote_control(
        self, payload: bytes, now: datetime
    ) -> RemoteControlAccepted | SecurityRefusal:
        """A level-98 1C: verified by the security module; the caller checks the deadline."""
        self.advance(now)
        return self.security.remote_control(payload, now=self.meter_time(now))

    def credit(self, amount_fen: int, purchase_count: int, now: datetime) -> str | None:
        """A verified Modbus recharge: ``None`` when applied, else why it is refused."""
        self.advance(now)
        module = self.security
        if purchase_count == module.purchase_count:
            return "repeated recharge"
        if purchase_count != module.purchase_count + 1:
            return "purchase count is not the meter's count + 1"
        balance = module.balance_fen + amount_fen
        if module.hoarding_limit_fen is not None and balance > module.hoarding_limit_fen:
            return "balance would exceed the hoarding limit"
        if module.customer_number is None:
            module.customer_number = self.spec.meter_number
        module.purchase_count = purchase_count
        module.balance_fen = balance
        self._reevaluate_relay()
        return None

    # --- tamper and faults -------------------------------------------------------------------

    def open_cover(self, now: datetime) -> None:
        self.advance(now)
        self.cover_open = True
        self.cover_open_count += 1
        self._changed()

    def set_reverse_energy(self, on: bool, now: datetime) -> None:
        self.advance(now)
        self.reverse_energy = bool(on)
        self._changed()

    def set_powered(self, on: bool, now: datetime) -> None:
        self.advance(now)
        self.powered = bool(on)
        self._changed()

    # --- protocol handlers -------------------------------------------------------------------

    def handle_dlt645(self, frame: Frame, now: datetime) -> Frame | None:
        from openprepaid.simulator.dlt645_slave import handle_frame

        return handle_frame(self, frame, now)

    def handle_modbus(self, pdu: Any, now: datetime) -> Any:
        from openprepaid.simulator.modbus_slave import handle_pdu

        return handle_pdu(self, pdu, now)

    # --- inspection and durable state --------------------------------------------------------

    def inspect(self, now: datetime) -> dict[str, Any]:
        """What the meter really holds, JSON-ready."""
        self.advance(now)
        instant = self.instant(now)
        balance = self.security.balance_fen
        total, sharp, peak, flat, valley = self.energy_ticks(1)
        return {
            "address": self.address,
            "protocol": self.protocol,
            "profile": self.spec.profile,
            "meter_number": self.spec.meter_number,
            "cost_control": self.cost_control,
            "account_opened": self.account_opened,
            "customer_number": self.security.customer_number,
            "purchase_count": self.security.purchase_count,
            "balance": str(_yuan(balance)),
            "overdraft": str(_yuan(max(0, -balance))),
            "relay": "open" if self.relay_open else "closed",
            "relay_commanded_trip": self.commanded_trip,
            "relay_auto_trip": self.auto_trip,
            "keep_power": self.keep_power,
            "alarm_level": self.alarm_level,
            "alarm_commanded": self.alarm_commanded,
            "registers": {
                "total": str(_kwh(total)),
                "sharp": str(_kwh(sharp)),
                "peak": str(_kwh(peak)),
                "flat": str(_kwh(flat)),
                "valley": str(_kwh(valley)),
                "reverse": str(_kwh(sum(self.reverse))),
            },
            "power_w": instant.power_w,
            "voltage": str(Decimal(instant.voltage_dv[0]).scaleb(-1)),
            "current": str(Decimal(instant.current_ma[0]).scaleb(-3)),
            "voltages": [str(Decimal(v).scaleb(-1)) for v in instant.voltage_dv],
            "currents": [str(Decimal(c).scaleb(-3)) for c in instant.current_ma],
            "ct_ratio": self.ct_ratio,
            "meter_time": self.meter_time(now).replace(microsecond=0).isoformat(),
            "clock_drift": self.clock_drift,
            "cover_open": self.cover_open,
            "cover_open_count": self.cover_open_count,
            "reverse_energy": self.reverse_energy,
            "powered": self.powered,
            "prices": [str(Decimal(p).scaleb(-4)) for p in self.prices],
            "thresholds": {
                **{name: str(_yuan(fen)) for name, fen in self.thresholds.items()},
                "hoarding_limit": str(_yuan(self.hoarding_limit_fen)),
            },
            "tou": [list(s) for s in self.tou.switches],
        }

    def snapshot(self) -> dict[str, Any]:
        """The durable state, JSON-ready; no keys and no session in it."""
        module = self.security
        return {
            "version": SNAPSHOT_VERSION,
            "address": self.address,
            "protocol": self.protocol,
            "last": self.last.isoformat(),
            "billing": list(self.billing),
            "reverse": list(self.reverse),
            "energy_wms": self.energy_wms,
            "money_uy": self.money_uy,
            "wallet": {
                "customer_number": module.customer_number,
                "purchase_count": module.purchase_count,
                "balance_fen": module.balance_fen,
                "hoarding_limit_fen": module.hoarding_limit_fen,
            },
            "cost_control": self.cost_control,
            "ct_ratio": self.ct_ratio,
            "code": self.code,
            "prices": list(self.prices),
            "thresholds": dict(self.thresholds),
            "relay": {
                "commanded_trip": self.commanded_trip,
                "auto_trip": self.auto_trip,
                "keep_power": self.keep_power,
                "alarm": self.alarm_commanded,
            },
            "tou": [list(s) for s in self.tou.switches],
            "clock": {
                "offset_us": self.clock_offset_us,
                "drift": self.clock_drift,
                "epoch": self.clock_epoch.isoformat(),
            },
            "tamper": {
                "cover_open": self.cover_open,
                "cover_open_count": self.cover_open_count,
                "reverse_energy": self.reverse_energy,
                "powered": self.powered,
            },
        }

    def restore(self, data: Mapping[str, Any]) -> None:
        """Take over a :meth:`snapshot` of a meter with the same spec."""
        if data.get("version") != SNAPSHOT_VERSION:
            raise ValueError(f"meter {self.address}: snapshot version {data.get('version')!r}")
        if data.get("address") != self.address or data.get("protocol") != self.protocol:
            raise ValueError(f"meter {self.address}: the snapshot is of another meter")
        wallet = data["wallet"]
        module = self.security
        module.customer_number = wallet["customer_number"]
        module.purchase_count = int(wallet["purchase_count"])
        module.balance_fen = int(wallet["balance_fen"])
        hoarding = wallet["hoarding_limit_fen"]
        module.hoarding_limit_fen = None if hoarding is None else int(hoarding)
        module.invalidate_session()
        self.last = datetime.fromisoformat(data["last"])
        self.billing = [int(v) for v in data["billing"]]
        self.reverse = [int(v) for v in data["reverse"]]
        self.energy_wms = int(data["energy_wms"])
        self.money_uy = int(data["money_uy"])
        self.cost_control = data["cost_control"]
        self.ct_ratio = int(data["ct_ratio"])
        self.code = int(data["code"])
        self.prices = [int(v) for v in data["prices"]]
        self.thresholds = {name: int(data["thresholds"][name]) for name in DEFAULT_THRESHOLDS}
        relay = data["relay"]
        self.commanded_trip = bool(relay["commanded_trip"])
        self.auto_trip = bool(relay["auto_trip"])
        self.keep_power = bool(relay["keep_power"])
        self.alarm_commanded = bool(relay["alarm"])
        self.tou = TouTable(tuple(s) for s in data["tou"])
        clock = data["clock"]
        self.clock_offset_us = int(clock["offset_us"])
        self.clock_drift = int(clock["drift"])
        self.clock_epoch = datetime.fromisoformat(clock["epoch"])
        tamper = data["tamper"]
        self.cover_open = bool(tamper["cover_open"])
        self.cover_open_count = int(tamper["cover_open_count"])
        self.reverse_energy = bool(tamper["reverse_energy"])
        self.powered = bool(tamper["powered"])
        self._piece_slot = -1
        self._changed()
