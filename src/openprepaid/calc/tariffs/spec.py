"""Tariff definitions: the JSON of a tariff version, checked and turned into a :class:`TariffSpec`.

``parse_tariff(kind, definition)`` accepts exactly the keys of its kind (docs/tariffs.md shows one
of each) and refuses anything else with a :class:`TariffError` naming the field. Numbers are text
(``"0.5000"``), never JSON numbers, so that nothing passes through a float.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from openprepaid.calc.tariffs.calendar import (
    CALENDAR_KEYS,
    CALENDAR_OPTIONAL,
    PERIODS,
    TouCalendar,
    parse_calendar,
)
from openprepaid.calc.tariffs.fields import (
    TariffError,
    a_list,
    check_keys,
    energy,
    join,
    money,
    price,
    text,
)

FLAT, TOU, TIERED, TIERED_TOU = "flat", "tou", "tiered", "tiered_tou"
KINDS = (FLAT, TOU, TIERED, TIERED_TOU)
CYCLES = ("month", "year")
ZERO = Decimal(0)
NO_CHARGE = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class Tier:
    """Energy of the tier cycle up to ``up_to`` kWh (``None``: no limit) is charged ``price``
    (in a ``tiered`` tariff: the unit price; in ``tiered_tou``: the adder on every period)."""

    up_to: Decimal | None
    price: Decimal


@dataclass(frozen=True, slots=True)
class TierTable:
    """Tiers by the energy counted in a cycle (``"month"`` or ``"year"``, local time)."""

    cycle: str
    tiers: tuple[Tier, ...]

    def index_at(self, cycle_energy: Decimal) -> int:
        """The tier (0-based) the next kWh falls in when ``cycle_energy`` has been used: at
        exactly a tier's ``up_to`` that tier is full and the next one applies."""
        for index, tier in enumerate(self.tiers):
            if tier.up_to is None or cycle_energy < tier.up_to:
                return index
        raise AssertionError("the last tier is open-ended")

    def portions(self, cycle_energy: Decimal, used: Decimal) -> list[tuple[int, Decimal]]:
        """``used`` kWh on top of ``cycle_energy`` split by tier: ``[(tier index, kWh), …]``.
        The energy below a tier's limit is in that tier, the rest in the next ones."""
        portions = []
        index = self.index_at(cycle_energy)
        position = cycle_energy
        while used > 0:
            limit = self.tiers[index].up_to
            take = used if limit is None else min(used, limit - position)
            portions.append((index, take))
            used -= take
            position += take
            index += 1
        return portions


@dataclass(frozen=True, slots=True)
class TariffSpec:
    """One tariff version, ready to price. Which parts are set depends on ``kind``:

    - ``flat``: ``price``;
    - ``tou``: ``period_prices`` (sharp, peak, flat, valley) and ``calendar``;
    - ``tiered``: ``tiers`` (tier prices);
    - ``tiered_tou``: ``period_prices``, ``calendar`` and ``tiers`` (tier adders).

    ``service_charge`` is the fixed monthly charge (``0.00`` when there is none)."""

    kind: str
    service_charge: Decimal = NO_CHARGE
    price: Decimal | None = None
    period_prices: tuple[Decimal, Decimal, Decimal, Decimal] | None = None
    calendar: TouCalendar | None = None
    tiers: TierTable | None = None

    def price_of(self, period: str) -> Decimal:
        """The base price of a time-of-use period."""
        if self.period_prices is None:
            raise TariffError("prices", f"a {self.kind} tariff has no period prices")
        return self.period_prices[PERIODS.index(period)]

    def to_json(self) -> dict[str, object]:
        """The definition in its normal form: ``parse_tariff(spec.kind, spec.to_json())`` is
        ``spec`` again."""
        data: dict[str, object] = {}
        if self.price is not None:
            data["price"] = str(self.price)
        if self.period_prices is not None:
            data["prices"] = {p: str(v) for p, v in zip(PERIODS, self.period_prices, strict=True)}
        if self.calendar is not None:
            data.update(self.calendar.to_json())
        if self.tiers is not None:
            data["cycle"] = self.tiers.cycle
            key = "adder" if self.kind == TIERED_TOU else "price"
            data["tiers"] = [
                {"up_to": None if t.up_to is None else str(t.up_to), key: str(t.price)}
                for t in self.tiers.tiers
            ]
        if self.service_charge:
            data["monthly_service_charge"] = str(self.service_charge)
        return data


_REQUIRED = {
    FLAT: ("price",),
    TOU: ("prices", *CALENDAR_KEYS),
    TIERED: ("cycle", "tiers"),
    TIERED_TOU: ("prices", *CALENDAR_KEYS, "cycle", "tiers"),
}
_OPTIONAL = {
    FLAT: ("monthly_service_charge",),
    TOU: ("monthly_service_charge", *CALENDAR_OPTIONAL),
    TIERED: ("monthly_service_charge",),
    TIERED_TOU: ("monthly_service_charge", *CALENDAR_OPTIONAL),
}


def parse_tariff(kind: str, definition: Mapping[str, object]) -> TariffSpec:
    """Check ``definition`` for a tariff of ``kind`` (``flat``, ``tou``, ``tiered``,
    ``tiered_tou``) and return it as a :class:`TariffSpec`; :class:`TariffError` names the
    first field that is wrong."""
    if kind not in KINDS:
        raise TariffError("kind", f"unknown tariff kind {kind!r}; use one of {', '.join(KINDS)}")
    check_keys(definition, "", required=_REQUIRED[kind], optional=_OPTIONAL[kind])
    service_charge = NO_CHARGE
    if "monthly_service_charge" in definition:
        service_charge = money(definition["monthly_service_charge"], "monthly_service_charge")
    if kind == FLAT:
        return TariffSpec(kind, service_charge, price=price(definition["price"], "price"))
    period_prices = calendar = tiers = None
    if kind in (TOU, TIERED_TOU):
        raw = check_keys(definition["prices"], "prices", required=PERIODS)
        period_prices = tuple(price(raw[p], join("prices", p)) for p in PERIODS)
        calendar = parse_calendar(definition)
    if kind in (TIERED, TIERED_TOU):
        tiers = _tiers(definition, "adder" if kind == TIERED_TOU else "price")
    return TariffSpec(
        kind, service_charge, period_prices=period_prices, calendar=calendar, tiers=tiers
    )


def _tiers(definition: Mapping[str, object], price_key: str) -> TierTable:
    cycle = text(definition["cycle"], "cycle")
    if cycle not in CYCLES:
        raise TariffError("cycle", f"unknown tier cycle {cycle!r}; use month or year")
    raw_tiers = a_list(definition["tiers"], "tiers")
    tiers = []
    for number, raw in enumerate(raw_tiers):
        path = join("tiers", number)
        tier = check_keys(raw, path, required=("up_to", price_key))
        last = number == len(raw_tiers) - 1
        up_to = tier["up_to"]
        if last and up_to is not None:
            raise TariffError(join(path, "up_to"), "the last tier is open-ended (null)")
        if not last:
            if up_to is None:
                raise TariffError(join(path, "up_to"), "only the last tier is open-ended")
            up_to = energy(up_to, join(path, "up_to"))
            if tiers and up_to <= tiers[-1].up_to:
                raise TariffError(
                    join(path, "up_to"), f"must be above the previous tier's {tiers[-1].up_to}"
                )
        tiers.append(Tier(up_to, price(tier[price_key], join(path, price_key))))
    return TierTable(cycle, tuple(tiers))
