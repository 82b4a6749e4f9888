"""Pricing a reading interval: register deltas in, charge lines and an exact amount out.

The rules (docs/tariffs.md explains them with examples):

- **Which version**: the one in effect at a moment (a moment exactly at a version's start belongs
  to the new version). An interval crossing a version start is split there.
- **Tier cycle**: a calendar month (key ``"2026-11"``) or year (``"2026"``) in local time. An
  interval crossing the start of a cycle is split there; when the cycle key changes the cycle
  energy starts again from 0. Only tiered versions count a cycle: a flat or time-of-use version
  returns the key ``""`` and 0 kWh.
- **Splitting energy**: when an interval is divided (at a version start, a cycle start, or a
  period boundary when only the total register is known), the energy is split in proportion to
  time, each part but the last rounded *down* to 0.0001 kWh and the last part taking the
  remainder: the parts are never negative and always add up exactly to the whole.
- **Tiers**: energy below a tier's limit is priced at that tier, the rest at the next ones.
- **Time of use**: with all four period registers (sharp, peak, flat, valley) in both readings,
  their deltas are used as they are; the difference between the total delta and their sum
  (the meter's own rounding, a few 0.01 kWh, possibly negative) is added to the flat period.
  With the total only, the interval is split by the calendar.
- **Tiered time of use** (阶梯加价): every period is charged its period price, and the energy of
  each tier above a tier adder: lines ``(period, None)`` plus ``(None, tier)`` for adders that are
  not zero. Which period's kWh fall in which tier does not change the amount.
- Amounts are exact (unrounded ``Decimal``); round with ``calc.money.round_money`` and carry the
  residue.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple
from zoneinfo import ZoneInfo

from openprepaid.calc.tariffs.calendar import PERIODS
from openprepaid.calc.tariffs.fields import IntervalError, TariffError, join
from openprepaid.calc.tariffs.spec import FLAT, NO_CHARGE, TIERED, TIERED_TOU, ZERO, TariffSpec

_MICROSECOND = timedelta(microseconds=1)
_ENERGY_UNITS = 10_000  # energy parts are multiples of 0.0001 kWh


class Registers(NamedTuple):
    """A meter's energy registers at one moment, kWh. The period registers are ``None`` when
    the reading does not have them."""

    total: Decimal
    sharp: Decimal | None = None
    peak: Decimal | None = None
    flat: Decimal | None = None
    valley: Decimal | None = None

    def periods(self) -> tuple[Decimal, Decimal, Decimal, Decimal] | None:
        """The four period registers in the order sharp, peak, flat, valley, or ``None`` unless
        all four are known."""
        values = self[1:]
        return None if None in values else values  # type: ignore[return-value]


class ChargeLine(NamedTuple):
    """``energy`` kWh at ``price`` yuan/kWh. ``period`` is the time-of-use period (``None`` for
    flat and tiered prices and for tier adders), ``tier`` the tier number from 1 (``None`` when
    tiers do not apply). ``amount_exact`` = energy × price, unrounded."""

    period: str | None
    tier: int | None
    energy: Decimal
    price: Decimal
    amount_exact: Decimal


class Charge(NamedTuple):
    """The price of one interval. ``energy`` is the total register delta (in ``tiered_tou`` the
    adder lines count the same kWh again, so it is not the sum of the lines); ``amount_exact``
    is the sum of the lines, unrounded; ``cycle_key``/``cycle_energy`` are the tier cycle after
    the interval."""

    lines: tuple[ChargeLine, ...]
    energy: Decimal
    amount_exact: Decimal
    cycle_key: str
    cycle_energy: Decimal


class TariffSchedule:
    """The versions of a tariff: ``[(effective_from, spec), …]`` with aware times in strictly
    increasing order. Each version applies from its start until the next one's."""

    __slots__ = ("_cycles", "_specs", "_starts", "versions")

    def __init__(self, versions: Sequence[tuple[datetime, TariffSpec]]) -> None:
        versions = tuple(versions)
        if not versions:
            raise TariffError("versions", "a schedule needs at least one version")
        starts = []
        for number, (start, spec) in enumerate(versions):
            where = join("versions", number)
            if not isinstance(start, datetime) or start.utcoffset() is None:
                raise TariffError(where, "the effective time must be an aware datetime")
            if not isinstance(spec, TariffSpec):
                raise TariffError(where, "not a TariffSpec (use parse_tariff)")
            start = start.astimezone(UTC)
            if starts and start <= starts[-1]:
                raise TariffError(where, "versions must be in order of start, no two alike")
            starts.append(start)
        self.versions = versions
        self._starts = starts
        self._specs = [spec for _, spec in versions]
        self._cycles: dict[tuple[str, object], tuple[str, datetime, datetime]] = {}

    def index_at(self, at: datetime) -> int:
        index = bisect_right(self._starts, at) - 1
        if index < 0:
            raise IntervalError(f"{at.isoformat()} is before the first tariff version")
        return index

    def spec_at(self, at: datetime) -> TariffSpec:
        """The version in effect at ``at``."""
        return self._specs[self.index_at(_aware(at, "at"))]

    def cycle(self, cycle: str, at: datetime, tz: ZoneInfo) -> tuple[str, datetime, datetime]:
        """The tier cycle (``"month"``/``"year"``) holding the UTC moment ``at``: its key and
        its UTC start and end."""
        memo_key = (cycle, tz)
        found = self._cycles.get(memo_key)
        if found is None or not found[1] <= at < found[2]:
            found = cycle_of(cycle, at, tz)
            self._cycles[memo_key] = found
        return found

    def segments(
        self, start: datetime, end: datetime, tz: ZoneInfo
    ) -> list[tuple[datetime, datetime, TariffSpec, str]]:
        """``[start, end]`` (UTC) cut at version starts and, within tiered versions, at tier
        cycle starts: ``[(from, until, spec, cycle key or ""), …]``."""
        index = self.index_at(start)
        segments = []
        while True:
            spec = self._specs[index]
            following = self._starts[index + 1] if index + 1 < len(self._starts) else None
            until = end if following is None or following >= end else following
            if spec.tiers is None:
                segments.append((start, until, spec, ""))
            else:
                moment = start
                while True:
                    key, _, cycle_end = self.cycle(spec.tiers.cycle, moment, tz)
                    piece_end = until if cycle_end >= until else cycle_end
                    segments.append((moment, piece_end, spec, key))
                    if piece_end == until:
                        break
                    moment = piece_end
            if until == end:
                return segments
            start, index = until, index + 1


