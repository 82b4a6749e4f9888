"""The site's default opening amount: set on the billing settings page, offered by the sales
desk's open form, and a registered account opened in one click (one POST) with it, in cash."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from tests.web.sales_helpers import form_fields

from openprepaid.domain.billing.models import AccountBalance, BillingSettings, Sale
from openprepaid.domain.billing.selectors_desk import default_opening_amount
from openprepaid.domain.billing.services.settings import update_billing_settings
from openprepaid.domain.errors import ServiceError
from openprepaid.domain.tenants.models import AccountStatus

pytestmark = pytest.mark.django_db


def account_page(client, account) -> str:
    return client.get(reverse("console:sales_account", args=[account.pk])).content.decode()


def test_a_registered_account_opens_with_one_post_of_the_default_amount(
    data, admin, cashier, client_for
):
    update_billing_settings(acting_user=admin, site=data.site, opening_amount="88.80")
    client = client_for(cashier)
    html = account_page(client, data.account)
    assert 'data-testid="action-quick-open"' in html
    assert "¥88.80" in html
    fields = form_fields(html)  # the one-click form: the only one with an external id
    assert (fields["amount"], fields["payment_method"]) == ("88.80", "cash")

    response = client.post(reverse("console:sales_open", args=[data.account.pk]), fields)

    opening = Sale.objects.get(account=data.account)
    assert response.status_code == 302
    assert response["Location"] == reverse("console:sales_sale", args=[opening.pk])
    assert (opening.kind, opening.amount, opening.payment_method, opening.cashier) == (
        "opening",
        Decimal("88.80"),
        "cash",
        cashier,
    )
    data.account.refresh_from_db()
    assert data.account.status == AccountStatus.OPEN
    assert AccountBalance.objects.get(account=data.account).balance == Decimal("88.80")
    # a second click on the same page records nothing new
    client.post(reverse("console:sales_open", args=[data.account.pk]), fields)
    assert Sale.objects.filter(account=data.account).count() == 1
    assert 'data-testid="action-quick-open"' not in account_page(client, data.account)


def test_the_open_form_starts_at_the_sites_default(data, admin, cashier, client_for):
    assert default_opening_amount(data.account) == Decimal("100.00")  # no settings yet
    update_billing_settings(acting_user=admin, site=data.site, opening_amount="0")
    assert default_opening_amount(data.account) == Decimal("0.00")
    update_billing_settings(acting_user=admin, site=data.site, opening_amount="150.00")
    page = client_for(cashier).get(reverse("console:sales_open", args=[data.account.pk]))
    assert 'value="150.00"' in page.content.decode()


def test_the_settings_page_changes_the_opening_amount(data, admin_client):
    url = reverse("console:billingsettings_site", args=[data.site.pk])
    page = admin_client.get(url).content.decode()
    assert 'name="opening_amount"' in page
    values = {
        "alarm_1": "50",
        "alarm_2": "20",
        "overdraft_limit": "0",
        "close_allowed_limit": "0",
        "opening_amount": "200.00",
    }
    assert admin_client.post(url, values).status_code == 302
    assert BillingSettings.objects.get(site=data.site).opening_amount == Decimal("200.00")
    # left empty: the amount stays
    assert admin_client.post(url, {**values, "opening_amount": ""}).status_code == 302
    assert BillingSettings.objects.get(site=data.site).opening_amount == Decimal("200.00")
    refused = admin_client.post(url, {**values, "opening_amount": "-5"})
    assert refused.status_code == 200
    assert 'data-testid="field-error-opening_amount"' in refused.content.decode()


@pytest.mark.parametrize("amount", ["-0.01", "1.234", "abc"])
def test_the_service_refuses_a_bad_opening_amount(data, admin, amount):
    with pytest.raises(ServiceError) as refused:
        update_billing_settings(acting_user=admin, site=data.site, opening_amount=amount)
    assert list(refused.value.field_errors) == ["opening_amount"]
