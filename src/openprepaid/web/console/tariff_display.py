"""A stored tariff definition as people read it: a price table, each day table as a 24-hour
colour bar of sharp / peak / flat / valley, the seasons, holidays and the service charge.

Works on the definition JSON (``TariffVersion.definition``, normal form of
``openprepaid.calc.tariffs``); prices are shown as stored text, tiered time-of-use prices are
the period price plus the tier's adder, added as Decimals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _

from openprepaid.calc.tariffs.calendar import PERIODS
from openprepaid.web.console.forms_tariffs import CYCLE_LABELS, PERIOD_LABELS

#: Colours of the periods (bar, legend, price table).
PERIOD_COLOURS = {
    "sharp": "#c92a2a",
    "peak": "#f08c00",
    "flat": "#2b8a3e",
    "valley": "#1c7ed6",
}
DAY_MINUTES = 24 * 60


@dataclass
class Segment:
    start: str
    end: str
    period: str
    label: str
    colour: str
    left: str  # CSS percentages, as text so that no float reaches a template
    width: str


@dataclass
class DayBar:
    name: str
    segments: list[Segment]


@dataclass
class PriceRow:
    label: str
    cells: list[str]


@dataclass
class TariffView:
    kind: str
    price_head: list[str] = field(default_factory=list)
    price_rows: list[PriceRow] = field(default_factory=list)
    day_bars: list[DayBar] = field(default_factory=list)
    seasons: list[str] = field(default_factory=list)
    holidays: list[str] = field(default_factory=list)
    weekends_are_holidays: bool = False
    cycle: str = ""
    service_charge: str = ""


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _percent(minutes: int) -> str:
    return str((Decimal(minutes) * 100 / DAY_MINUTES).quantize(Decimal("0.001")))


def _period(period: str) -> str:
    return str(PERIOD_LABELS.get(period, period))


def day_bar(name: str, entries: list) -> DayBar:
    segments = []
    for index, (start, period) in enumerate(entries):
        begin = _minutes(start)
        end_text = entries[index + 1][0] if index + 1 < len(entries) else "24:00"
        end = _minutes(end_text)
        segments.append(
            Segment(
                start=start,
                end=end_text,
                period=period,
                label=_period(period),
                colour=PERIOD_COLOURS.get(period, "#868e96"),
                left=_percent(begin),
                width=_percent(end - begin),
            )
        )
    return DayBar(name, segments)


def _tier_label(previous: str | None, up_to: str | None) -> str:
    low = previous or "0"
    if up_to is None:
        return _("above %(low)s kWh") % {"low": low}
    return _("%(low)s – %(high)s kWh") % {"low": low, "high": up_to}


def describe(kind: str, definition: dict) -> TariffView:
    view = TariffView(kind=kind)
    prices = definition.get("prices") or {}
    tiers = definition.get("tiers") or []
    if "price" in definition:
        view.price_head = [_("Price (yuan/kWh)")]
        view.price_rows = [PriceRow(_("All day"), [definition["price"]])]
    elif prices and tiers:
        view.price_head = [_period(p) for p in PERIODS]
        previous = None
        for tier in tiers:
            adder = Decimal(tier.get("adder", "0"))
            view.price_rows.append(
                PriceRow(
                    _tier_label(previous, tier.get("up_to")),
                    [str(Decimal(prices[p]) + adder) for p in PERIODS if p in prices],
                )
            )
            previous = tier.get("up_to")
    elif prices:
        view.price_head = [_period(p) for p in PERIODS]
        view.price_rows = [PriceRow(_("Price (yuan/kWh)"), [prices.get(p, "—") for p in PERIODS])]
    elif tiers:
        view.price_head = [_("Price (yuan/kWh)")]
        previous = None
        for tier in tiers:
            label = _tier_label(previous, tier.get("up_to"))
            view.price_rows.append(PriceRow(label, [tier.get("price", "—")]))
            previous = tier.get("up_to")
    for name, entries in (definition.get("day_tables") or {}).items():
        view.day_bars.append(day_bar(name, entries))
    for season in definition.get("seasons") or []:
        workday = season.get("workday", "")
        holiday = season.get("holiday", workday)
        view.seasons.append(
            _("From %(start)s: workdays %(workday)s, holidays %(holiday)s")
            % {"start": season.get("from", ""), "workday": workday, "holiday": holiday}
        )
    view.holidays = list(definition.get("holidays") or [])
    view.weekends_are_holidays = bool(definition.get("weekends_are_holidays"))
    if definition.get("cycle"):
        view.cycle = str(CYCLE_LABELS.get(definition["cycle"], definition["cycle"]))
    view.service_charge = definition.get("monthly_service_charge", "")
    return view


def legend() -> list[tuple[str, str]]:
    return [(_period(p), PERIOD_COLOURS[p]) for p in PERIODS]
