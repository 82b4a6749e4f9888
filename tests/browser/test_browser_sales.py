"""At the sales desk in a real browser: a cashier finds a unit, sells 100.00 yuan in cash, gets
the receipt number, opens the receipt PDF and sees the new balance on the account."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

import pytest
from tests.conftest import PASSWORD
from tests.web.conftest import build_site

from openprepaid.domain.billing import services
from openprepaid.domain.billing.models import AccountBalance, Sale


@pytest.fixture
def desk(site, cashier):
    data = build_site(site)
    services.open_account(
        acting_user=cashier,
        account=data.account,
        amount="20.00",
        payment_method="cash",
        external_id=uuid.uuid4().hex,
    )
    return data


def log_in(page, username: str) -> None:
    page.goto("/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-testid=login-submit]")
    page.wait_for_selector("[data-testid=sidebar]")


def test_a_cashier_sells_100_yuan_and_prints_the_receipt(page, desk, cashier):
    log_in(page, "cashier")
    page.click("[data-testid=nav-sales]")
    search = page.locator("[data-testid=desk-q]")
    assert search.evaluate("el => el === document.activeElement")  # autofocus: type at once
    search.type("A-101")
    result = page.locator(f"[data-testid=result][data-account='{desk.account.number}']")
    result.wait_for()  # live results while typing
    search.press("Enter")  # one match: straight to the account
    page.wait_for_selector("[data-testid=account-balance]")
    assert page.get_attribute("[data-testid=account-balance]", "data-balance") == "20.00"

    page.click("[data-testid=action-sell]")
    page.fill("input[name=amount]", "100.00")
    page.click("[data-testid=pay-cash]")
    page.click("[data-testid=submit]")
    page.wait_for_selector("[data-testid=sale-done]")
    sale = Sale.objects.get(kind="sale")
    assert page.inner_text("[data-testid=receipt-number]").strip() == sale.receipt_number
    assert re.search(r"壹佰元整", page.inner_text("[data-testid=amount-in-words]"))

    with page.context.expect_page() as opened:
        page.click("[data-testid=print-receipt]")
    receipt_tab = opened.value
    pdf = page.request.get(page.get_attribute("[data-testid=print-receipt]", "href"))
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")
    receipt_tab.close()

    page.click("[data-testid=back-to-account]")
    page.wait_for_selector("[data-testid=account-balance]")
    assert page.get_attribute("[data-testid=account-balance]", "data-balance") == "120.00"
    assert page.locator(f"[data-testid=sale-row][data-receipt='{sale.receipt_number}']").count()
    assert AccountBalance.objects.get(account=desk.account).balance == Decimal("120.00")
