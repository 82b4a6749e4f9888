"""The sales desk's other forms — refund, correct, close, swap — the cash-up of a day, and who
may use the desk."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from tests.web.sales_helpers import open_account, post_form

from openprepaid.domain.billing import services
from openprepaid.domain.billing.models import AccountBalance, LedgerEntry, Sale
from openprepaid.domain.billing.selectors import statement
from openprepaid.domain.sites.models import Lifecycle
from openprepaid.domain.tenants.models import AccountMeter, AccountStatus


def url(name: str, obj) -> str:
    return reverse(f"console:sales_{name}", args=[obj.pk])


def sell(account, user, amount: str, method: str = "cash") -> Sale:
    return services.sell(
        acting_user=user,
        account=account,
        payment_method=method,
        external_id=uuid.uuid4().hex,
        amount=amount,
    )


def balance(account) -> Decimal:
    return AccountBalance.objects.get(account=account).balance


@pytest.fixture
def opened(data, cashier):
    """The data's account, open with 100.00 and a sale of 50.00."""
    open_account(data.account, cashier)
    sell(data.account, cashier, "50.00")
    return data.account


# ------------------------------------------------------------------------------ refund


def test_refund_through_the_form(opened, cashier, client_for):
    client = client_for(cashier)
    page = client.get(url("refund", opened)).content.decode()
    response = post_form(client, url("refund", opened), page, amount="30.00", note="搬迁")
    assert response.status_code == 302
    refund = Sale.objects.get(kind="refund")
    assert refund.amount == Decimal("-30.00")
    assert balance(opened) == Decimal("120.00")
    assert [e.amount for e in statement(opened)][-1] == Decimal("-30.00")


def test_refund_needs_a_reason_and_cannot_exceed_the_balance(opened, cashier, client_for):
    client = client_for(cashier)
    page = client.get(url("refund", opened)).content.decode()
    response = post_form(client, url("refund", opened), page, amount="30.00", note="")
    assert 'data-testid="field-error-note"' in response.content.decode()
    response = post_form(client, url("refund", opened), page, amount="500.00", note="x")
    assert response.status_code == 200
    assert "form-errors" in response.content.decode() or "field-error" in response.content.decode()
    assert not Sale.objects.filter(kind="refund").exists()
    assert balance(opened) == Decimal("150.00")


# ----------------------------------------------------------------------------- correct


def test_correct_a_sale_after_confirming_with_a_reason(opened, cashier, client_for):
    client = client_for(cashier)
    sale = Sale.objects.get(kind="sale")
    page = client.get(url("correct", sale)).content.decode()
    assert 'data-testid="correct-sale"' in page
    # without the confirmation nothing happens
    response = post_form(client, url("correct", sale), page, note="输错金额")
    assert 'data-testid="field-error-confirm"' in response.content.decode()
    assert not Sale.objects.filter(kind="correction").exists()
    response = post_form(client, url("correct", sale), page, note="输错金额", confirm="on")
    correction = Sale.objects.get(kind="correction")
    assert response["Location"] == url("sale", correction)
    assert correction.corrects == sale
    assert correction.amount == Decimal("-50.00")
    reversing = LedgerEntry.objects.get(sale=correction)
    assert reversing.amount == Decimal("-50.00")
    assert reversing.reverses.sale == sale
    assert balance(opened) == Decimal("100.00")
    # the same form again: still one correction
    again = post_form(client, url("correct", sale), page, note="输错金额", confirm="on")
    assert again["Location"] == url("sale", correction)
    assert Sale.objects.filter(kind="correction").count() == 1
    # a corrected sale offers no second correction
    html = client.get(url("sale", sale)).content.decode()
    assert 'data-testid="correct"' not in html


# ------------------------------------------------------------------------------- close


def test_close_shows_the_settlement_and_pays_back_the_balance(opened, data, cashier, client_for):
    client = client_for(cashier)
    page = client.get(url("close", opened)).content.decode()
    assert 'data-testid="settlement-refund">¥ 150.00<' in page
    response = post_form(client, url("close", opened), page, note="退租", confirm="on")
    closing = Sale.objects.get(kind="closing")
    assert response["Location"] == url("sale", closing)
    assert closing.amount == Decimal("-150.00")
    assert balance(opened) == Decimal("0.00")
    opened.refresh_from_db()
    assert opened.status == AccountStatus.CLOSED
    html = client.get(url("account", opened)).content.decode()
    assert 'data-testid="action-sell"' not in html


# -------------------------------------------------------------------------------- swap


