"""Receipt layout JSON (BillingSettings.receipt_layout) and the receipt record: defaults,
round trip, every kind of bad input named by its key; money never float."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from openprepaid.calc.money import AmountError
from openprepaid.web.receipts import FIELDS, LayoutError, ReceiptData, ReceiptLayout, parse_layout
from openprepaid.web.receipts.data import field_values, format_energy, format_money, format_price

SHANGHAI = ZoneInfo("Asia/Shanghai")


def receipt(**changes) -> ReceiptData:
    values = {
        "site_name": "星辰广场",
        "receipt_number": "S20261124-0001",
        "created_at": datetime(2026, 11, 24, 9, 30, tzinfo=SHANGHAI),
        "kind": "售电",
        "tenant_name": "星辰名表",
        "tenant_code": "T-001",
        "unit_code": "A-101",
        "account_number": "A0001",
        "meter_address": "000000000001",
        "amount": Decimal("100.00"),
        "amount_in_words": "人民币壹佰元整",
    }
    values.update(changes)
    return ReceiptData(**values)


def test_empty_layout_is_the_default():
    layout = parse_layout({})
    assert layout == ReceiptLayout()
    assert layout.paper == "a4"
    assert layout.parts == ("stub", "customer", "finance")
    assert layout.fields == FIELDS
    assert layout.title is None
    assert layout.footer is None
    assert layout.font_size == 9
    assert layout.signatures is True
    assert layout.cut_lines is True
    assert layout.margins() == (7, 14, 5, 14)


def test_to_json_parses_back_to_the_same_layout():
    data = {
        "paper": "241x93",
        "parts": ["finance", "customer"],
        "captions": {"finance": "第三联 记账"},
        "title": "星辰广场电费收据",
        "fields": ["unit_code", "tenant_name", "amount", "amount_in_words"],
        "labels": {"tenant_name": "商铺名称"},
        "footer": "",
        "font_size": 10.5,
        "margins_mm": {"left": 20},
        "signatures": False,
        "cut_lines": False,
    }
    layout = parse_layout(data)
    assert layout.to_json() == data
    assert parse_layout(layout.to_json()) == layout
    assert layout.margins() == (7, 16, 5, 20)
    assert parse_layout(ReceiptLayout().to_json()) == ReceiptLayout()


@pytest.mark.parametrize(
    ("data", "key", "words"),
    [
        ({"colour": "red"}, "colour", 'unknown key "colour"'),
        ({"paper": "letter"}, "paper", "'letter'"),
        ({"parts": []}, "parts", "at least one part"),
        ({"parts": "stub"}, "parts", "must be a list"),
        ({"parts": ["stub", "copy"]}, "parts", 'unknown part "copy"'),
        ({"parts": ["stub", "stub"]}, "parts", '"stub" twice'),
        ({"fields": ["tenant_name", "phone"]}, "fields", 'unknown field "phone"'),
        ({"fields": [1]}, "fields", "list of field names"),
        ({"captions": {"carbon": "第四联"}}, "captions", 'unknown part "carbon"'),
        ({"captions": {"stub": 1}}, "captions", '"captions.stub" must be text'),
        ({"labels": {"phone": "电话"}}, "labels", 'unknown field "phone"'),
        ({"title": 5}, "title", '"title" must be text'),
        ({"footer": "a\nb"}, "footer", "one line"),
        ({"font_size": "9"}, "font_size", "from 6 to 14"),
        ({"font_size": True}, "font_size", "from 6 to 14"),
        ({"font_size": 30}, "font_size", "from 6 to 14"),
        ({"margins_mm": 5}, "margins_mm", "must be an object"),
        ({"margins_mm": {"middle": 5}}, "margins_mm", 'unknown side "middle"'),
        ({"margins_mm": {"top": -1}}, "margins_mm", '"margins_mm.top"'),
        ({"signatures": "yes"}, "signatures", "true or false"),
        ({"cut_lines": 1}, "cut_lines", "true or false"),
    ],
)
def test_bad_layout_names_the_key(data, key, words):
    with pytest.raises(LayoutError) as caught:
        parse_layout(data)
    assert caught.value.key == key
    assert words in str(caught.value)
    assert str(caught.value).startswith("receipt layout: ")


def test_layout_must_be_an_object():
    with pytest.raises(LayoutError, match="must be a JSON object, not a list"):
        parse_layout([])


def test_layout_error_is_a_value_error():
    assert issubclass(LayoutError, ValueError)


def test_money_energy_and_price_print_with_fixed_decimals():
    assert format_money(Decimal("1234.5")) == "¥1,234.50"
    assert format_money(Decimal("-100.00")) == "-¥100.00"
    assert format_money(Decimal("0")) == "¥0.00"
    assert format_energy(Decimal("1481.45")) == "1,481.45 kWh"
    assert format_price(Decimal("0.8333")) == "¥0.8333/kWh"


def test_field_values_leave_out_what_a_receipt_does_not_have():
    values = field_values(receipt())
    assert values["amount"] == "¥100.00"
    assert values["amount_in_words"] == "人民币壹佰元整"
    for absent in ("energy", "unit_price", "balance_after", "purchase_count", "note"):
        assert absent not in values
    values = field_values(
        receipt(
            energy=Decimal("120.00"),
            unit_price=Decimal("0.8333"),
            balance_after=Decimal("356.20"),
            purchase_count=0,
            corrects_receipt="S20261124-0000",
        )
    )
    assert values["energy"] == "120.00 kWh"
    assert values["unit_price"] == "¥0.8333/kWh"
    assert values["balance_after"] == "¥356.20"
    assert values["purchase_count"] == "0"
    assert values["corrects_receipt"] == "S20261124-0000"


@pytest.mark.parametrize(
    "changes",
    [
        {"amount": 100.0},
        {"amount": Decimal("100.005")},
        {"balance_after": 1.5},
        {"energy": Decimal("1.001")},
        {"unit_price": Decimal("0.83333")},
    ],
)
def test_receipt_refuses_float_and_surplus_decimals(changes):
    with pytest.raises(AmountError):
        receipt(**changes)


@pytest.mark.parametrize(
    "changes",
    [
        {"created_at": datetime(2026, 11, 24, 9, 30)},  # noqa: DTZ001 - naive on purpose
        {"printed_at": "2026-11-24"},
        {"purchase_count": True},
        {"purchase_count": "3"},
        {"receipt_number": ""},
    ],
)
def test_receipt_refuses_naive_times_and_wrong_types(changes):
    with pytest.raises(ValueError, match=r"created_at|printed_at|purchase_count|receipt number"):
        receipt(**changes)


def test_receipt_accepts_any_aware_time():
    assert receipt(printed_at=datetime(2026, 11, 24, 1, 30, tzinfo=UTC)).printed_at.hour == 1
