"""Typed values from a row's text cells, collecting one error per column that is wrong."""

from __future__ import annotations

import decimal

from django.utils.translation import gettext as _

from openprepaid.domain.configio.choices import match_choice
from openprepaid.domain.configio.report import RowError
from openprepaid.domain.configio.spec import TableSpec


class RowFailed(Exception):
    """The row cannot be imported; ``errors`` says where and why."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        super().__init__("; ".join(e.message for e in errors))


class Cells:
    def __init__(self, spec: TableSpec, values: dict[str, str]) -> None:
        self.spec = spec
        self.values = values
        self.errors: list[RowError] = []

    def has(self, key: str) -> bool:
        """Whether the table has this column (a missing column leaves the field alone)."""
        return key in self.values

    def error(self, key: str, message: str) -> None:
        if any(e.column == key for e in self.errors):
            return  # one error a column is enough
        label = self.spec.by_key[key].title() if key else ""
        self.errors.append(RowError(key, label, str(message)))

    def check(self) -> None:
        """Raise :class:`RowFailed` if any cell was wrong."""
        if self.errors:
            raise RowFailed(list(self.errors))

    def text(self, key: str, *, max_length: int | None = None) -> str:
        value = self.values.get(key, "").strip()
        if not value and self.spec.by_key[key].required:
            self.error(key, _("This column is required."))
        elif max_length is not None and len(value) > max_length:
            self.error(
                key,
                _("At most %(max)d characters (this has %(length)d).")
                % {"max": max_length, "length": len(value)},
            )
        return value

    def choice(self, key: str) -> str | None:
        """The code of an enumerated cell, or None when blank."""
        value = self.text(key)
        if not value:
            return None
        column = self.spec.by_key[key]
        found = match_choice(column.choices, value)
        if found is None:
            self.error(
                key,
                _("“%(value)s” is not one of: %(allowed)s.")
                % {"value": value, "allowed": ", ".join(column.allowed())},
            )
            return None
        return found.code

    def integer(self, key: str, *, low: int, high: int) -> int | None:
        value = self.text(key)
        if not value:
            return None
        number = _decimal(value)
        if number is None or number != number.to_integral_value():
            self.error(key, _("“%(value)s” is not a whole number.") % {"value": value})
            return None
        if not low <= number <= high:
            self.error(key, _("Must be from %(low)d to %(high)d.") % {"low": low, "high": high})
            return None
        return int(number)

    def decimal(self, key: str, *, places: int, low: int = 0) -> decimal.Decimal | None:
        value = self.text(key)
        if not value:
            return None
        number = _decimal(value)
        if number is None:
            self.error(key, _("“%(value)s” is not a number.") % {"value": value})
            return None
        if number < low:
            self.error(key, _("Must not be less than %(low)d.") % {"low": low})
            return None
        if -number.normalize().as_tuple().exponent > places:
            self.error(key, _("At most %(places)d decimal places.") % {"places": places})
            return None
        return number.quantize(decimal.Decimal(1).scaleb(-places))


def _decimal(text: str) -> decimal.Decimal | None:
    try:
        number = decimal.Decimal(text.replace(",", "").replace("，", ""))
    except decimal.InvalidOperation:
        return None
    return number if number.is_finite() else None
