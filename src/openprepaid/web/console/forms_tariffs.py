"""The tariff editor: a form over the definition JSON of ``openprepaid.calc.tariffs``
(docs/tariffs.md), so that nobody types JSON.

- :class:`TariffForm` holds the tariff's name and kind, the start of the version, and the
  single-valued parts of a definition (flat price, the four period prices, tier cycle, monthly
  service charge, holiday dates, weekends as holidays);
- three row editors (formsets) hold the lists: **day table rows** (table name, start, period),
  **seasons** (from MM-DD, workday table, holiday table) and **tiers** (up to kWh, price).

:meth:`TariffForm.definition` builds the JSON of the chosen kind. The form runs it through
``parse_tariff`` only to put a refusal under the field it names (``tiers[1].up_to`` is the second
tier row's "up to"); the service checks it again and stores it.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from datetime import date, time
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from openprepaid.calc.tariffs.calendar import PERIODS
from openprepaid.calc.tariffs.fields import TariffError
from openprepaid.calc.tariffs.spec import CYCLES, parse_tariff
from openprepaid.domain.billing.models import TariffKind
from openprepaid.domain.sites import selectors as site_selectors
from openprepaid.web.console.formbase import ConsoleForm, ConsoleFormMixin
from openprepaid.web.console.forms_billing import DATETIME, TIME

PRICE_Q = Decimal("0.0001")
MONEY_Q = Decimal("0.01")
ENERGY_Q = Decimal("0.01")

TOU_KINDS = (TariffKind.TIME_OF_USE.value, TariffKind.TIERED_TIME_OF_USE.value)
TIER_KINDS = (TariffKind.TIERED.value, TariffKind.TIERED_TIME_OF_USE.value)

PERIOD_LABELS = {
    "sharp": _("Sharp"),
    "peak": _("Peak"),
    "flat": _("Flat"),
    "valley": _("Valley"),
}
CYCLE_LABELS = {"month": _("Monthly"), "year": _("Yearly")}

#: A common commercial day table, offered when a new time-of-use tariff is made.
EXAMPLE_DAY = (
    ("00:00", "valley"),
    ("08:00", "flat"),
    ("10:00", "peak"),
    ("11:00", "sharp"),
    ("13:00", "peak"),
    ("15:00", "flat"),
    ("18:00", "peak"),
    ("21:00", "flat"),
    ("23:00", "valley"),
)
WORKDAY_TABLE = "workday"
EXTRA_ROWS = 2


def _price_field(label, **kwargs) -> forms.DecimalField:
    return forms.DecimalField(
        label=label, max_digits=8, decimal_places=4, min_value=0, required=False, **kwargs
    )


def _text(value: Decimal, quantum: Decimal) -> str:
    return str(value.quantize(quantum))


# ---------------------------------------------------------------------------- row forms


class _RowForm(ConsoleFormMixin, forms.Form):
    """One row of a list. Every field is optional: a row left empty is no row; a row filled in
    part names what is missing."""

    small = True
    needed: tuple[str, ...] = ()

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return all(data.get(name) in (None, "") for name in self.fields)

    def clean(self):
        data = super().clean()
        if not self.is_blank():
            for name in self.needed:
                if data.get(name) in (None, "") and name not in self.errors:
                    self.add_error(name, _("This field is required."))
        return data


class DayRowForm(_RowForm):
    needed = ("table", "start", "period")
    table = forms.CharField(label=_("Day table"), max_length=32, required=False)
    start = forms.TimeField(label=_("Starts at"), required=False, widget=TIME)
    period = forms.ChoiceField(
        label=_("Period"), choices=[("", "—"), *PERIOD_LABELS.items()], required=False
    )


class SeasonRowForm(_RowForm):
    needed = ("start", "workday")
    start = forms.RegexField(
        label=_("From (MM-DD)"),
        regex=r"^\d\d-\d\d$",
        required=False,
        error_messages={"invalid": _("Give the day as MM-DD, for example 07-01.")},
        widget=forms.TextInput(attrs={"placeholder": "07-01", "inputmode": "numeric"}),
    )
    workday = forms.CharField(label=_("Workday table"), max_length=32, required=False)
    holiday = forms.CharField(label=_("Holiday table"), max_length=32, required=False)


class TierRowForm(_RowForm):
    needed = ("price",)
    up_to = forms.DecimalField(
        label=_("Up to (kWh)"), max_digits=14, decimal_places=2, min_value=0, required=False
    )
    price = _price_field(_("Price (yuan/kWh)"))


DayRowFormSet = forms.formset_factory(DayRowForm, extra=EXTRA_ROWS)
SeasonRowFormSet = forms.formset_factory(SeasonRowForm, extra=1)
TierRowFormSet = forms.formset_factory(TierRowForm, extra=EXTRA_ROWS)


# ----------------------------------------------------------------------------- the form


class TariffForm(ConsoleForm):
    """A new tariff (``tariff=None``: site, code, name, kind too) or a new version of
    ``tariff`` (its kind is fixed). ``definition`` prefills the editor (the latest version)."""

    wide_fields = ("holidays", "note")

    def __init__(self, *args, tariff=None, definition: dict | None = None, **kwargs):
        self.tariff = tariff
        self.start_definition = definition
        super().__init__(*args, **kwargs)
        data = self.data if self.is_bound else None
        initial = _rows_from(definition)
        self.day_rows = DayRowFormSet(
            data, prefix="day", initial=initial["day"], form_kwargs={"operator": self.operator}
        )
        self.season_rows = SeasonRowFormSet(
            data,
            prefix="season",
            initial=initial["season"],
            form_kwargs={"operator": self.operator},
        )
        self.tier_rows = TierRowFormSet(
            data, prefix="tier", initial=initial["tier"], form_kwargs={"operator": self.operator}
        )
        self._row_of: dict[str, tuple[str, int]] = {}

    def setup(self) -> None:
        if self.tariff is None:
            sites = site_selectors.sites_for(self.operator)
            self.fields["site"] = forms.ModelChoiceField(sites, label=_("Site"))
            if len(sites) == 1:
                self.fields["site"].initial = sites[0].pk
            self.fields["code"] = forms.CharField(label=_("Tariff code"), max_length=32)
            self.fields["name"] = forms.CharField(label=_("Name"), max_length=100)
            self.fields["kind"] = forms.ChoiceField(
                label=_("Kind"), choices=TariffKind.choices, initial=TariffKind.FLAT
            )
        self.fields["effective_from"] = forms.DateTimeField(
            label=_("Effective from"),
            widget=DATETIME,
            help_text=_("Readings and sales from this moment on use this definition."),
        )
        if self.tariff is None:
            self.fields["note"] = forms.CharField(label=_("Note"), max_length=200, required=False)
        self.fields["price"] = _price_field(_("Price (yuan/kWh)"))
        self.fields["price"].widget.attrs["data-show-if"] = "kind=flat"
        for period in PERIODS:
            name = f"price_{period}"
            self.fields[name] = _price_field(
                _("%(period)s price (yuan/kWh)") % {"period": PERIOD_LABELS[period]}
            )
            self.fields[name].widget.attrs["data-show-if"] = "kind=" + ",".join(TOU_KINDS)
        self.fields["cycle"] = forms.ChoiceField(
            label=_("Tier cycle"),
            choices=[(c, CYCLE_LABELS[c]) for c in CYCLES],
            initial="month",
            required=False,
            help_text=_("Tiers count the energy used in each calendar month or year."),
        )
        self.fields["cycle"].widget.attrs["data-show-if"] = "kind=" + ",".join(TIER_KINDS)
        self.fields["holidays"] = forms.CharField(
            label=_("Holiday dates"),
            required=False,
            widget=forms.Textarea(attrs={"rows": 2, "placeholder": "2026-10-01 2026-10-02"}),
            help_text=_(
                "Days that use the holiday table, as YYYY-MM-DD, separated by spaces or lines."
            ),
        )
        self.fields["weekends_are_holidays"] = forms.BooleanField(
            label=_("Saturdays and Sundays use the holiday table"), required=False
        )
        for name in ("holidays", "weekends_are_holidays"):
            self.fields[name].widget.attrs["data-show-if"] = "kind=" + ",".join(TOU_KINDS)
        self.fields["monthly_service_charge"] = forms.DecimalField(
            label=_("Monthly service charge (yuan)"),
            max_digits=12,
            decimal_places=2,
            min_value=0,
            required=False,
            help_text=_("A fixed amount taken once a month; leave empty for none."),
        )
        if not self.is_bound and self.start_definition:
            self.initial.update(_main_from(self.start_definition))

    # -- the kind --------------------------------------------------------------------------

    def kind(self) -> str:
        if self.tariff is not None:
            return self.tariff.kind
        if self.is_bound:
            return self.data.get(self.add_prefix("kind"), "")
        return self.initial.get("kind") or self.fields["kind"].initial

    def row_editors(self, kind: str) -> list:
        """The row editors that count for ``kind`` (the others are ignored)."""
        editors = []
        if kind in TOU_KINDS:
            editors += [self.day_rows, self.season_rows]
        if kind in TIER_KINDS:
            editors.append(self.tier_rows)
        return editors

    # -- validation ------------------------------------------------------------------------

    def clean_holidays(self) -> list[str]:
        days = []
        for part in re.split(r"[\s,;，；]+", self.cleaned_data.get("holidays") or ""):
            if not part:
                continue
            try:
                days.append(date.fromisoformat(part).isoformat())
            except ValueError:
                raise forms.ValidationError(
                    _("%(value)s is not a date YYYY-MM-DD.") % {"value": part}
                ) from None
        return days

    def clean(self):
        data = super().clean()
        kind = self.kind()
        rows_valid = all(rows.is_valid() for rows in self.row_editors(kind))
        if self.errors or not rows_valid:
            if not self.errors:
                self.add_error(None, _("Correct the rows marked below."))
            return data
        self._definition = self._build(kind)
        try:
            parse_tariff(kind, self._definition)
        except TariffError as error:
            self._place(error)
        return data

    def definition(self) -> dict:
        """The definition JSON of the chosen kind (after ``is_valid()``)."""
        return self._definition

    def _build(self, kind: str) -> dict:
        data = self.cleaned_data
        definition: dict = {}
        if kind == TariffKind.FLAT and data.get("price") is not None:
            definition["price"] = _text(data["price"], PRICE_Q)
        if kind in TOU_KINDS:
            prices = {
                period: _text(data[f"price_{period}"], PRICE_Q)
                for period in PERIODS
                if data.get(f"price_{period}") is not None
            }
            definition["prices"] = prices
            tables, seasons = self._calendar()
            definition["day_tables"] = tables
            definition["seasons"] = seasons
            if data.get("holidays"):
                definition["holidays"] = data["holidays"]
            if data.get("weekends_are_holidays"):
                definition["weekends_are_holidays"] = True
        if kind in TIER_KINDS:
            definition["cycle"] = data.get("cycle") or "month"
            key = "adder" if kind == TariffKind.TIERED_TIME_OF_USE else "price"
            tiers = []
            for index, row in _filled(self.tier_rows):
                self._row_of[f"tiers[{len(tiers)}]"] = ("tier", index)
                up_to = row.cleaned_data.get("up_to")
                tiers.append(
                    {
                        "up_to": None if up_to is None else _text(up_to, ENERGY_Q),
                        key: _text(row.cleaned_data["price"], PRICE_Q),
                    }
                )
            definition["tiers"] = tiers
        if data.get("monthly_service_charge"):
            definition["monthly_service_charge"] = _text(data["monthly_service_charge"], MONEY_Q)
        return definition

    def _calendar(self) -> tuple[dict, list]:
        tables: OrderedDict[str, list[tuple[time, str, int]]] = OrderedDict()
        for index, row in _filled(self.day_rows):
            values = row.cleaned_data
            tables.setdefault(values["table"].strip(), []).append(
                (values["start"], values["period"], index)
            )
        day_tables = {}
        for name, entries in tables.items():
            entries.sort(key=lambda entry: entry[0])
            for position, (_start, _period, index) in enumerate(entries):
                self._row_of[f"day_tables.{name}[{position}]"] = ("day", index)
            day_tables[name] = [[start.strftime("%H:%M"), period] for start, period, _ in entries]
        seasons = []
        for index, row in _filled(self.season_rows):
            values = row.cleaned_data
            season = {"from": values["start"], "workday": values["workday"].strip()}
            if values.get("holiday"):
                season["holiday"] = values["holiday"].strip()
            self._row_of[f"seasons[{len(seasons)}]"] = ("season", index)
            seasons.append(season)
        if not seasons and day_tables:
            # No seasons given: the first table all year, the second (if any) on holidays.
            names = list(day_tables)
            season = {"from": "01-01", "workday": names[0]}
            if len(names) > 1:
                season["holiday"] = names[1]
            seasons.append(season)
        return day_tables, seasons

    def _place(self, error: TariffError) -> None:
        """Show the refusal under the field (or row) it names."""
        path, message = error.field, readable(error.problem)
        main = {
            "price": "price",
            "cycle": "cycle",
            "monthly_service_charge": "monthly_service_charge",
            "weekends_are_holidays": "weekends_are_holidays",
            **{f"prices.{p}": f"price_{p}" for p in PERIODS},
        }
        if path in main:
            self.add_error(main[path], message)
            return
        if path.startswith("holidays"):
            self.add_error("holidays", message)
            return
        match = re.fullmatch(
            r"(tiers\[\d+\]|seasons\[\d+\]|day_tables\..+\[\d+\])(?:\.(\w+))?", path
        )
        if match and match[1] in self._row_of:
            kind, index = self._row_of[match[1]]
            rows = {"day": self.day_rows, "season": self.season_rows, "tier": self.tier_rows}[kind]
            field = {"adder": "price", "from": "start"}.get(match[2] or "", match[2] or "")
            row = rows.forms[index]
            if field not in row.fields:
                field = {"day": "start", "season": "start", "tier": "price"}[kind]
            row.add_error(field, message)
            self.add_error(None, _("Correct the rows marked below."))
            return
        section = {
            "tiers": _("Tiers"),
            "day_tables": _("Day tables"),
            "seasons": _("Seasons"),
            "prices": _("Prices"),
        }.get(re.split(r"[.\[]", path)[0])
        label = section or path
        self.add_error(None, f"{label}: {message}" if label else message)


#: The refusals of ``parse_tariff`` this form can provoke, in the operator's language (anything
#: else is shown as ``calc`` words it).
PROBLEMS = (
    (r"missing", _("This field is required.")),
    (r"a day table starts at 00:00", _("A day table starts at 00:00.")),
    (r"(?P<time>\d\d:\d\d) is not after the previous start.*", _("%(time)s is listed twice.")),
    (r"no day table named '(?P<name>.*)'", _("There is no day table named “%(name)s”.")),
    (r"is not used by any season", _("This day table is not used by any season.")),
    (r"seasons must be in order.*", _("Seasons go in order of their start day, one per day.")),
    (r"'(?P<day>.*)' is not a day of the year MM-DD", _("%(day)s is not a day of the year.")),
    (r"(?P<day>\S+) is listed twice", _("%(day)s is listed twice.")),
    (r"the last tier is open-ended \(null\)", _("Leave “up to” empty on the last tier.")),
    (r"only the last tier is open-ended", _("Give “up to” on every tier but the last.")),
    (
        r"must be above the previous tier's (?P<limit>\S+)",
        _("Must be above the previous tier's %(limit)s kWh."),
    ),
    (r"must be greater than 0", _("Must be greater than 0.")),
    (r"needs at least 1 item\(s\)", _("Give at least one row.")),
    (r"(?P<value>\S+) is above (?P<limit>\S+)", _("%(value)s is above %(limit)s.")),
)


def readable(problem: str) -> str:
    for pattern, message in PROBLEMS:
        match = re.fullmatch(pattern, problem)
        if match:
            return str(message) % match.groupdict() if match.groupdict() else str(message)
    return problem


def _filled(formset) -> list[tuple[int, forms.Form]]:
    return [(index, row) for index, row in enumerate(formset.forms) if not row.is_blank()]


# ------------------------------------------------------------------------------ prefill


def _main_from(definition: dict) -> dict:
    initial: dict = {}
    if "price" in definition:
        initial["price"] = definition["price"]
    for period, value in (definition.get("prices") or {}).items():
        initial[f"price_{period}"] = value
    if "cycle" in definition:
        initial["cycle"] = definition["cycle"]
    if definition.get("holidays"):
        initial["holidays"] = " ".join(definition["holidays"])
    initial["weekends_are_holidays"] = bool(definition.get("weekends_are_holidays"))
    if definition.get("monthly_service_charge"):
        initial["monthly_service_charge"] = definition["monthly_service_charge"]
    return initial


def _rows_from(definition: dict | None) -> dict[str, list[dict]]:
    if not definition:
        return {
            "day": [{"table": WORKDAY_TABLE, "start": s, "period": p} for s, p in EXAMPLE_DAY],
            "season": [],
            "tier": [],
        }
    day = [
        {"table": name, "start": start, "period": period}
        for name, entries in (definition.get("day_tables") or {}).items()
        for start, period in entries
    ]
    season = [
        {"start": s.get("from"), "workday": s.get("workday"), "holiday": s.get("holiday", "")}
        for s in definition.get("seasons") or []
    ]
    tier = [
        {"up_to": t.get("up_to"), "price": t.get("adder", t.get("price"))}
        for t in definition.get("tiers") or []
    ]
    return {"day": day, "season": season, "tier": tier}
