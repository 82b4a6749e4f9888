"""Roles and site scope in the console: 403 for a capability the role lacks, 404 for another
site's objects, and nothing changes either way."""

from __future__ import annotations

import pytest
from django.urls import reverse

from openprepaid.domain.audit.models import SystemLog
from openprepaid.domain.operators.models import Operator
from openprepaid.domain.sites.models import Building, Floor, Gateway, Meter, Site, Unit
from openprepaid.domain.tenants.models import Account, Tenant


def state() -> dict:
    """Everything the console can change, to compare before and after."""
    return {
        model.__name__: sorted(
            tuple(sorted((k, str(v)) for k, v in row.items())) for row in model.objects.values()
        )
        for model in (Site, Building, Floor, Unit, Gateway, Meter, Tenant, Account, Operator)
    } | {"log": SystemLog.objects.exclude(action="operator.login").count()}


GATEWAY_POST = {
    "site": "",
    "name": "Hacked",
    "transport": "transparent_tcp",
    "host": "10.9.9.9",
    "port": "502",
    "baud_rate": "9600",
    "parity": "N",
}


def write_requests(d, operator) -> list[tuple[str, dict]]:
    """Every console URL that creates, changes, retires or archives something, with data a
    permitted operator could submit; ``operator`` is the one the operator pages change."""
    return [
        (reverse("console:site_create"), {"code": "NEW", "name": "New"}),
        (reverse("console:site_edit", args=[d.site.pk]), {"code": "MALL", "name": "Renamed"}),
        (reverse("console:site_building", args=[d.site.pk]), {"building-name": "C座"}),
        (
            reverse("console:site_floor", args=[d.site.pk]),
            {"floor-building": d.building.pk, "floor-name": "9F"},
        ),
        (
            reverse("console:unit_create"),
            {"floor": d.floor.pk, "code": "A-999", "kind": "shop"},
        ),
        (
            reverse("console:unit_edit", args=[d.unit.pk]),
            {"floor": d.floor.pk, "code": "A-101", "name": "Renamed", "kind": "shop"},
        ),
        (reverse("console:unit_retire", args=[d.spare_unit.pk]), {}),
        (reverse("console:gateway_create"), {**GATEWAY_POST, "site": d.site.pk}),
        (reverse("console:gateway_edit", args=[d.gateway.pk]), GATEWAY_POST),
        (reverse("console:gateway_retire", args=[d.spare_gateway.pk]), {}),
        (
            reverse("console:meter_create"),
            {
                "gateway": d.gateway.pk,
                "unit": d.spare_unit.pk,
                "address": "123",
                "protocol": "dlt645_2007",
                "profile": "dlt645-prepaid-1p",
                "phases": "1",
                "ct_ratio": "1",
                "cost_control": "remote",
            },
        ),
        (
            reverse("console:meter_edit", args=[d.meter.pk]),
            {
                "gateway": d.gateway.pk,
                "unit": d.unit.pk,
                "address": "000000000001",
                "protocol": "dlt645_2007",
                "profile": "dlt645-prepaid-1p",
                "phases": "1",
                "ct_ratio": "40",
                "cost_control": "remote",
            },
        ),
        (reverse("console:meter_retire", args=[d.spare_meter.pk]), {}),
        (
            reverse("console:tenant_create"),
            {"site": d.site.pk, "code": "T9", "name": "New tenant", "kind": "person"},
        ),
        (
            reverse("console:tenant_edit", args=[d.tenant.pk]),
            {"code": d.tenant.code, "name": "Renamed", "kind": "company"},
        ),
        (reverse("console:tenant_archive", args=[d.spare_tenant.pk]), {}),
        (reverse("console:tenant_account", args=[d.tenant.pk]), {"number": "", "meters": []}),
        (
            reverse("console:operator_create"),
            {
                "username": "mallory",
                "role": "administrator",
                "password": "Another-Strong-Pass-1",
                "password_confirm": "Another-Strong-Pass-1",
            },
        ),
        (
            reverse("console:operator_edit", args=[operator.pk]),
            {"role": "operations", "is_active": "on"},
        ),
        (
            reverse("console:operator_password", args=[operator.pk]),
            {"password": "Another-Strong-Pass-1", "password_confirm": "Another-Strong-Pass-1"},
        ),
        (reverse("console:operator_unlock", args=[operator.pk]), {}),
    ]


WRITE_COUNT = 21


def test_auditor_is_refused_every_write(data, admin, auditor, client_for):
    client = client_for(auditor)
    requests = write_requests(data, admin)
    assert len(requests) == WRITE_COUNT
    before = state()
    for url, payload in requests:
        assert client.get(url).status_code in (403, 405), url
        assert client.post(url, payload).status_code == 403, url
    assert state() == before


@pytest.mark.parametrize("index", range(WRITE_COUNT))
def test_every_write_url_works_for_an_administrator(index, data, admin, cashier, client_for):
    """The same requests the auditor is refused do change something for an administrator, so
    the auditor test above cannot pass because the requests are broken."""
    url, payload = write_requests(data, cashier)[index]
    before = state()
    response = client_for(admin).post(url, payload)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert state() != before


def test_cashier_cannot_touch_gateways(data, cashier, client_for):
    client = client_for(cashier)
    gateway = data.gateway
    urls = [
        reverse("console:gateway_create"),
        reverse("console:gateway_edit", args=[gateway.pk]),
        reverse("console:gateway_retire", args=[gateway.pk]),
    ]
    before = state()
    for url in urls:
        assert client.get(url).status_code == 403
        assert client.post(url, {**GATEWAY_POST, "site": data.site.pk}).status_code == 403
    gateway.refresh_from_db()
    assert gateway.name == "A-GW1"
    assert gateway.transport == "transparent_tcp"
    assert gateway.status == "active"
    assert state() == before
    # …and the list shows no way to change them.
    html = client.get(reverse("console:gateway_list")).content.decode()
    assert 'data-testid="create-button"' not in html
    assert reverse("console:gateway_edit", args=[gateway.pk]) not in html


