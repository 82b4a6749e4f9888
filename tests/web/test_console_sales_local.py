"""The sales desk with local cost control (本地费控): an account holding two local meters asks
which meter a sale goes to, and the sale's delivery to the meter is followed live (the sales
partial polls while a sale is pending and stops once the headend confirmed it)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from tests.web.sales_helpers import open_account, post_form

from openprepaid.domain.billing.models import Delivery, Sale
from openprepaid.domain.billing.services import command_finished
from openprepaid.domain.metering.models import Command, MeterStatus
from openprepaid.domain.sites import services as site_services
from openprepaid.domain.tenants import services as tenant_services
from openprepaid.headend.model import CommandState

HX = {"HX-Request": "true"}


@pytest.fixture
def two_local(data):
    """A tenant's account holding two local meters that have reported their balances."""
    meters = []
    for n, address in ((1, "000000000021"), (2, "000000000022")):
        unit = site_services.create_unit(
            acting_user=None, floor=data.floor, code=f"L-{n}", kind="shop"
        )
        meter = site_services.create_meter(
            acting_user=None,
            gateway=data.gateway,
            unit=unit,
            address=address,
            protocol="dlt645_2007",
            profile="dlt645-prepaid-1p",
            cost_control="local",
        )
        MeterStatus.objects.create(
            meter=meter,
            last_seen_at=timezone.now(),
            remaining=Decimal("0.00"),
            overdraft=Decimal("0.00"),
            purchase_count=0,
            relay_open=False,
        )
        meters.append(meter)
    account = tenant_services.register_account(
        acting_user=None, tenant=data.spare_tenant, meters=meters
    )
    return account, meters


def confirm(sale: Sale) -> None:
    """Play the headend: the command that carries the sale's money is confirmed."""
    with transaction.atomic():
        Command.objects.filter(pk=sale.command_id).update(
            state=CommandState.CONFIRMED, finished_at=timezone.now()
        )
        command_finished(sale.command_id)


def test_a_sale_to_an_account_of_two_local_meters_names_the_meter(two_local, cashier, client_for):
    account, meters = two_local
    open_account(account, cashier, amount="10.00", meter=meters[0])
    client = client_for(cashier)
    url = reverse("console:sales_sell", args=[account.pk])
    page = client.get(url).content.decode()
    assert '<select name="meter"' in page
    response = post_form(client, url, page, meter="", amount="60.00")
    assert 'data-testid="field-error-meter"' in response.content.decode()
    response = post_form(client, url, page, meter=str(meters[1].pk), amount="60.00")
    assert response.status_code == 302
    sale = Sale.objects.get(kind="sale")
    assert sale.meter == meters[1]
    assert sale.delivery == Delivery.PENDING
    assert sale.command.params["amount"] == "60.00"


def test_delivery_is_followed_until_the_meter_confirms(two_local, cashier, client_for):
    account, meters = two_local
    opening = open_account(account, cashier, amount="50.00", meter=meters[0])
    client = client_for(cashier)
    history = reverse("console:sales_history", args=[account.pk])
    html = client.get(reverse("console:sales_account", args=[account.pk])).content.decode()
    assert 'data-polling="on"' in html
    assert f'hx-get="{history}"' in html
    assert 'data-value="pending"' in html
    sale_page = client.get(reverse("console:sales_sale", args=[opening.pk])).content.decode()
    assert 'data-testid="sale-delivery" data-delivery="pending"' in sale_page

    confirm(opening)
    partial = client.get(history, headers=HX).content.decode()
    assert partial.lstrip().startswith('<div id="account-sales"')
    assert 'data-polling="off"' in partial
    assert "hx-get" not in partial
    assert 'data-value="delivered"' in partial
    delivery = client.get(reverse("console:sales_sale", args=[opening.pk]), headers=HX)
    assert 'data-delivery="delivered"' in delivery.content.decode()
    assert "<html" not in delivery.content.decode()
