"""What a refused change looks like: the service's reason on the form, and nothing written."""

from __future__ import annotations

from django.urls import reverse

from openprepaid.domain.operators.models import Operator
from openprepaid.domain.sites.models import Building, Gateway, Meter, Unit
from openprepaid.domain.tenants.models import Account, Tenant

METER = {
    "protocol": "dlt645_2007",
    "profile": "dlt645-prepaid-1p",
    "phases": "1",
    "ct_ratio": "1",
    "cost_control": "remote",
}


def test_duplicate_meter_address_on_a_gateway(data, admin_client, log):
    counter = log()
    response = admin_client.post(
        reverse("console:meter_create"),
        {**METER, "gateway": data.gateway.pk, "unit": data.spare_unit.pk, "address": "1"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="form-errors"' in html
    assert "Another meter on this gateway has this address." in html or "地址" in html
    assert Meter.objects.filter(address="000000000001").count() == 1
    assert counter.rows() == []


def test_meter_address_must_fit_the_protocol(data, admin_client):
    response = admin_client.post(
        reverse("console:meter_create"),
        {**METER, "gateway": data.gateway.pk, "unit": data.spare_unit.pk, "address": "12ab"},
    )
    assert 'data-testid="field-error-address"' in response.content.decode()
    assert Meter.objects.count() == 2


def test_tcp_gateway_without_port(data, admin_client, log):
    counter = log()
    response = admin_client.post(
        reverse("console:gateway_create"),
        {
            "site": data.site.pk,
            "name": "No port",
            "transport": "modbus_tcp",
            "host": "10.1.1.1",
            "port": "",
            "baud_rate": "9600",
            "parity": "N",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="form-errors"' in html
    assert not Gateway.objects.filter(name="No port").exists()
    assert counter.rows() == []


def test_gateway_form_toggles_tcp_and_serial_fields(data, admin_client):
    html = admin_client.get(reverse("console:gateway_create")).content.decode()
    assert 'data-show-if="transport=transparent_tcp,modbus_tcp"' in html
    assert 'data-show-if="transport=serial"' in html
    assert 'data-field="host"' in html
    assert 'data-field="serial_device"' in html


def test_switching_a_gateway_to_serial_clears_host_and_port(data, admin_client):
    response = admin_client.post(
        reverse("console:gateway_edit", args=[data.gateway.pk]),
        {
            "name": "A-GW1",
            "transport": "serial",
            "host": "10.0.1.1",
            "port": "4001",
            "serial_device": "/dev/ttyS0",
            "baud_rate": "2400",
            "parity": "E",
        },
    )
    assert response.status_code == 302
    data.gateway.refresh_from_db()
    assert (data.gateway.transport, data.gateway.host, data.gateway.port) == ("serial", "", None)
    assert data.gateway.serial_device == "/dev/ttyS0"


def test_retiring_a_gateway_with_meters_is_refused_with_a_message(data, admin_client, log):
    counter = log()
    response = admin_client.post(
        reverse("console:gateway_retire", args=[data.gateway.pk]), follow=True
    )
    html = response.content.decode()
    assert 'class="alert alert-danger' in html
    data.gateway.refresh_from_db()
    assert data.gateway.status == "active"
    assert counter.rows() == []


def test_duplicate_unit_number(data, admin_client):
    response = admin_client.post(
        reverse("console:unit_create"), {"floor": data.floor.pk, "code": "A-101", "kind": "shop"}
    )
    assert response.status_code == 200
    assert 'data-testid="form-errors"' in response.content.decode()
    assert Unit.objects.filter(code="A-101").count() == 1


def test_invalid_mobile_number(data, admin_client):
    response = admin_client.post(
        reverse("console:tenant_create"),
        {"site": data.site.pk, "code": "X1", "name": "X", "kind": "person", "mobile": "12345"},
    )
    assert 'data-testid="field-error-mobile"' in response.content.decode()
    assert not Tenant.objects.filter(code="X1").exists()


def test_duplicate_building_shows_on_the_site_page(data, admin_client):
    response = admin_client.post(
        reverse("console:site_building", args=[data.site.pk]), {"building-name": "A座"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="building-form"' in html
    assert 'data-testid="form-errors"' in html
    assert Building.objects.filter(site=data.site).count() == 1


def test_site_detail_shows_buildings_floors_and_unit_counts(data, admin_client):
    html = admin_client.get(reverse("console:site_detail", args=[data.site.pk])).content.decode()
    assert 'data-building="A座"' in html
    assert 'data-floor="1F"' in html
    assert '<td class="text-end" data-testid="floor-units">2</td>' in html


def test_operator_password_confirmation(admin_client):
    response = admin_client.post(
        reverse("console:operator_create"),
        {
            "username": "newbie",
            "role": "cashier",
            "password": "Another-Strong-Pass-1",
            "password_confirm": "Another-Strong-Pass-2",
        },
    )
    assert 'data-testid="field-error-password_confirm"' in response.content.decode()
    assert not Operator.objects.filter(username="newbie").exists()


def test_weak_password_is_refused_by_the_service(admin_client):
    response = admin_client.post(
        reverse("console:operator_create"),
        {"username": "newbie", "role": "cashier", "password": "123", "password_confirm": "123"},
    )
    assert 'data-testid="field-error-password"' in response.content.decode()
    assert not Operator.objects.filter(username="newbie").exists()


def test_operator_cannot_demote_themselves(admin, admin_client, log):
    counter = log()
    response = admin_client.post(
        reverse("console:operator_edit", args=[admin.pk]),
        {"role": "auditor", "is_active": "on"},
    )
    assert response.status_code == 200
    assert 'class="alert alert-danger' in response.content.decode()
    admin.refresh_from_db()
    assert admin.role == "administrator"
    assert counter.rows() == []


def test_operator_sites_and_active_flag(admin_client, cashier, site, log):
    counter = log()
    response = admin_client.post(
        reverse("console:operator_edit", args=[cashier.pk]),
        {"role": "cashier", "sites": [site.pk]},  # unchecked "active"
    )
    assert response.status_code == 302
    cashier.refresh_from_db()
    assert not cashier.is_active
    assert list(cashier.sites.all()) == [site]
    assert [r.action for r in counter.rows()] == ["operator.update", "operator.set_sites"]


def test_register_account_with_meters(data, admin_client, log):
    url = reverse("console:tenant_account", args=[data.spare_tenant.pk])
    form = admin_client.get(url).content.decode()
    # The meter already in an account is not offered; the free one is.
    assert f'value="{data.spare_meter.pk}"' in form
    assert f'value="{data.meter.pk}"' not in form
    counter = log()
    response = admin_client.post(url, {"number": "", "meters": [data.spare_meter.pk]})
    assert response.status_code == 302
    account = Account.objects.get(tenant=data.spare_tenant)
    assert list(account.meters.all()) == [data.spare_meter]
    assert [r.action for r in counter.rows()] == ["account.register", "account.attach_meters"]
    detail = admin_client.get(response["Location"]).content.decode()
    assert f'data-number="{account.number}"' in detail
    assert data.spare_meter.address in detail


def test_tenant_detail_lists_accounts_and_meters(data, cashier, client_for):
    html = (
        client_for(cashier)
        .get(reverse("console:tenant_detail", args=[data.tenant.pk]))
        .content.decode()
    )
    assert f'data-number="{data.account.number}"' in html
    assert data.meter.address in html
    assert 'data-testid="register-account"' in html  # cashiers manage tenants


def test_auditor_sees_tenant_detail_without_actions(data, auditor, client_for):
    html = (
        client_for(auditor)
        .get(reverse("console:tenant_detail", args=[data.tenant.pk]))
        .content.decode()
    )
    assert data.account.number in html
    assert 'data-testid="register-account"' not in html
    assert 'data-testid="edit-tenant"' not in html
