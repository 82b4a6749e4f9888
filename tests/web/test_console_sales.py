"""The sales desk (售电) in the console: search, the account page, selling by amount and by energy,
idempotent forms, refusals of nonsense input, the success page and the receipt PDF."""

from __future__ import annotations

import re
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.urls import reverse
from tests.web import sales_helpers
from tests.web.sales_helpers import external_id_of, open_account, post_form

from openprepaid.domain.billing.models import AccountBalance, LedgerEntry, Sale
from openprepaid.domain.billing.selectors import statement
from openprepaid.domain.tenants.models import AccountStatus

HX = {"HX-Request": "true"}
flat_tariff = sales_helpers.flat_tariff  # the fixture, used by name


def desk(query: str, *extra: str) -> str:
    return reverse("console:sales_desk") + "?" + "&".join([f"q={query}", *extra])


def account_url(account) -> str:
    return reverse("console:sales_account", args=[account.pk])


def sell_url(account) -> str:
    return reverse("console:sales_sell", args=[account.pk])


# ------------------------------------------------------------------------------ search


@pytest.mark.parametrize(
    "query",
    ["A-101", "星辰钟表行", "AT01", "000000000001", "13800138000", "ACC"],
    ids=["unit", "tenant-name", "tenant-code", "meter-address", "mobile", "account-number"],
)
def test_search_finds_the_account_by_each_key(query, data, cashier, client_for):
    number = data.account.number
    if query == "ACC":
        query = number
    html = client_for(cashier).get(desk(query), headers=HX).content.decode()
    assert f'data-account="{number}"' in html
    assert "Spare tenant" not in html


def test_search_without_a_match_and_the_empty_page(data, cashier, client_for):
    client = client_for(cashier)
    html = client.get(desk("no-such-thing"), headers=HX).content.decode()
    assert 'data-testid="no-results"' in html
    page = client.get(reverse("console:sales_desk")).content.decode()
    assert 'data-testid="desk-q"' in page
    assert "autofocus" in page.split('data-testid="desk-q"')[0].rsplit("<input", 1)[1]


def test_enter_on_a_single_match_opens_the_account(data, cashier, client_for):
    response = client_for(cashier).get(desk("A-101", "go=1"))
    assert response.status_code == 302
    assert response["Location"] == account_url(data.account)


def test_search_stays_in_the_operators_sites(data, other, make_operator, client_for):
    cashier = make_operator("cashier", sites=[data.site])
    html = client_for(cashier).get(desk("101"), headers=HX).content.decode()
    assert data.tenant.code in html
    assert other.tenant.code not in html
    response = client_for(cashier).get(account_url(other.account))
    assert response.status_code == 404


# ---------------------------------------------------------------------------- account


def test_account_page_of_a_registered_account_offers_to_open_it(data, cashier, client_for):
    html = client_for(cashier).get(account_url(data.account)).content.decode()
    assert 'data-testid="action-open"' in html
    assert 'data-testid="action-sell"' not in html
    assert 'data-testid="registered-hint"' in html
    assert 'data-address="000000000001"' in html
    assert 'data-balance="0.00"' in html or 'data-balance="0"' in html


def test_open_with_one_click_and_sell_by_amount(data, cashier, client_for):
    client = client_for(cashier)
    page = client.get(reverse("console:sales_open", args=[data.account.pk])).content.decode()
    assert 'value="100.00"' in page  # the opening amount starts at the default
    response = post_form(
        client, reverse("console:sales_open", args=[data.account.pk]), page, payment_method="cash"
    )
    assert response.status_code == 302
    opening = Sale.objects.get(account=data.account)
    assert opening.kind == "opening"
    assert opening.amount == Decimal("100.00")
    data.account.refresh_from_db()
    assert data.account.status == AccountStatus.OPEN

    page = client.get(sell_url(data.account)).content.decode()
    response = post_form(client, sell_url(data.account), page, by="amount", amount="250.50")
    sale = Sale.objects.get(account=data.account, kind="sale")
    assert response["Location"] == reverse("console:sales_sale", args=[sale.pk])
    assert sale.amount == Decimal("250.50")
    assert sale.payment_method == "cash"
    assert sale.cashier == cashier
    entries = list(statement(data.account))
    assert [e.amount for e in entries] == [Decimal("100.00"), Decimal("250.50")]
    assert [e.balance_after for e in entries] == [Decimal("100.00"), Decimal("350.50")]
    assert AccountBalance.objects.get(account=data.account).balance == Decimal("350.50")

    done = client.get(response["Location"]).content.decode()
    assert f'data-testid="receipt-number">{sale.receipt_number}<' in done
    assert "¥ 250.50" in done
    assert "贰佰伍拾元伍角" in done
    assert reverse("console:sales_receipt", args=[sale.pk]) in done
    account_page = client.get(account_url(data.account)).content.decode()
    assert 'data-balance="350.50"' in account_page
    assert f'data-receipt="{sale.receipt_number}"' in account_page