def cycle_of(cycle: str, at: datetime, tz: ZoneInfo) -> tuple[str, datetime, datetime]:
    """The tier cycle holding ``at``: ``("2026-11", start, end)`` for a month,
    ``("2026", start, end)`` for a year; start and end in UTC."""
    local = at.astimezone(tz)
    if cycle == "month":
        key = f"{local.year:04d}-{local.month:02d}"
        first = datetime(local.year, local.month, 1, tzinfo=tz)
        after = datetime(local.year + local.month // 12, local.month % 12 + 1, 1, tzinfo=tz)
    else:
        key = f"{local.year:04d}"
        first = datetime(local.year, 1, 1, tzinfo=tz)
        after = datetime(local.year + 1, 1, 1, tzinfo=tz)
    return key, first.astimezone(UTC), after.astimezone(UTC)


def cycle_key_at(schedule: TariffSchedule, at: datetime, tz: ZoneInfo) -> str:
    """The tier cycle key at ``at`` under the version in effect then (``""`` if not tiered)."""
    at = _aware(at, "at")
    spec = schedule.spec_at(at)
    return "" if spec.tiers is None else cycle_of(spec.tiers.cycle, at, tz)[0]


def split_energy(energy: Decimal, weights: Sequence[int]) -> list[Decimal]:
    """``energy`` (not negative) split in proportion to the integer ``weights``: every part but
    the last rounded down to 0.0001 kWh, the last part the remainder. The parts add up exactly
    to ``energy`` and none is negative. All weights 0: everything in the last part."""
    if len(weights) == 1:
        return [energy]
    total = sum(weights)
    if total == 0:
        return [ZERO] * (len(weights) - 1) + [energy]
    numerator, denominator = energy.as_integer_ratio()
    denominator *= total
    parts = [
        Decimal(numerator * weight * _ENERGY_UNITS // denominator).scaleb(-4)
        for weight in weights[:-1]
    ]
    parts.append(energy - sum(parts))
    return parts


def price_interval(
    schedule: TariffSchedule,
    *,
    start: datetime,
    end: datetime,
    before: Registers,
    after: Registers,
    cycle_energy: Decimal,
    cycle_key: str,
    tz: ZoneInfo,
) -> Charge:
    """The charge for the energy between two readings, ``before`` at ``start`` and ``after`` at
    ``end``. ``cycle_key``/``cycle_energy`` are the tier cycle as the previous interval left it
    (``""`` and 0 at the beginning). Raises :class:`IntervalError` for an interval that cannot
    be priced."""
    if start.tzinfo is not UTC:
        start = _aware(start, "start")
    if end.tzinfo is not UTC:
        end = _aware(end, "end")
    if end < start:
        raise IntervalError(f"the interval ends ({end}) before it starts ({start})")
    energy = after.total - before.total
    if energy < 0:
        raise IntervalError(f"the total register went back from {before.total} to {after.total}")
    if cycle_energy < 0:
        raise IntervalError(f"cycle energy {cycle_energy} is negative")
    # The common case, one version and one tier cycle: no segments, no splitting.
    starts = schedule._starts
    index = schedule.index_at(start)
    if index + 1 == len(starts) or starts[index + 1] >= end:
        spec = schedule._specs[index]
        tiers = spec.tiers
        if tiers is None:
            key, cycle_end = "", end
        else:
            key, _, cycle_end = schedule.cycle(tiers.cycle, start, tz)
        if cycle_end >= end:
            if key != cycle_key or not key:
                cycle_energy = ZERO
            deltas = None if spec.period_prices is None else _period_deltas(before, after)
            parts: list[tuple[str | None, int | None, Decimal, Decimal]] = []
            _price_segment(spec, start, end, energy, deltas, cycle_energy, tz, parts)
            lines = tuple(
                ChargeLine(period, tier, part, price, part * price)
                for period, tier, price, part in parts
                if part
            )
            amount = sum(line.amount_exact for line in lines) if lines else ZERO
            return Charge(lines, energy, amount, key, cycle_energy + energy if key else ZERO)
    return _price_segments(
        schedule.segments(start, end, tz), energy, before, after, cycle_energy, cycle_key, tz
    )


def _price_segments(
    segments: list[tuple[datetime, datetime, TariffSpec, str]],
    energy: Decimal,
    before: Registers,
    after: Registers,
    cycle_energy: Decimal,
    cycle_key: str,
    tz: ZoneInfo,
) -> Charge:
    """An interval cut into several segments (versions, tier cycles): the energy (and the
    period deltas) split by time, each segment priced, lines with the same period, tier and
    price added up."""
    weights = [(until - since) // _MICROSECOND for since, until, _, _ in segments]
    energies = split_energy(energy, weights)
    deltas = None
    if any(spec.period_prices is not None for _, _, spec, _ in segments):
        deltas = _period_deltas(before, after)
    if deltas is None:
        period_energies: list = [None] * len(segments)
    else:
        period_energies = list(zip(*(split_energy(d, weights) for d in deltas), strict=True))
    parts: list[tuple[str | None, int | None, Decimal, Decimal]] = []
    for (since, until, spec, key), part, periods in zip(
        segments, energies, period_energies, strict=True
    ):
        if key != cycle_key or not key:
            cycle_key, cycle_energy = key, ZERO
        _price_segment(spec, since, until, part, periods, cycle_energy, tz, parts)
        if key:
            cycle_energy += part
    sums: dict[tuple[str | None, int | None, Decimal], Decimal] = {}
    for period, tier, price, part in parts:
        sums[period, tier, price] = sums.get((period, tier, price), ZERO) + part
    lines = tuple(
        ChargeLine(period, tier, part, price, part * price)
        for (period, tier, price), part in sums.items()
        if part
    )
    amount = sum(line.amount_exact for line in lines) if lines else ZERO
    return Charge(lines, energy, amount, cycle_key, cycle_energy)


def unit_price_at(
    schedule: TariffSchedule, at: datetime, tz: ZoneInfo, cycle_energy: Decimal = ZERO
) -> Decimal:
    """The unit price a sale "by energy" uses at ``at``: a flat tariff's price, a time-of-use
    tariff's flat-period price, a tiered tariff's price of the tier the next kWh falls in after
    ``cycle_energy`` (pass 0 when the cycle at ``at`` is not the one ``cycle_energy`` counts,
    see :func:`cycle_key_at`), for tiered time of use the flat price plus that tier's adder.
    The price does not depend on the time of day, so ``tz`` is not needed to find it."""
    spec = schedule.spec_at(at)
    if spec.kind == FLAT:
        return spec.price  # type: ignore[return-value]
    tiers = spec.tiers
    tier_price = ZERO if tiers is None else tiers.tiers[tiers.index_at(cycle_energy)].price
    if spec.kind == TIERED:
        return tier_price
    return spec.price_of("flat") + tier_price


def service_charge_due(
    schedule: TariffSchedule, month_key: str, *, tz: ZoneInfo | None = None
) -> Decimal:
    """The fixed service charge for the month ``"YYYY-MM"``: the one of the version in effect
    at the first moment of the month (local time in ``tz``, UTC if not given); a schedule that
    starts during the month charges its first version's in full; one that starts later
    charges 0.00."""
    try:
        year, month = (int(part) for part in month_key.split("-"))
        first = datetime(year, month, 1, tzinfo=tz or UTC)
    except ValueError:
        raise IntervalError(f"{month_key!r} is not a month YYYY-MM") from None
    if len(month_key) != 7:
        raise IntervalError(f"{month_key!r} is not a month YYYY-MM")
    first = first.astimezone(UTC)
    index = bisect_right(schedule._starts, first) - 1
    if index >= 0:
        return schedule._specs[index].service_charge
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=tz or UTC).astimezone(UTC)
    return schedule._specs[0].service_charge if schedule._starts[0] < end else NO_CHARGE


def _aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is UTC:
        return moment
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise IntervalError(f"{name} must be an aware datetime, not {moment!r}")
    return moment.astimezone(UTC)


def _period_deltas(before: Registers, after: Registers) -> tuple[Decimal, ...] | None:
    first, last = before[1:], after[1:]
    if None in first or None in last:
        return None
    deltas = (last[0] - first[0], last[1] - first[1], last[2] - first[2], last[3] - first[3])
    if min(deltas) < 0:
        period = PERIODS[deltas.index(min(deltas))]
        raise IntervalError(f"the {period} register went back by {-min(deltas)}")
    return deltas


def _price_segment(
    spec: TariffSpec,
    since: datetime,
    until: datetime,
    energy: Decimal,
    deltas: Sequence[Decimal] | None,
    cycle_energy: Decimal,
    tz: ZoneInfo,
    parts: list[tuple[str | None, int | None, Decimal, Decimal]],
) -> None:
    """Append the ``(period, tier, price, energy)`` of one segment (one version, one tier
    cycle) to ``parts``; within a segment no two have the same period and tier."""
    kind = spec.kind
    if kind == FLAT:
        parts.append((None, None, spec.price, energy))  # type: ignore[arg-type]
        return
    tiers = spec.tiers
    if kind == TIERED:
        for index, part in tiers.portions(cycle_energy, energy):  # type: ignore[union-attr]
            parts.append((None, index + 1, tiers.tiers[index].price, part))  # type: ignore[union-attr]
        return
    prices = spec.period_prices
    if deltas is not None:
        sharp, peak, flat, valley = deltas
        flat += energy - sharp - peak - flat - valley  # the meter's rounding goes to flat
        parts.append(("sharp", None, prices[0], sharp))  # type: ignore[index]
        parts.append(("peak", None, prices[1], peak))  # type: ignore[index]
        parts.append(("flat", None, prices[2], flat))  # type: ignore[index]
        parts.append(("valley", None, prices[3], valley))  # type: ignore[index]
    else:
        pieces = spec.calendar.pieces(since, until, tz)  # type: ignore[union-attr]
        if len(pieces) == 1:
            parts.append((pieces[0][1], None, spec.price_of(pieces[0][1]), energy))
        else:
            ends = [moment for moment, _ in pieces[1:]] + [until]
            weights = [(e - s) // _MICROSECOND for (s, _), e in zip(pieces, ends, strict=True)]
            by_period: dict[str, Decimal] = {}
            for (_, period), part in zip(pieces, split_energy(energy, weights), strict=True):
                by_period[period] = by_period.get(period, ZERO) + part
            for period, part in by_period.items():
                parts.append((period, None, spec.price_of(period), part))
    if kind == TIERED_TOU:
        for index, part in tiers.portions(cycle_energy, energy):  # type: ignore[union-attr]
            adder = tiers.tiers[index].price  # type: ignore[union-attr]
            if adder:
                parts.append((None, index + 1, adder, part))
