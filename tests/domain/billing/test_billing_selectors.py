from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from openprepaid.domain.billing import selectors, services

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(register, make_meter, cashier):
    account = register(make_meter(unit_code="B1-017"))
    services.open_account(
        acting_user=cashier, account=account, amount="100", payment_method="cash", external_id="o"
    )
    return account


def test_search_by_unit_tenant_meter_phone_and_number(account, cashier, make_operator, other_site):
    for q in ("B1-017", "川味", "T1", "000000000001", "13800138000", "A000001"):
        assert list(selectors.search_accounts(cashier, q)) == [account], q
    assert list(selectors.search_accounts(cashier, "nothing")) == []
    stranger = make_operator("cashier", sites=[other_site])
    assert list(selectors.search_accounts(stranger, "B1-017")) == []


def test_summary_and_statement(account, cashier, report):
    meter = account.meters.get()
    report(meter, remaining="12.30", relay_open=False)
    services.refund(acting_user=cashier, account=account, amount="25", external_id="r")
    summary = selectors.account_summary(account)
    assert summary["balance"] == Decimal("75.00")
    assert summary["level"] == "normal"
    assert summary["meters"][0]["unit"] == "B1-017"
    assert summary["meters"][0]["remaining"] == Decimal("12.30")
    assert [s.kind for s in summary["recent_sales"]] == ["refund", "opening"]
    assert [(e.kind, e.amount, e.balance_after) for e in selectors.statement(account)] == [
        ("opening", Decimal("100.00"), Decimal("100.00")),
        ("refund", Decimal("-25.00"), Decimal("75.00")),
    ]


def test_cash_up_nets_refunds_and_corrections(account, cashier, admin):
    wrong = services.sell(
        acting_user=cashier, account=account, amount="50", payment_method="card", external_id="s1"
    )
    services.correct(acting_user=cashier, sale=wrong, external_id="c1")
    services.sell(
        acting_user=cashier, account=account, amount="20", payment_method="card", external_id="s2"
    )
    services.refund(acting_user=cashier, account=account, amount="10", external_id="r1")
    services.sell(
        acting_user=admin, account=account, amount="999", payment_method="cash", external_id="s3"
    )
    day = selectors.cash_up(cashier, timezone.localdate())
    assert day["rows"] == [
        {"payment_method": "card", "kind": "correction", "count": 1, "total": Decimal("-50.00")},
        {"payment_method": "card", "kind": "sale", "count": 2, "total": Decimal("70.00")},
        {"payment_method": "cash", "kind": "opening", "count": 1, "total": Decimal("100.00")},
        {"payment_method": "cash", "kind": "refund", "count": 1, "total": Decimal("-10.00")},
    ]
    assert day["by_method"] == {"card": Decimal("20.00"), "cash": Decimal("90.00")}
    assert day["net"] == Decimal("110.00")
    assert day["corrections"] == Decimal("-50.00")
    assert day["refunds"] == Decimal("-10.00")
    assert day["count"] == 5
    assert [s.external_id for s in day["receipts"]] == ["o", "s1", "c1", "s2", "r1"]


def test_receipt_data(account, cashier):
    sale = services.sell(
        acting_user=cashier, account=account, amount="100", payment_method="cash", external_id="s"
    )
    data = selectors.receipt_data(sale)
    assert data["site_name"] == "星光购物中心"
    assert data["receipt_number"] == sale.receipt_number
    assert data["tenant_name"] == "川味小馆"
    assert data["unit"] == "B1-017"
    assert data["account_number"] == "A000001"
    assert data["amount"] == Decimal("100.00")
    assert data["amount_in_words"] == "壹佰元整"
    assert data["balance_after"] == Decimal("200.00")
    assert data["cashier"] == "cashier"
    assert data["payment_method"] == "cash"
