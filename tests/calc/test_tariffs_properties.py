"""Property tests: split energy always adds up; pricing an interval in two parts equals pricing it
whole wherever that must hold exactly; every charge accounts for all of its energy."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from tests.calc.tariff_helpers import TIERED, TIERED_TOU, TOU, local, price, schedule

from openprepaid.calc.tariffs import (
    Registers,
    TariffSchedule,
    parse_tariff,
    split_energy,
)

STEP = Decimal("0.0001")
FLAT = schedule("flat", {"price": "0.8123"})
TIERS = schedule("tiered", TIERED)
TOU_TARIFF = schedule("tou", TOU)
VERSIONS = TariffSchedule(
    [
        (local(2026, 1, 1), parse_tariff("tou", TOU)),
        (local(2026, 3, 10, 12, 7), parse_tariff("tiered", TIERED)),
        (local(2026, 3, 20, 6), parse_tariff("tiered_tou", TIERED_TOU)),
        (local(2026, 4, 2, 3, 33), parse_tariff("flat", {"price": "0.9000"})),
    ]
)

energies = st.decimals(min_value=0, max_value=100_000, places=2, allow_nan=False)
fine_energies = st.decimals(min_value=0, max_value=1000, places=6, allow_nan=False)
minutes = st.integers(0, 60 * 24 * 3)


def _registers(start: Decimal, parts: tuple[Decimal, ...]) -> Registers:
    return Registers(start + sum(parts), *(start / 4 + part for part in parts))


@given(fine_energies, st.lists(st.integers(0, 10**12), min_size=1, max_size=12))
def test_split_energy_always_adds_up_and_is_never_negative(energy, weights):
    parts = split_energy(energy, weights)
    assert len(parts) == len(weights)
    assert sum(parts) == energy
    assert all(part >= 0 for part in parts)
    assert all(part == part.quantize(STEP) for part in parts[:-1])


@given(energies, energies, minutes, minutes, minutes)
def test_flat_in_two_parts_equals_whole(first, second, offset, one, two):
    start = local(2026, 3, 1) + timedelta(minutes=offset)
    middle = start + timedelta(minutes=one)
    end = middle + timedelta(minutes=two)
    at_start, at_middle, at_end = (Registers(v) for v in (Decimal(0), first, first + second))
    whole = price(FLAT, start, end, at_start, at_end)
    parts = [
        price(FLAT, start, middle, at_start, at_middle),
        price(FLAT, middle, end, at_middle, at_end),
    ]
    assert whole.amount_exact == sum(part.amount_exact for part in parts)
    assert whole.energy == first + second


@given(energies, energies, st.decimals(0, 1000, places=2), minutes, minutes)
def test_tiered_in_two_parts_equals_whole_within_a_cycle(first, second, cycle, one, two):
    start = local(2026, 3, 5) + timedelta(minutes=one)
    middle = start + timedelta(minutes=two)
    end = middle + timedelta(minutes=one)
    at_start, at_middle, at_end = (Registers(v) for v in (Decimal(0), first, first + second))
    whole = price(TIERS, start, end, at_start, at_end, str(cycle), "2026-03")
    head = price(TIERS, start, middle, at_start, at_middle, str(cycle), "2026-03")
    tail = price(TIERS, middle, end, at_middle, at_end, str(head.cycle_energy), head.cycle_key)
    assert whole.amount_exact == head.amount_exact + tail.amount_exact
    assert whole.cycle_energy == tail.cycle_energy == cycle + first + second


@given(
    st.tuples(energies, energies, energies, energies),
    st.tuples(energies, energies, energies, energies),
)
def test_tou_with_registers_in_two_parts_equals_whole(first, second):
    start = local(2026, 3, 3, 7)
    base = Decimal("1000.00")
    at_start = _registers(base, (Decimal(0),) * 4)
    at_middle = _registers(base, first)
    at_end = _registers(base, tuple(a + b for a, b in zip(first, second, strict=True)))
    middle, end = start + timedelta(hours=1), start + timedelta(hours=3)
    whole = price(TOU_TARIFF, start, end, at_start, at_end)
    head = price(TOU_TARIFF, start, middle, at_start, at_middle)
    tail = price(TOU_TARIFF, middle, end, at_middle, at_end)
    assert whole.amount_exact == head.amount_exact + tail.amount_exact


@given(energies, st.integers(0, 60 * 24 * 40), st.integers(0, 60 * 24 * 10), st.booleans())
def test_every_charge_accounts_for_all_its_energy(energy, offset, length, with_periods):
    """Across versions of every kind, tier cycles and periods: the lines other than tier adders
    hold the interval's energy exactly once."""
    start = local(2026, 3, 1) + timedelta(minutes=offset)
    end = start + timedelta(minutes=length)
    before = _registers(Decimal("10.00"), (Decimal(0),) * 4)
    if with_periods:
        quarter = (energy / 4).quantize(Decimal("0.01"))
        after = _registers(Decimal("10.00"), (quarter, quarter, quarter, energy - 3 * quarter))
    else:
        after = Registers(before.total + energy)
    charge = price(VERSIONS, start, end, before, after)
    assert charge.energy == energy
    assert charge.amount_exact == sum(line.amount_exact for line in charge.lines)
    assert all(line.amount_exact == line.energy * line.price for line in charge.lines)
    assert all(line.energy > 0 for line in charge.lines)
    adders = (Decimal("0.0500"), Decimal("0.3000"))
    base = [line for line in charge.lines if line.period is not None or line.price not in adders]
    assert sum(line.energy for line in base) == energy
