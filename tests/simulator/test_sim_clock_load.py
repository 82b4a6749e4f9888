"""Simulated time, load profiles and the time-of-use table."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

import pytest

from openprepaid.simulator.clock import ManualClock, SimClock
from openprepaid.simulator.load import KINDS, SLOT, LoadProfile, slot_index, slot_start
from openprepaid.simulator.tou import DEFAULT_DAY_TABLE, TouTable, TouTableError


def at(*parts: int) -> datetime:
    """A naive moment: meters keep local wall-clock time without a zone."""
    return datetime(*parts)  # noqa: DTZ001


START = at(2026, 11, 23, 8, 0)  # a Monday; meter local time


class FakeMonotonic:
    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


def test_sim_clock_runs_at_its_speed():
    ticks = FakeMonotonic()
    clock = SimClock(start=START, speed=3600, monotonic=ticks)
    assert clock.now() == START
    ticks.value += 1.5
    assert clock.now() == START + timedelta(hours=1, minutes=30)
    assert clock.real_seconds(timedelta(hours=2)) == pytest.approx(2.0)
    assert clock.speed == 3600


def test_sim_clock_defaults_to_local_wall_time_in_whole_seconds():
    clock = SimClock()
    assert clock.start.microsecond == 0
    assert clock.start.tzinfo is None
    assert abs(clock.now() - clock.start) < timedelta(seconds=5)


@pytest.mark.parametrize("speed", [0, -1, 1.5])
def test_sim_clock_refuses_a_bad_speed(speed):
    with pytest.raises(ValueError, match="speed"):
        SimClock(start=START, speed=speed)


def test_manual_clock_moves_only_when_told():
    clock = ManualClock(START)
    assert clock.now() == START
    clock.advance(timedelta(minutes=5))
    assert clock.now() == START + timedelta(minutes=5)
    clock.set(START)
    assert clock.now() == START


# --- load ----------------------------------------------------------------------------------


def test_slots_are_fifteen_minutes():
    index = slot_index(START + timedelta(minutes=14, seconds=59))
    assert index == slot_index(START)
    assert slot_index(START + SLOT) == index + 1
    assert slot_start(index) == START


def test_load_is_reproducible_and_independent_of_call_order():
    moments = [START + k * SLOT for k in range(200)]
    forward = LoadProfile("shop", seed=7, address="300001000001")
    expected = [forward.power_w(m) for m in moments]
    shuffled = moments[:]
    random.Random(3).shuffle(shuffled)
    other = LoadProfile("shop", seed=7, address="300001000001")
    by_moment = {m: other.power_w(m) for m in shuffled}
    assert [by_moment[m] for m in moments] == expected
    reseeded = LoadProfile("shop", seed=8, address="300001000001")
    assert [reseeded.power_w(m) for m in moments] != expected
    elsewhere = LoadProfile("shop", seed=7, address="300001000009")
    assert [elsewhere.power_w(m) for m in moments] != expected


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_power_stays_in_the_kinds_ranges(kind):
    unit = KINDS[kind]
    profile = LoadProfile(kind, seed=1, address="300001000002")
    for k in range(7 * 96):  # one week of slots
        moment = START + k * SLOT
        power = profile.power_w(moment)
        assert isinstance(power, int)
        hours = unit.weekend if moment.weekday() >= 5 else unit.weekday
        if hours is not None and hours[0] <= moment.hour < hours[1]:
            assert unit.low_w <= power <= unit.high_w
        else:
            assert unit.standby_w * 75 // 100 <= power <= unit.standby_w * 125 // 100


def test_offices_are_closed_at_the_weekend_and_three_phase_draws_three_times():
    saturday_noon = at(2026, 11, 28, 12, 0)
    office = LoadProfile("office", seed=1, address="300001000003")
    assert office.power_w(saturday_noon) <= KINDS["office"].standby_w * 125 // 100
    single = LoadProfile("restaurant", seed=1, address="300001000004", phases=1)
    triple = LoadProfile("restaurant", seed=1, address="300001000004", phases=3)
    assert triple.power_w(START + 8 * SLOT) == 3 * single.power_w(START + 8 * SLOT)


def test_an_unknown_kind_loads_like_other():
    assert LoadProfile("garage", seed=1, address="1").kind == "other"


# --- time of use ---------------------------------------------------------------------------


def test_default_table_tariffs():
    table = TouTable()
    assert table.switches == DEFAULT_DAY_TABLE
    assert table.tariff_at(time(0, 0)) == 4
    assert table.tariff_at(time(7, 59)) == 4
    assert table.tariff_at(time(8, 0)) == 3
    assert table.tariff_at(time(10, 30)) == 2
    assert table.tariff_at(time(12, 0)) == 1
    assert table.tariff_at(at(2026, 1, 1, 23, 30)) == 4


def test_next_switch_is_strictly_after_and_wraps_past_midnight():
    table = TouTable()
    assert table.next_switch(at(2026, 1, 1, 8, 0)) == at(2026, 1, 1, 10, 0)
    assert table.next_switch(at(2026, 1, 1, 9, 59, 59)) == at(2026, 1, 1, 10, 0)
    assert table.next_switch(at(2026, 1, 1, 23, 0)) == at(2026, 1, 2, 0, 0)


def test_a_table_without_a_midnight_switch_wraps_the_last_tariff():
    table = TouTable([(6, 0, 3), (22, 0, 4)])
    assert table.tariff_at(time(2, 0)) == 4
    assert table.tariff_at(time(6, 0)) == 3
    assert table.next_switch(at(2026, 1, 1, 23, 0)) == at(2026, 1, 2, 6, 0)


def test_day_table_fields_round_trip_with_padding():
    table = TouTable([(0, 0, 4), (9, 30, 2), (18, 0, 3)])
    fields = table.to_fields()
    assert len(fields) == 14
    assert fields[-1] == {"hour": 18, "minute": 0, "tariff": 3}
    assert TouTable.from_fields(fields) == table


@pytest.mark.parametrize(
    "switches",
    [[], [(24, 0, 1)], [(1, 0, 5)], [(h, 0, 1) for h in range(15)]],
)
def test_bad_tables_are_refused(switches):
    with pytest.raises(TouTableError):
        TouTable(switches)


def test_the_clock_shows_the_sites_wall_time_without_its_zone():
    from zoneinfo import ZoneInfo

    clock = SimClock(time_zone="Asia/Shanghai")
    expected = datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
    assert clock.now().tzinfo is None
    assert abs(clock.now() - expected) < timedelta(seconds=5)
    kathmandu = SimClock(time_zone="Asia/Kathmandu")  # UTC+5:45
    assert timedelta(hours=2) < clock.now() - kathmandu.now() < timedelta(hours=2, minutes=30)