def test_operations_cannot_manage_tenants_or_operators(data, operations, client_for):
    client = client_for(operations)
    assert client.get(reverse("console:tenant_create")).status_code == 403
    assert client.get(reverse("console:tenant_edit", args=[data.tenant.pk])).status_code == 403
    assert client.get(reverse("console:operator_list")).status_code == 403
    assert client.get(reverse("console:systemlog_list")).status_code == 403
    assert client.get(reverse("console:tenant_list")).status_code == 200  # reading is fine


# ------------------------------------------------------------------------- site scope


@pytest.fixture
def limited(make_operator, site, client_for):
    """An administrator limited to site A (MALL)."""
    return client_for(make_operator("administrator", sites=[site], username="limited"))


def test_other_sites_objects_are_404(data, other, limited):
    urls = [
        reverse("console:site_detail", args=[other.site.pk]),
        reverse("console:site_edit", args=[other.site.pk]),
        reverse("console:unit_edit", args=[other.unit.pk]),
        reverse("console:unit_retire", args=[other.spare_unit.pk]),
        reverse("console:gateway_edit", args=[other.gateway.pk]),
        reverse("console:gateway_retire", args=[other.gateway.pk]),
        reverse("console:meter_detail", args=[other.meter.pk]),
        reverse("console:meter_edit", args=[other.meter.pk]),
        reverse("console:meter_retire", args=[other.meter.pk]),
        reverse("console:tenant_detail", args=[other.tenant.pk]),
        reverse("console:tenant_edit", args=[other.tenant.pk]),
        reverse("console:tenant_archive", args=[other.tenant.pk]),
        reverse("console:tenant_account", args=[other.tenant.pk]),
        reverse(
            "console:systemlog_detail",
            args=[SystemLog.objects.filter(site=other.site).first().pk],
        ),
    ]
    before = state()
    for url in urls:
        assert limited.get(url).status_code == 404, url
        # Pages that only show something refuse a POST before looking anything up.
        assert limited.post(url, {"name": "x"}).status_code in (404, 405), url
    for url in urls:
        if url.endswith(("/edit/", "/retire/", "/archive/", "/accounts/new/")):
            assert limited.post(url, {"name": "x"}).status_code == 404, url
    assert state() == before
    # The same pages of its own site open.
    assert limited.get(reverse("console:meter_detail", args=[data.meter.pk])).status_code == 200
    assert limited.get(reverse("console:unit_edit", args=[data.unit.pk])).status_code == 200


@pytest.mark.parametrize(
    ("name", "own", "foreign"),
    [
        ("console:site_list", "星光购物中心", "Other Tower"),
        ("console:unit_list", "A-101", "B-101"),
        ("console:gateway_list", "A-GW1", "B-GW1"),
        ("console:meter_list", "000000000001", "000000000002"),
        ("console:tenant_list", "AT01", "BT01"),
        ("console:board", "000000000001", "000000000002"),
        ("console:home", "星光购物中心", "Other Tower"),
    ],
)
def test_lists_never_show_other_sites(name, own, foreign, data, other, limited):
    url = reverse(name)
    queries = [""] if name == "console:home" else ["", f"?site={other.site.pk}", f"?q={foreign}"]
    for query in queries:
        # The htmx answer is the table alone (the full page echoes the search box).
        html = limited.get(url + query, headers={"HX-Request": "true"}).content.decode()
        assert foreign not in html, query
    assert own in limited.get(url).content.decode()


def test_system_log_of_a_limited_operator(data, other, limited, admin_client):
    html = limited.get(reverse("console:systemlog_list") + "?q=GW1").content.decode()
    assert "A-GW1" in html
    assert "B-GW1" not in html
    # Rows that belong to no site (logins, operator changes) are not shown to a limited operator…
    html = limited.get(reverse("console:systemlog_list")).content.decode()
    assert 'title="site.create"' in html
    assert 'title="operator.create"' not in html
    # …but are to an operator with every site.
    html = admin_client.get(reverse("console:systemlog_list")).content.decode()
    assert 'title="operator.create"' in html


def test_limited_administrator_cannot_grant_every_site(site, other_site, limited):
    response = limited.post(
        reverse("console:operator_create"),
        {
            "username": "wide",
            "role": "cashier",
            "password": "Another-Strong-Pass-1",
            "password_confirm": "Another-Strong-Pass-1",
        },
    )
    assert response.status_code == 200
    assert 'data-testid="field-error-sites"' in response.content.decode()
    assert not Operator.objects.filter(username="wide").exists()
    # Another site is not even offered.
    form = limited.get(reverse("console:operator_create")).content.decode()
    assert "Other Tower" not in form
    assert site.name in form


def test_refusals_use_the_console_pages(data, other, cashier, limited, client_for):
    forbidden = client_for(cashier).get(reverse("console:gateway_create"))
    assert forbidden.status_code == 403
    assert 'data-testid="forbidden"' in forbidden.content.decode()
    assert 'data-testid="sidebar"' in forbidden.content.decode()
    missing = limited.get(reverse("console:meter_detail", args=[other.meter.pk]))
    assert missing.status_code == 404
    assert 'data-testid="not-found"' in missing.content.decode()
