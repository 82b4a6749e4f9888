"""Money amounts in words, as receipts print them: Chinese capital numerals (大写金额).

``amount_in_chinese(Decimal("100"))`` is ``"壹佰元整"``; ``Decimal("1005.07")`` is
``"壹仟零伍元零柒分"``. The rules of the People's Bank for written amounts: capital digits
壹贰叁肆伍陆柒捌玖 with 拾佰仟 and the sections 万 and 亿; one 零 for any run of zeros between
digits (also across sections: 壹拾万零壹拾元); 整 after 元 or 角 when there are no 分; 零 between 元
and 分 when there are no 角. A sum below one yuan starts at 角 or 分 (伍角整); zero is 零元整; a
negative amount is prefixed 负.
"""

from __future__ import annotations

from decimal import Decimal

from openprepaid.calc.money import parse_money

DIGITS = "零壹贰叁肆伍陆柒捌玖"
PLACES = ("仟", "佰", "拾", "")
SECTIONS = ("", "万", "亿", "万亿")


def amount_in_chinese(amount: Decimal) -> str:
    """``amount`` (yuan, at most 2 decimals; never a float) in Chinese capital numerals."""
    amount = parse_money(amount)
    sign = "负" if amount < 0 else ""
    fen_total = int(abs(amount) * 100)
    yuan, rest = divmod(fen_total, 100)
    jiao, fen = divmod(rest, 10)
    if yuan >= 10**16:
        raise ValueError(f"{amount} is too large to write out")
    if not yuan and not rest:
        return "零元整"
    text = f"{_integer(yuan)}元" if yuan else ""
    if jiao:
        text += f"{DIGITS[jiao]}角"
    elif fen and yuan:
        text += "零"
    text += f"{DIGITS[fen]}分" if fen else "整"
    return sign + text


def _integer(number: int) -> str:
    groups = []
    while number:
        number, group = divmod(number, 10_000)
        groups.append(group)
    text = ""
    zero_pending = False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            zero_pending = bool(text)
            continue
        if text and (zero_pending or group < 1000):
            text += "零"
        text += _group(group) + SECTIONS[index]
        zero_pending = False
    return text


def _group(group: int) -> str:
    """A number from 1 to 9999 without leading zeros."""
    text = ""
    zero = False
    for place, digit in zip(PLACES, f"{group:04d}", strict=True):
        d = int(digit)
        if d == 0:
            zero = bool(text)
            continue
        if zero:
            text += "零"
            zero = False
        text += DIGITS[d] + place
    return text
