"""Errors, and the checks that read one field of a tariff definition.

Every refusal is a :class:`TariffError` whose message starts with the path of the offending field
(``tiers[2].up_to``, ``day_tables.winter[0]``), so that an operator can find it in the JSON.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from decimal import Decimal

from openprepaid.calc.money import AmountError, parse_energy, parse_money, parse_price

MAX_PRICE = Decimal("9999.9999")  # a meter holds a unit price as XXXX.XXXX


class TariffError(ValueError):
    """A tariff definition (or a schedule of versions) that cannot be used. ``field`` is the path
    of the offending field, ``""`` for the definition as a whole."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}" if field else problem)


class IntervalError(ValueError):
    """A reading interval that cannot be priced: end before start, naive times, registers that
    went backwards, a moment before the first tariff version."""


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def check_keys(
    value: object, path: str, *, required: Collection[str], optional: Collection[str] = ()
) -> Mapping[str, object]:
    """``value`` as a mapping with exactly the ``required`` keys and some of the ``optional``."""
    if not isinstance(value, Mapping):
        raise TariffError(path, "must be an object")
    for key in value:
        if not isinstance(key, str) or (key not in required and key not in optional):
            raise TariffError(join(path, str(key)), "unknown key")
    for key in required:
        if key not in value:
            raise TariffError(join(path, key), "missing")
    return value


def text(value: object, path: str) -> str:
    if not isinstance(value, str):
        raise TariffError(path, f"must be text, not {type(value).__name__}")
    return value


def a_list(value: object, path: str, *, min_length: int = 1) -> list:
    if not isinstance(value, list | tuple):
        raise TariffError(path, "must be a list")
    if len(value) < min_length:
        raise TariffError(path, f"needs at least {min_length} item(s)")
    return list(value)


def a_bool(value: object, path: str) -> bool:
    if not isinstance(value, bool):
        raise TariffError(path, "must be true or false")
    return value


def price(value: object, path: str) -> Decimal:
    """A unit price in yuan/kWh given as text: 0 to 9999.9999, at most 4 decimals."""
    return _amount(value, path, parse_price, "a price", maximum=MAX_PRICE)


def money(value: object, path: str) -> Decimal:
    """A money amount in yuan given as text: not negative, at most 2 decimals."""
    return _amount(value, path, parse_money, "an amount")


def energy(value: object, path: str) -> Decimal:
    """An energy in kWh given as text: greater than 0, at most 2 decimals."""
    number = _amount(value, path, parse_energy, "an energy")
    if number == 0:
        raise TariffError(path, "must be greater than 0")
    return number


def _amount(value: object, path: str, parse, what: str, **limits: Decimal) -> Decimal:
    if not isinstance(value, str):
        raise TariffError(path, f'{what} is given as text such as "0.5000", not {value!r}')
    try:
        return parse(value, minimum=Decimal(0), **limits)
    except AmountError as error:
        raise TariffError(path, str(error)) from None
