"""The meter model: consumption, registers, cost control, relay, clock, tamper, durable state."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openprepaid.protocol.dlt645.codes import ControlCommand
from openprepaid.protocol.dlt645.status import StatusWord1, StatusWord3
from openprepaid.protocol.security import MasterKey, MeterKey
from openprepaid.simulator.clock import ManualClock
from openprepaid.simulator.meter import TICK_WMS, SimMeter
from openprepaid.simulator.sitespec import MeterSpec
from openprepaid.simulator.tou import TouTable


def at(*parts: int) -> datetime:
    """A naive moment: meters keep local wall-clock time without a zone."""
    return datetime(*parts)  # noqa: DTZ001


MASTER = MasterKey.from_hex("0123456789ABCDEF FEDCBA9876543210 89ABCDEF01234567")
MONDAY_9 = at(2026, 11, 23, 9, 0)  # meter local time; shops open at 09:00


def make(
    address: str = "300001000001",
    *,
    cost_control: str = "remote",
    kind: str = "shop",
    balance: str | None = None,
    seed: int = 11,
    now: datetime = MONDAY_9,
    **spec_fields,
) -> SimMeter:
    spec = MeterSpec(address, cost_control=cost_control, unit_kind=kind, **spec_fields)
    return SimMeter(
        spec,
        seed=seed,
        now=now,
        meter_key=MeterKey.derive(MASTER, spec.meter_number),
        opening_balance=None if balance is None else Decimal(balance),
    )


def registers(meter: SimMeter, now: datetime) -> dict[str, Decimal]:
    return {k: Decimal(v) for k, v in meter.inspect(now)["registers"].items()}


def test_a_new_meter_without_opening_balance_has_no_account():
    meter = make()
    state = meter.inspect(MONDAY_9)
    assert state["account_opened"] is False
    assert state["balance"] == "0.00"
    assert state["relay"] == "closed"
    assert StatusWord3.LOCAL_ACCOUNT_NOT_OPENED in meter.status_word_3()
    assert StatusWord3.REMOTE_ACCOUNT_NOT_OPENED in meter.status_word_3()
    assert StatusWord1.REMOTE_COST_CONTROL in meter.status_word_1()


def test_an_opened_meter_starts_with_purchase_one_and_its_balance():
    meter = make(balance="80.00", cost_control="local")
    state = meter.inspect(MONDAY_9)
    assert (state["account_opened"], state["purchase_count"]) == (True, 1)
    assert state["customer_number"] == "300001000001"
    assert state["balance"] == "80.00"
    assert StatusWord3.MONEY_PREPAID in meter.status_word_3()
    assert StatusWord1.REMOTE_COST_CONTROL not in meter.status_word_1()


def test_turnaround_and_preamble_come_from_the_seed():
    a, b = make(seed=1), make(seed=1)
    assert (a.turnaround, a.reply_preamble) == (b.turnaround, b.reply_preamble)
    assert 0.020 <= a.turnaround <= 0.080
    assert a.reply_preamble in (0, 4)
    modbus = make("7", protocol="modbus_rtu", profile="acrel-ddsy1352")
    assert 0.010 <= modbus.turnaround <= 0.040
    assert modbus.unit_id == 7
    turnarounds = {make(seed=s).turnaround for s in range(30)}
    assert len(turnarounds) > 5


def test_local_deduction_trips_at_the_limit_and_a_recharge_closes_again():
    clock = ManualClock(MONDAY_9)
    meter = make(balance="1.00", cost_control="local", kind="restaurant")
    while meter.inspect(clock.now())["relay"] == "closed":
        clock.advance(timedelta(minutes=1))
        assert clock.now() < MONDAY_9 + timedelta(hours=2), "never tripped"
    state = meter.inspect(clock.now())
    balance = Decimal(state["balance"])
    assert Decimal("-0.02") <= balance < 0  # one tick costs at most 1.2 fen
    assert state["relay_commanded_trip"] is False
    assert state["alarm_level"] == 3
    assert StatusWord1.OVERDRAFT in meter.status_word_1()
    status = meter.status_word_3()
    assert StatusWord3.RELAY_OPEN in status
    assert StatusWord3.RELAY_TRIP_COMMANDED not in status
    frozen = registers(meter, clock.now())
    clock.advance(timedelta(hours=3))
    assert registers(meter, clock.now()) == frozen  # relay open: nothing flows
    assert meter.inspect(clock.now())["power_w"] == 0
    assert meter.credit(1000, 2, clock.now()) is None
    assert meter.inspect(clock.now())["relay"] == "closed"
    clock.advance(timedelta(minutes=30))
    assert registers(meter, clock.now())["total"] > frozen["total"]


def test_the_overdraft_limit_is_honoured():
    clock = ManualClock(MONDAY_9)
    meter = make(balance="0.50", cost_control="local", kind="restaurant")
    meter.set_threshold("overdraft_limit", 300, clock.now())  # 3.00 yuan
    while meter.inspect(clock.now())["relay"] == "closed":
        clock.advance(timedelta(minutes=1))
    balance = Decimal(meter.inspect(clock.now())["balance"])
    assert Decimal("-3.02") <= balance < Decimal("-3.00")


def test_a_recharge_not_above_close_allowed_keeps_the_relay_open():
    clock = ManualClock(MONDAY_9)
    meter = make(balance="0.10", cost_control="local", kind="restaurant")
    meter.set_threshold("close_allowed_limit", 500, clock.now())
    while meter.inspect(clock.now())["relay"] == "closed":
        clock.advance(timedelta(minutes=1))
    assert meter.credit(300, 2, clock.now()) is None  # about 3 yuan: not above 5
    assert meter.inspect(clock.now())["relay"] == "open"
    assert meter.credit(500, 3, clock.now()) is None
    assert meter.inspect(clock.now())["relay"] == "closed"


def test_alarm_levels_follow_the_balance():
    clock = ManualClock(MONDAY_9)
    meter = make(balance="60.00", cost_control="local", kind="restaurant")
    seen = []
    while meter.inspect(clock.now())["relay"] == "closed":
        state = meter.inspect(clock.now())
        level, balance = state["alarm_level"], Decimal(state["balance"])
        if level == 0:
            assert balance > Decimal("50.00")
        elif level == 1:
            assert Decimal("20.00") < balance <= Decimal("50.00")
        elif level == 2:
            assert Decimal("0") <= balance <= Decimal("20.00")
            assert StatusWord3.PRE_TRIP_ALARM in meter.status_word_3()
        seen.append(level)
        clock.advance(timedelta(minutes=5))
    assert seen == sorted(seen)
    assert {0, 1, 2} <= set(seen)


def test_keep_power_blocks_trips_both_commanded_and_automatic():
    clock = ManualClock(MONDAY_9)
    meter = make(balance="0.20", cost_control="local", kind="restaurant")
    meter.command(ControlCommand.KEEP_POWER, clock.now())
    meter.command(ControlCommand.TRIP, clock.now())
    assert meter.inspect(clock.now())["relay"] == "closed"
    clock.advance(timedelta(hours=2))
    state = meter.inspect(clock.now())
    assert state["relay"] == "closed"
    assert Decimal(state["balance"]) < Decimal("-1")  # ran on into overdraft
    assert StatusWord3.KEEP_POWER in meter.status_word_3()
    meter.command(ControlCommand.KEEP_POWER_RELEASE, clock.now())
    clock.advance(timedelta(minutes=5))
    assert meter.inspect(clock.now())["relay"] == "open"  # still in arrears: trips itself


def test_operator_trip_holds_until_a_close_command():
    clock = ManualClock(MONDAY_9)
    meter = make(balance="500.00", cost_control="local")
    meter.command(ControlCommand.TRIP, clock.now())
    state = meter.inspect(clock.now())
    assert (state["relay"], state["relay_commanded_trip"]) == ("open", True)
    assert StatusWord3.RELAY_TRIP_COMMANDED in meter.status_word_3()
    assert meter.credit(1000, 2, clock.now()) is None
    assert meter.inspect(clock.now())["relay"] == "open"  # a recharge does not undo it
    meter.command(ControlCommand.CLOSE_ALLOWED, clock.now())
    assert meter.inspect(clock.now())["relay"] == "closed"
    meter.command(ControlCommand.ALARM, clock.now())
    assert StatusWord3.PRE_TRIP_ALARM in meter.status_word_3()
    meter.command(ControlCommand.ALARM_RELEASE, clock.now())
    assert StatusWord3.PRE_TRIP_ALARM not in meter.status_word_3()


def test_remote_cost_control_does_not_deduct():
    clock = ManualClock(MONDAY_9)
    meter = make(balance="1.00", cost_control="remote", kind="restaurant")
    clock.advance(timedelta(hours=10))
    state = meter.inspect(clock.now())
    assert state["balance"] == "1.00"
    assert state["relay"] == "closed"
    assert Decimal(state["registers"]["total"]) > 10
    meter.command(ControlCommand.TRIP, clock.now())
    assert meter.inspect(clock.now())["relay"] == "open"
    meter.command(ControlCommand.DIRECT_CLOSE, clock.now())
    assert meter.inspect(clock.now())["relay"] == "closed"


def test_a_meter_without_account_does_not_deduct():
    meter = make(cost_control="local", kind="restaurant")
    meter.advance(MONDAY_9 + timedelta(hours=5))
    assert meter.balance_fen == 0
    assert meter.inspect(MONDAY_9 + timedelta(hours=5))["relay"] == "closed"


def test_deduction_is_exact_money_for_the_energy():
    clock = ManualClock(at(2026, 11, 23, 10, 0))  # peak (2) until 12:00
    meter = make(balance="500.00", cost_control="local", kind="shop", now=clock.now())
    clock.advance(timedelta(hours=1, minutes=59))
    state = meter.inspect(clock.now())
    peak_ticks = int(Decimal(state["registers"]["peak"]) * 100)
    assert Decimal(state["registers"]["total"]) == Decimal(state["registers"]["peak"])
    micro = peak_ticks * 10000  # 1.0000 yuan/kWh × 0.01 kWh = 10 000 micro-yuan
    assert meter.balance_fen == 50000 - micro // 10000
    assert meter.money_uy == micro % 10000


def test_energy_only_moves_forward_except_under_reverse_energy():
    rng = random.Random(42)
    clock = ManualClock(MONDAY_9)
    meter = make(balance="30.00", cost_control="local", kind="restaurant")
    before = registers(meter, clock.now())
    for _ in range(400):
        clock.advance(timedelta(seconds=rng.randrange(0, 4000)))
        action = rng.randrange(12)
        if action == 0:
            meter.command(rng.choice(list(ControlCommand)), clock.now())
        elif action == 1:
            meter.credit(rng.randrange(0, 3000), meter.security.purchase_count + 1, clock.now())
        elif action == 2:
            meter.set_powered(rng.random() < 0.8, clock.now())
        now_regs = registers(meter, clock.now())
        for name, value in now_regs.items():
            assert value >= before[name], name
        assert now_regs["total"] == sum(now_regs[t] for t in ("sharp", "peak", "flat", "valley"))
        before = now_regs
    assert before["total"] > 0


def test_reverse_energy_runs_the_billing_register_backwards():
    clock = ManualClock(MONDAY_9)
    meter = make(balance="100.00", cost_control="local", kind="restaurant")
    clock.advance(timedelta(hours=2))
    forward = registers(meter, clock.now())
    balance = meter.balance_fen
    meter.set_reverse_energy(True, clock.now())
    clock.advance(timedelta(minutes=30))
    state = meter.inspect(clock.now())
    after = registers(meter, clock.now())
    assert after["total"] < forward["total"]
    assert after["reverse"] > 0
    assert forward["total"] - after["total"] == after["reverse"]
    assert meter.balance_fen == balance  # no deduction for reverse flow
    assert state["power_w"] < 0
    assert Decimal(state["current"]) < 0
    assert StatusWord1.ACTIVE_POWER_REVERSE in meter.status_word_1()
    meter.set_reverse_energy(False, clock.now())
    clock.advance(timedelta(minutes=30))
    assert registers(meter, clock.now())["total"] > after["total"]


def test_tou_split_at_a_switch_lands_energy_in_the_right_registers():
    start = at(2026, 11, 23, 9, 45)
    meter = make(kind="shop", now=start)
    # a switch in the middle of a slot: flat until 10:07, then peak
    meter.set_tou(TouTable([(0, 0, 4), (8, 0, 3), (10, 7, 2), (12, 0, 1)]), start)
    end = at(2026, 11, 23, 10, 30)
    meter.advance(end)
    p1 = meter.load.power_w(start)
    p2 = meter.load.power_w(at(2026, 11, 23, 10, 0))
    p3 = meter.load.power_w(at(2026, 11, 23, 10, 15))
    flat_wms = p1 * 15 * 60_000 + p2 * 7 * 60_000
    flat_ticks = flat_wms // TICK_WMS
    peak_wms = flat_wms - flat_ticks * TICK_WMS + p2 * 8 * 60_000 + p3 * 15 * 60_000
    assert meter.billing == [0, peak_wms // TICK_WMS, flat_ticks, 0]
    assert meter.energy_wms == peak_wms % TICK_WMS


def test_how_time_is_split_into_calls_does_not_change_the_result():
    one, many = make(kind="restaurant"), make(kind="restaurant")
    end = MONDAY_9 + timedelta(days=2, hours=3, seconds=17)
    one.advance(end)
    rng = random.Random(5)
    moment = MONDAY_9
    while moment < end:
        moment = min(end, moment + timedelta(milliseconds=rng.randrange(1, 3_600_000)))
        many.advance(moment)
    assert one.billing == many.billing
    assert one.energy_wms == many.energy_wms
    assert one.inspect(end) == many.inspect(end)


def test_same_seed_same_registers_other_seed_other_registers():
    end = MONDAY_9 + timedelta(days=1)
    a, b, c = make(seed=3), make(seed=3), make(seed=4)
    for meter in (a, b, c):
        meter.advance(end)
    assert a.inspect(end) == b.inspect(end)
    assert a.billing != c.billing


def test_ct_ratio_registers_count_secondary_and_deduct_primary():
    clock = ManualClock(MONDAY_9)
    direct = make(kind="restaurant", cost_control="local", balance="900.00")
    ct = make(kind="restaurant", cost_control="local", balance="900.00", ct_ratio=5)
    clock.advance(timedelta(hours=1))
    direct.advance(clock.now())
    ct.advance(clock.now())
    primary = sum(direct.billing)
    assert sum(ct.billing) == primary // 5 or sum(ct.billing) == (primary - 1) // 5
    spent_direct = 90000 - direct.balance_fen
    spent_ct = 90000 - ct.balance_fen
    assert abs(spent_ct - spent_direct) <= 7  # the same primary energy, within a few ticks


def test_instantaneous_values_are_consistent():
    meter = make(kind="restaurant", phases=3, profile="dlt645-prepaid-3p")
    moment = MONDAY_9 + timedelta(hours=3)
    meter.advance(moment)
    instant = meter.instant(moment)
    assert instant.power_w == sum(instant.phase_power_w) == meter.load.power_w(moment)
    for power, volts, current in zip(
        instant.phase_power_w, instant.voltage_dv, instant.current_ma, strict=True
    ):
        assert 2170 <= volts <= 2230
        expected = Decimal(power) / (Decimal(volts) / 10 * Decimal("0.95")) * 1000
        assert abs(Decimal(current) - expected) <= 1
    state = meter.inspect(moment)
    assert len(state["voltages"]) == 3


def test_powered_off_meter_consumes_nothing_and_keeps_its_relay():
    clock = ManualClock(MONDAY_9)
    meter = make(kind="restaurant")
    meter.command(ControlCommand.TRIP, clock.now())
    meter.set_powered(False, clock.now())
    clock.advance(timedelta(hours=1))
    meter.command(ControlCommand.DIRECT_CLOSE, clock.now())
    state = meter.inspect(clock.now())
    assert state["powered"] is False
    assert state["power_w"] == 0
    assert state["registers"]["total"] == "0.00"
    meter.set_powered(True, clock.now())
    clock.advance(timedelta(hours=1))
    assert Decimal(meter.inspect(clock.now())["registers"]["total"]) > 0


def test_clock_drift_and_time_setting():
    clock = ManualClock(MONDAY_9)
    meter = make()
    meter.set_clock_drift(60, clock.now())
    clock.advance(timedelta(days=1))
    assert meter.meter_time(clock.now()) == clock.now() + timedelta(seconds=60)
    clock.advance(timedelta(hours=12))
    assert meter.meter_time(clock.now()) == clock.now() + timedelta(seconds=90)
    meter.set_meter_time(clock.now(), clock.now())
    assert meter.meter_time(clock.now()) == clock.now()
    clock.advance(timedelta(days=2))
    assert meter.meter_time(clock.now()) == clock.now() + timedelta(seconds=120)
    assert meter.inspect(clock.now())["clock_drift"] == 60


def test_a_drifted_clock_switches_tariff_by_its_own_time():
    start = at(2026, 11, 23, 9, 50)
    meter = make(kind="shop", now=start)
    meter.set_meter_time(start + timedelta(minutes=5), start)  # the meter runs 5 minutes fast
    meter.advance(at(2026, 11, 23, 10, 0))
    power = meter.load.power_w(start)  # one slot, 09:45-10:00 true time
    flat_wms = power * 5 * 60_000  # true 09:50-09:55 shows 09:55-10:00: flat
    flat = flat_wms // TICK_WMS
    peak_wms = flat_wms - flat * TICK_WMS + power * 5 * 60_000  # then its clock shows peak
    assert meter.billing == [0, peak_wms // TICK_WMS, flat, 0]


def test_tamper_cover_open_counts():
    meter = make()
    meter.open_cover(MONDAY_9)
    meter.open_cover(MONDAY_9 + timedelta(minutes=1))
    state = meter.inspect(MONDAY_9 + timedelta(minutes=2))
    assert (state["cover_open"], state["cover_open_count"]) == (True, 2)


def test_snapshot_restore_round_trip_gives_an_identical_meter():
    clock = ManualClock(MONDAY_9)
    meter = make(balance="20.00", cost_control="local", kind="restaurant")
    meter.set_clock_drift(-30, clock.now())
    meter.set_tou(TouTable([(0, 0, 3), (18, 0, 1)]), clock.now())
    meter.set_price(1, 15000, clock.now())
    clock.advance(timedelta(hours=5, seconds=13))
    meter.open_cover(clock.now())
    meter.command(ControlCommand.KEEP_POWER, clock.now())
    snapshot = meter.snapshot()
    text = json.dumps(snapshot)
    assert "secret" not in text
    copy = make(cost_control="local", kind="restaurant", now=at(2020, 1, 1))
    copy.restore(json.loads(text))
    assert copy.snapshot() == snapshot
    assert copy.inspect(clock.now()) == meter.inspect(clock.now())
    clock.advance(timedelta(hours=7))
    assert copy.inspect(clock.now()) == meter.inspect(clock.now())


def test_restore_refuses_another_meters_snapshot():
    snapshot = make("300001000001").snapshot()
    with pytest.raises(ValueError, match="another meter"):
        make("300001000002").restore(snapshot)


_STEPS = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=6 * 3600 * 1000),  # milliseconds forward
        st.sampled_from(["none", "trip", "close", "keep", "release", "off", "on", "recharge"]),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(steps=_STEPS, kind=st.sampled_from(["shop", "stall", "restaurant"]))
def test_registers_never_decrease_whatever_happens(steps, kind):
    clock = ManualClock(MONDAY_9)
    meter = make(balance="5.00", cost_control="local", kind=kind)
    before = list(meter.billing)
    actions = {
        "trip": lambda now: meter.command(ControlCommand.TRIP, now),
        "close": lambda now: meter.command(ControlCommand.DIRECT_CLOSE, now),
        "keep": lambda now: meter.command(ControlCommand.KEEP_POWER, now),
        "release": lambda now: meter.command(ControlCommand.KEEP_POWER_RELEASE, now),
        "off": lambda now: meter.set_powered(False, now),
        "on": lambda now: meter.set_powered(True, now),
        "recharge": lambda now: meter.credit(500, meter.security.purchase_count + 1, now),
        "none": lambda now: None,
    }
    for millis, action in steps:
        clock.advance(timedelta(milliseconds=millis))
        actions[action](clock.now())
        meter.advance(clock.now())
        assert all(a >= b for a, b in zip(meter.billing, before, strict=True))
        assert meter.reverse == [0, 0, 0, 0]
        if meter.relay_open:
            assert meter.instant(clock.now()).power_w == 0
        before = list(meter.billing)
