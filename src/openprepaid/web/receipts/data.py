"""What a receipt prints: one frozen record per sale, already in words and labels.

The caller (the console, from ``billing.selectors.receipt_data``) fills :class:`ReceiptData`
with text that is already translated (the kind of transaction, the payment method) and with
the amount in words (大写) from the billing helper; this module only checks and formats. Money
is Decimal with at most 2 decimals, prices 4, energy 2: never float. Times are aware datetimes
and print in their own zone, so pass them converted to the site's local time
(``django.utils.timezone.localtime``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from openprepaid.calc.money import parse_energy, parse_money, parse_price

# The fields a layout may show, in their default order. The receipt number, the site, the
# time and the part caption are always printed in the header and are not fields.
FIELDS: tuple[str, ...] = (
    "tenant_name",
    "tenant_code",
    "unit_code",
    "account_number",
    "meter_address",
    "kind",
    "payment_method",
    "purchase_count",
    "energy",
    "unit_price",
    "balance_after",
    "cashier",
    "amount_in_words",
    "amount",
    "corrects_receipt",
    "note",
)

# Fields whose value takes the whole width of a row.
WIDE_FIELDS = frozenset({"note", "corrects_receipt"})
# Fields printed larger and heavier than the rest.
EMPHASISED_FIELDS = frozenset({"amount", "amount_in_words"})


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceiptData:
    """One receipt. ``amount`` is signed (a refund or a correction is negative) and
    ``amount_in_words`` is its 大写 form; ``energy``/``unit_price`` are set for a sale by energy
    (or where the price is known); ``corrects_receipt`` is the number of the receipt a
    correction (冲正) reverses."""

    site_name: str
    receipt_number: str
    created_at: datetime
    kind: str
    tenant_name: str
    tenant_code: str
    unit_code: str
    account_number: str
    meter_address: str
    amount: Decimal
    amount_in_words: str
    payment_method: str = ""
    energy: Decimal | None = None
    unit_price: Decimal | None = None
    balance_after: Decimal | None = None
    purchase_count: int | None = None
    cashier: str = ""
    note: str = ""
    corrects_receipt: str | None = None
    printed_at: datetime | None = None

    def __post_init__(self) -> None:
        if not self.receipt_number:
            raise ValueError("a receipt needs a receipt number")
        for name in ("created_at", "printed_at"):
            value = getattr(self, name)
            if value is None and name == "printed_at":
                continue
            if not isinstance(value, datetime) or value.utcoffset() is None:
                raise ValueError(f"{name} must be an aware datetime, not {value!r}")
        # parse_* refuse floats and surplus decimals; the parsed value equals the given one.
        parse_money(self.amount)
        if self.balance_after is not None:
            parse_money(self.balance_after)
        if self.energy is not None:
            parse_energy(self.energy)
        if self.unit_price is not None:
            parse_price(self.unit_price)
        if self.purchase_count is not None and (
            isinstance(self.purchase_count, bool) or not isinstance(self.purchase_count, int)
        ):
            raise ValueError(f"purchase_count must be an int, not {self.purchase_count!r}")


def format_money(amount: Decimal) -> str:
    """``¥1,234.50``; a negative amount reads ``-¥1,234.50``."""
    amount = parse_money(amount)
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"


def format_energy(energy: Decimal) -> str:
    return f"{parse_energy(energy):,.2f} kWh"


def format_price(price: Decimal) -> str:
    return f"¥{parse_price(price):,.4f}/kWh"


def format_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def field_values(receipt: ReceiptData) -> dict[str, str]:
    """Each field's printed value; a field without a value is absent (not printed at all)."""
    values: dict[str, str | None] = {
        "tenant_name": receipt.tenant_name,
        "tenant_code": receipt.tenant_code,
        "unit_code": receipt.unit_code,
        "account_number": receipt.account_number,
        "meter_address": receipt.meter_address,
        "kind": receipt.kind,
        "payment_method": receipt.payment_method,
        "purchase_count": None if receipt.purchase_count is None else str(receipt.purchase_count),
        "energy": None if receipt.energy is None else format_energy(receipt.energy),
        "unit_price": None if receipt.unit_price is None else format_price(receipt.unit_price),
        "balance_after": (
            None if receipt.balance_after is None else format_money(receipt.balance_after)
        ),
        "cashier": receipt.cashier,
        "amount_in_words": receipt.amount_in_words,
        "amount": format_money(receipt.amount),
        "corrects_receipt": receipt.corrects_receipt,
        "note": receipt.note,
    }
    return {name: value for name, value in values.items() if value}
