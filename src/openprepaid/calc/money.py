"""Money, prices and energy as exact decimals, and the one place where money is rounded.

- money: yuan with 2 decimals (fen); rounding is ``ROUND_HALF_UP`` and only in :func:`round_money`
  (which also returns the residue, so that a caller can carry it instead of losing it);
- unit prices: yuan per kWh with 4 decimals (a meter holds XXXX.XXXX);
- energy: kWh with 2 decimals, as meters report it.

Parsing refuses what is not an exact finite number with at most the allowed decimals: a price
typed as ``1.23456`` is an error, not silently rounded.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
PRICE_QUANTUM = Decimal("0.0001")
ENERGY_QUANTUM = Decimal("0.01")
ZERO = Decimal("0.00")


class AmountError(ValueError):
    """Text or a number that is not an acceptable exact amount."""


def round_money(exact: Decimal) -> tuple[Decimal, Decimal]:
    """``exact`` rounded half-up to fen, and the residue ``exact - rounded``."""
    exact = _finite(exact)
    rounded = exact.quantize(CENT, rounding=ROUND_HALF_UP)
    return rounded, exact - rounded


def money(exact: Decimal) -> Decimal:
    """``exact`` rounded half-up to fen; :func:`round_money` also gives the residue."""
    return round_money(exact)[0]


def to_fen(amount: Decimal) -> int:
    """A money amount with at most 2 decimals as integer fen."""
    amount = parse_decimal(amount, places=2)
    return int(amount * 100)


def from_fen(fen: int) -> Decimal:
    return (Decimal(int(fen)) / 100).quantize(CENT)


def parse_decimal(
    value: object,
    *,
    places: int,
    minimum: Decimal | None = None,
    maximum: Decimal | None = None,
) -> Decimal:
    """``value`` (text, int or Decimal; never float) as a Decimal with exactly ``places``
    decimals. More decimals than ``places``, a float, NaN/infinity or a value outside
    ``[minimum, maximum]`` raise :class:`AmountError`."""
    if isinstance(value, float | bool):
        raise AmountError(f"{value!r}: amounts are given as text or Decimal, never float")
    if isinstance(value, str):
        value = value.strip().replace(",", "")
    try:
        number = Decimal(value)  # type: ignore[arg-type]
    except (InvalidOperation, TypeError, ValueError):
        raise AmountError(f"{value!r} is not a number") from None
    number = _finite(number)
    quantum = Decimal(1).scaleb(-places)
    if number != number.quantize(quantum, rounding=ROUND_HALF_UP):
        raise AmountError(f"{value} has more than {places} decimals")
    number = number.quantize(quantum)
    if minimum is not None and number < minimum:
        raise AmountError(f"{number} is below {minimum}")
    if maximum is not None and number > maximum:
        raise AmountError(f"{number} is above {maximum}")
    return number


def parse_money(value: object, **limits: Decimal) -> Decimal:
    return parse_decimal(value, places=2, **limits)


def parse_price(value: object, **limits: Decimal) -> Decimal:
    return parse_decimal(value, places=4, **limits)


def parse_energy(value: object, **limits: Decimal) -> Decimal:
    return parse_decimal(value, places=2, **limits)


def _finite(number: Decimal) -> Decimal:
    if not isinstance(number, Decimal):
        raise AmountError(f"{number!r} is not a Decimal")
    if not number.is_finite():
        raise AmountError(f"{number} is not a finite number")
    return number