def test_swap_a_meter_through_the_form(opened, data, admin, client_for):
    client = client_for(admin)
    page = client.get(url("swap", opened)).content.decode()
    assert data.spare_meter.address in page
    response = post_form(
        client,
        url("swap", opened),
        page,
        new_meter=str(data.spare_meter.pk),
        final_energy="1234.50",
        note="表计损坏",
    )
    assert response.status_code == 302
    held = AccountMeter.objects.get(account=opened, detached_at__isnull=True)
    assert held.meter == data.spare_meter
    data.meter.refresh_from_db()
    assert data.meter.lifecycle == Lifecycle.RETIRED
    assert balance(opened) == Decimal("150.00")


def test_a_cashier_may_not_swap_meters(opened, cashier, client_for):
    assert client_for(cashier).get(url("swap", opened)).status_code == 403


# ------------------------------------------------------------------------------ cash-up


def test_cash_up_sums_the_cashiers_day(data, cashier, make_operator, client_for):
    other_cashier = make_operator("cashier")
    open_account(data.account, cashier, amount="100.00")
    sold = sell(data.account, cashier, "50.00", method="card")
    sell(data.account, cashier, "20.00")
    services.correct(acting_user=cashier, sale=sold, external_id=uuid.uuid4().hex, note="错")
    sell(data.account, other_cashier, "999.00")
    html = client_for(cashier).get(reverse("console:sales_cashup")).content.decode()
    # cash: 100.00 + 20.00; card: 50.00 − 50.00 (corrected)
    assert 'data-testid="cashup-net">¥ 120.00<' in html
    assert 'data-testid="cashup-cash">¥ 120.00<' in html
    assert 'data-testid="cashup-count">4<' in html
    method = html.split('data-method="card"')[1].split("</tr>")[0]
    assert ">2<" in method
    assert ">0.00<" in method
    kinds = html.split('data-testid="cashup-kinds"')[1]
    assert 'data-kind="correction"' in kinds
    assert "-50.00" in kinds.split('data-kind="correction"')[1].split("</tr>")[0]
    assert html.count('data-testid="cashup-receipt"') == 4
    assert "999.00" not in html
    # another day is empty; a cashier cannot pick someone else
    yesterday = (timezone.localdate() - timezone.timedelta(days=1)).isoformat()
    html = client_for(cashier).get(reverse("console:sales_cashup") + f"?day={yesterday}")
    assert 'data-testid="cashup-count">0<' in html.content.decode()
    html = (
        client_for(cashier)
        .get(reverse("console:sales_cashup") + f"?cashier={other_cashier.pk}")
        .content.decode()
    )
    assert 'data-testid="cashup-net">¥ 120.00<' in html


def test_an_administrator_chooses_the_cashier(data, cashier, admin, client_for):
    open_account(data.account, cashier, amount="66.60")
    html = (
        client_for(admin)
        .get(reverse("console:sales_cashup") + f"?cashier={cashier.pk}")
        .content.decode()
    )
    assert 'name="cashier"' in html
    assert 'data-testid="cashup-net">¥ 66.60<' in html


# ---------------------------------------------------------------------------- permissions


def test_operations_may_not_use_the_sales_desk(opened, operations, client_for):
    client = client_for(operations)
    assert client.get(reverse("console:sales_desk")).status_code == 403
    assert client.get(url("account", opened)).status_code == 403
    assert client.get(url("sell", opened)).status_code == 403
    response = client.post(url("sell", opened), {"amount": "10.00", "by": "amount"})
    assert response.status_code == 403
    assert Sale.objects.filter(account=opened).count() == 2
    html = client.get(reverse("console:home")).content.decode()
    assert 'data-testid="nav-sales"' not in html


def test_the_auditor_reads_without_the_actions(opened, auditor, client_for):
    client = client_for(auditor)
    html = client.get(url("account", opened)).content.decode()
    assert 'data-testid="account-balance"' in html
    assert 'data-testid="action-sell"' not in html
    assert 'data-testid="sale-correct"' not in html
    assert client.get(url("sell", opened)).status_code == 403
    sale = Sale.objects.get(kind="sale")
    assert client.get(url("correct", sale)).status_code == 403
    assert client.get(url("receipt", sale)).status_code == 200
    assert 'href="/sales/"' in client.get(reverse("console:home")).content.decode()


def test_the_cashier_sees_the_desk_in_the_navigation(cashier, client_for):
    html = client_for(cashier).get(reverse("console:home")).content.decode()
    assert 'data-testid="nav-sales"' in html
    assert 'href="/sales/"' in html
