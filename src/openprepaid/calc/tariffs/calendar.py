"""Time-of-use calendars: which period (sharp, peak, flat, valley) a moment belongs to.

A calendar has named **day tables** (``[["00:00", "valley"], ["08:00", "peak"], …]``: each entry
starts a period that lasts until the next entry, the last one until midnight), **seasons** that
start on a day of the year (``"MM-DD"``) and say which table a workday and a holiday use, a list
of **holiday** dates, and whether Saturdays and Sundays count as holidays.

Boundary rule: a moment exactly at an entry's start belongs to the new period (08:00:00 is peak,
07:59:59.999999 still valley). The day tables wrap past midnight: 23:00-07:00 valley is written as
``["00:00", "valley"] … ["23:00", "valley"]``. A season lasts until the next season's start and
the last season wraps over New Year to the first start. All of this is local wall-clock time in
the ``tz`` the caller gives.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from openprepaid.calc.tariffs.fields import (
    TariffError,
    a_bool,
    a_list,
    check_keys,
    join,
    text,
)

PERIODS = ("sharp", "peak", "flat", "valley")
CALENDAR_KEYS = ("day_tables", "seasons")
CALENDAR_OPTIONAL = ("holidays", "weekends_are_holidays")

_HH_MM = re.compile(r"(\d\d):(\d\d)")
_MM_DD = re.compile(r"(\d\d)-(\d\d)")
_ONE_DAY = timedelta(days=1)

DayTable = tuple[tuple[int, str], ...]  # (minute of the day, period), sorted, first at 0


@dataclass(frozen=True, slots=True)
class Season:
    """From ``start`` (month, day) on, workdays use the table ``workday`` and holidays the table
    ``holiday``."""

    start: tuple[int, int]
    workday: str
    holiday: str


@dataclass(frozen=True, slots=True)
class TouCalendar:
    day_tables: tuple[tuple[str, DayTable], ...]
    seasons: tuple[Season, ...]
    holidays: frozenset[date] = frozenset()
    weekends_are_holidays: bool = False
    _tables: dict[str, DayTable] = field(default_factory=dict, compare=False, repr=False)
    _days: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._tables.update(self.day_tables)

    # -- the calendar ----------------------------------------------------------------------

    def is_holiday(self, day: date) -> bool:
        return day in self.holidays or (self.weekends_are_holidays and day.weekday() >= 5)

    def season_on(self, day: date) -> Season:
        month_day = (day.month, day.day)
        chosen = self.seasons[-1]  # before the first start: the last season, from last year
        for season in self.seasons:
            if season.start > month_day:
                break
            chosen = season
        return chosen

    def table_on(self, day: date) -> DayTable:
        season = self.season_on(day)
        return self._tables[season.holiday if self.is_holiday(day) else season.workday]

    def period_at(self, at: datetime, tz: ZoneInfo) -> str:
        """The period of the (aware) moment ``at``."""
        at = at.astimezone(UTC)
        starts, periods, _ = self._day(at.astimezone(tz).date(), tz)
        return periods[bisect_right(starts, at) - 1]

    def pieces(self, start: datetime, end: datetime, tz: ZoneInfo) -> list[tuple[datetime, str]]:
        """``[start, end)`` (UTC) cut where the period changes: ``[(from, period), …]``, the
        first from ``start``, each lasting until the next one's ``from`` (the last until
        ``end``). Neighbouring pieces always have different periods."""
        day = start.astimezone(tz).date()
        starts, periods, day_end = self._day(day, tz)
        index = bisect_right(starts, start) - 1
        pieces = [(start, periods[index])]
        index += 1
        while True:
            for moment, period in zip(starts[index:], periods[index:], strict=True):
                if moment >= end:
                    return pieces
                if period != pieces[-1][1]:
                    pieces.append((moment, period))
            if day_end >= end:
                return pieces
            day += _ONE_DAY
            starts, periods, day_end = self._day(day, tz)
            index = 0

    def _day(self, day: date, tz: ZoneInfo) -> tuple[list[datetime], list[str], datetime]:
        """The UTC starts and periods of ``day``'s table, and the UTC start of the next day
        (memoised per day and zone)."""
        key = (day, tz)
        cached = self._days.get(key)
        if cached is None:
            table = self.table_on(day)
            starts = [
                datetime(
                    day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=tz
                ).astimezone(UTC)
                for minute, _ in table
            ]
            following = day + _ONE_DAY
            day_end = datetime(following.year, following.month, following.day, tzinfo=tz)
            cached = (starts, [period for _, period in table], day_end.astimezone(UTC))
            self._days[key] = cached
        return cached

    # -- JSON ------------------------------------------------------------------------------

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "day_tables": {
                name: [[f"{minute // 60:02d}:{minute % 60:02d}", period] for minute, period in t]
                for name, t in self.day_tables
            },
            "seasons": [
                {
                    "from": f"{s.start[0]:02d}-{s.start[1]:02d}",
                    "workday": s.workday,
                    "holiday": s.holiday,
                }
                for s in self.seasons
            ],
        }
        if self.holidays:
            data["holidays"] = [day.isoformat() for day in sorted(self.holidays)]
        if self.weekends_are_holidays:
            data["weekends_are_holidays"] = True
        return data


def parse_calendar(definition: Mapping[str, object]) -> TouCalendar:
    """The calendar part of a ``tou`` or ``tiered_tou`` definition (keys already checked)."""
    raw_tables = definition["day_tables"]
    if not isinstance(raw_tables, Mapping) or not raw_tables:
        raise TariffError("day_tables", "must be an object naming at least one day table")
    tables = tuple(
        (text(name, "day_tables"), _day_table(entries, join("day_tables", name)))
        for name, entries in raw_tables.items()
    )
    names = {name for name, _ in tables}
    seasons = tuple(
        _season(raw, join("seasons", number), names)
        for number, raw in enumerate(a_list(definition["seasons"], "seasons"))
    )
    for number in range(1, len(seasons)):
        if seasons[number].start <= seasons[number - 1].start:
            raise TariffError(
                join(join("seasons", number), "from"),
                "seasons must be in order of their start, each on a different day",
            )
    used = {s.workday for s in seasons} | {s.holiday for s in seasons}
    for name, _ in tables:
        if name not in used:
            raise TariffError(join("day_tables", name), "is not used by any season")
    holidays = _holidays(definition.get("holidays", []))
    weekends = a_bool(definition.get("weekends_are_holidays", False), "weekends_are_holidays")
    return TouCalendar(tables, seasons, holidays, weekends)


def _day_table(entries: object, path: str) -> DayTable:
    table = []
    for number, entry in enumerate(a_list(entries, path)):
        where = join(path, number)
        if not isinstance(entry, list | tuple) or len(entry) != 2:
            raise TariffError(where, 'each entry is ["HH:MM", period]')
        start, period = text(entry[0], where), text(entry[1], where)
        match = _HH_MM.fullmatch(start)
        if not match or int(match[1]) > 23 or int(match[2]) > 59:
            raise TariffError(where, f"{start!r} is not a time HH:MM (00:00 to 23:59)")
        if period not in PERIODS:
            raise TariffError(where, f"unknown period {period!r}; use one of {', '.join(PERIODS)}")
        minute = int(match[1]) * 60 + int(match[2])
        if number == 0 and minute != 0:
            raise TariffError(where, "a day table starts at 00:00")
        if table and minute <= table[-1][0]:
            raise TariffError(where, f"{start} is not after the previous start (sorted, no twins)")
        table.append((minute, period))
    return tuple(table)


def _season(raw: object, path: str, names: set[str]) -> Season:
    season = check_keys(raw, path, required=("from", "workday"), optional=("holiday",))
    start = text(season["from"], join(path, "from"))
    match = _MM_DD.fullmatch(start)
    if not match or not _valid_month_day(int(match[1]), int(match[2])):
        raise TariffError(join(path, "from"), f"{start!r} is not a day of the year MM-DD")
    workday = text(season["workday"], join(path, "workday"))
    holiday = text(season.get("holiday", workday), join(path, "holiday"))
    for key, name in (("workday", workday), ("holiday", holiday)):
        if name not in names:
            raise TariffError(join(path, key), f"no day table named {name!r}")
    return Season((int(match[1]), int(match[2])), workday, holiday)


def _valid_month_day(month: int, day: int) -> bool:
    if month == 2 and day == 29:
        return False  # not every year has it
    try:
        date(2001, month, day)
    except ValueError:
        return False
    return True


def _holidays(raw: object) -> frozenset[date]:
    days: set[date] = set()
    for number, value in enumerate(a_list(raw, "holidays", min_length=0)):
        where = join("holidays", number)
        try:
            day = date.fromisoformat(text(value, where))
        except ValueError:
            raise TariffError(where, f"{value!r} is not a date YYYY-MM-DD") from None
        if len(value) != 10:
            raise TariffError(where, f"{value!r} is not a date YYYY-MM-DD")
        if day in days:
            raise TariffError(where, f"{value} is listed twice")
        days.add(day)
    return frozenset(days)