def test_the_same_form_sent_twice_records_one_sale(data, cashier, client_for):
    open_account(data.account, cashier)
    client = client_for(cashier)
    page = client.get(sell_url(data.account)).content.decode()
    first = post_form(client, sell_url(data.account), page, amount="80.00")
    second = post_form(client, sell_url(data.account), page, amount="80.00")
    assert first["Location"] == second["Location"]
    assert Sale.objects.filter(account=data.account, kind="sale").count() == 1
    assert AccountBalance.objects.get(account=data.account).balance == Decimal("180.00")
    followed = client.get(second["Location"]).content.decode()
    assert "already recorded" in followed or "已经记录" in followed or "已记录" in followed
    # a fresh form is a new sale
    fresh = client.get(sell_url(data.account)).content.decode()
    assert external_id_of(fresh) != external_id_of(page)
    post_form(client, sell_url(data.account), fresh, amount="80.00")
    assert Sale.objects.filter(account=data.account, kind="sale").count() == 2


@pytest.mark.parametrize(
    "amount",
    ["-10.00", "0", "12.345", "abc", "1e3", "99999999999999999999", "NaN", "1000000.00", ""],
)
def test_nonsense_amounts_are_form_errors_and_nothing_is_written(amount, data, cashier, client_for):
    open_account(data.account, cashier)
    before = LedgerEntry.objects.count()
    client = client_for(cashier)
    page = client.get(sell_url(data.account)).content.decode()
    response = post_form(client, sell_url(data.account), page, by="amount", amount=amount)
    assert response.status_code == 200
    assert 'data-testid="field-error-amount"' in response.content.decode()
    assert Sale.objects.filter(kind="sale").count() == 0
    assert LedgerEntry.objects.count() == before


@pytest.mark.parametrize("energy", ["-5", "1.234", "kwh", "10000000"])
def test_nonsense_energy_is_a_form_error(energy, data, cashier, client_for):
    open_account(data.account, cashier)
    client = client_for(cashier)
    page = client.get(sell_url(data.account)).content.decode()
    response = post_form(client, sell_url(data.account), page, by="energy", energy=energy)
    assert 'data-testid="field-error-energy"' in response.content.decode()
    assert Sale.objects.filter(kind="sale").count() == 0


def test_a_damaged_form_id_and_an_unknown_payment_method_are_refused(data, cashier, client_for):
    open_account(data.account, cashier)
    client = client_for(cashier)
    page = client.get(sell_url(data.account)).content.decode()
    response = post_form(client, sell_url(data.account), page, external_id="not-hex", amount="5")
    assert "reload the page" in response.content.decode() or "重新加载" in response.content.decode()
    response = post_form(client, sell_url(data.account), page, payment_method="gold", amount="5")
    assert response.status_code == 200
    assert Sale.objects.filter(kind="sale").count() == 0


def test_sell_by_energy_shows_the_amount_before_recording(data, cashier, client_for, flat_tariff):
    open_account(data.account, cashier)
    client = client_for(cashier)
    page = client.get(sell_url(data.account)).content.decode()
    preview = post_form(client, sell_url(data.account), page, by="energy", energy="150.00")
    html = preview.content.decode()
    assert preview.status_code == 200
    assert 'data-testid="energy-quote"' in html
    assert 'data-amount="127.50"' in html  # 150.00 kWh × 0.8500
    assert Sale.objects.filter(kind="sale").count() == 0
    confirmed = post_form(client, sell_url(data.account), html)
    assert confirmed.status_code == 302
    sale = Sale.objects.get(kind="sale")
    assert (sale.energy, sale.unit_price, sale.amount) == (
        Decimal("150.00"),
        Decimal("0.8500"),
        Decimal("127.50"),
    )
    assert AccountBalance.objects.get(account=data.account).balance == Decimal("227.50")


def test_a_changed_energy_is_quoted_again(data, cashier, client_for, flat_tariff):
    open_account(data.account, cashier)
    client = client_for(cashier)
    page = client.get(sell_url(data.account)).content.decode()
    html = post_form(client, sell_url(data.account), page, by="energy", energy="10.00").content
    again = post_form(client, sell_url(data.account), html.decode(), energy="20.00")
    assert again.status_code == 200
    assert 'data-amount="17.00"' in again.content.decode()
    assert Sale.objects.filter(kind="sale").count() == 0


def test_sell_by_energy_without_a_tariff_says_so(data, cashier, client_for):
    open_account(data.account, cashier)
    client = client_for(cashier)
    page = client.get(sell_url(data.account)).content.decode()
    response = post_form(client, sell_url(data.account), page, by="energy", energy="10.00")
    assert 'data-testid="field-error-energy"' in response.content.decode()
    assert Sale.objects.filter(kind="sale").count() == 0


# ------------------------------------------------------------------------------ receipt


def test_receipt_pdf_carries_the_tenant_and_the_receipt_number(data, cashier, client_for):
    sale = open_account(data.account, cashier, amount="88.80")
    response = client_for(cashier).get(reverse("console:sales_receipt", args=[sale.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline")
    pdf = response.content
    assert pdf.startswith(b"%PDF")
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        pytest.fail("pdftotext (poppler-utils) is needed to read the receipt")
    text = subprocess.run(
        [pdftotext, "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    compact = re.sub(r"\s+", "", text)
    assert "星辰钟表行" in compact
    assert sale.receipt_number in compact


def test_receipt_of_another_site_is_not_found(data, other, make_operator, client_for, admin):
    sale = open_account(other.account, admin)
    cashier = make_operator("cashier", sites=[data.site])
    response = client_for(cashier).get(reverse("console:sales_receipt", args=[sale.pk]))
    assert response.status_code == 404
