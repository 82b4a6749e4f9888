from decimal import Decimal

import pytest

from openprepaid.calc.money import AmountError
from openprepaid.calc.words import amount_in_chinese


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("0", "零元整"),
        ("0.05", "伍分"),
        ("0.50", "伍角整"),
        ("10.20", "壹拾元贰角整"),
        ("20", "贰拾元整"),
        ("100", "壹佰元整"),
        ("100.50", "壹佰元伍角整"),
        ("1001", "壹仟零壹元整"),
        ("1005.07", "壹仟零伍元零柒分"),
        ("1010", "壹仟零壹拾元整"),
        ("1680.32", "壹仟陆佰捌拾元叁角贰分"),
        ("10000.01", "壹万元零壹分"),
        ("100010", "壹拾万零壹拾元整"),
        ("101000", "壹拾万壹仟元整"),
        ("107000.53", "壹拾万柒仟元伍角叁分"),
        ("1000000", "壹佰万元整"),
        ("100000000", "壹亿元整"),
        ("100000001", "壹亿零壹元整"),
        ("100001000", "壹亿零壹仟元整"),
        ("-35.50", "负叁拾伍元伍角整"),
    ],
)
def test_amounts_in_capital_numerals(amount, words):
    assert amount_in_chinese(Decimal(amount)) == words


def test_only_exact_money():
    with pytest.raises(AmountError):
        amount_in_chinese(Decimal("1.005"))
    with pytest.raises(AmountError):
        amount_in_chinese(1.5)
