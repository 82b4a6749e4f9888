"""The overview's counts, and the navigation each role gets."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from openprepaid.domain.sites import services as site_services


def stat(html: str, site_code: str, test_id: str) -> str:
    section = html.split(f'data-site="{site_code}"')[1].split("</section>")[0]
    return re.search(rf'data-testid="{test_id}">(\d+)<', section).group(1)


def test_overview_counts(data, other, admin_client):
    site_services.retire_meter(data.spare_meter, acting_user=None)
    html = admin_client.get(reverse("console:home")).content.decode()
    expected = {
        "count-buildings": "1",
        "count-floors": "1",
        "count-units": "2",
        "count-gateways": "2",
        "count-meters": "1",  # in service
        "count-tenants": "2",
        "gateways-transparent_tcp": "1",
        "gateways-modbus_tcp": "0",
        "gateways-serial": "1",
        "meters-dlt645_2007": "1",
        "meters-modbus_rtu": "0",
        "meters-not_opened": "1",
        "meters-opened": "0",
        "meters-retired": "1",
        "accounts-registered": "1",
        "accounts-open": "0",
    }
    assert {k: stat(html, "MALL", k) for k in expected} == expected
    assert stat(html, "TOWER", "count-meters") == "2"


def test_overview_costs_a_fixed_number_of_queries(
    data, other, make_site, admin_client, django_assert_max_num_queries
):
    for n in range(5):
        make_site(f"S{n}")
    with django_assert_max_num_queries(20):
        admin_client.get(reverse("console:home"))


NAV = {
    "administrator": {
        "home",
        "board",
        "sales",
        "tenants",
        "report-system-log",
        "report-export",
        "sites",
        "units",
        "gateways",
        "meters",
        "configio",
        "operators",
        "system-log",
        "batches",
    },
    "cashier": {
        "home",
        "board",
        "sales",
        "tenants",
        "report-export",
        "sites",
        "units",
        "gateways",
        "meters",
    },
    "operations": {
        "home",
        "board",
        "batches",
        "tenants",
        "report-export",
        "sites",
        "units",
        "gateways",
        "meters",
        "configio",
    },
    "auditor": {
        "home",
        "board",
        "sales",
        "tenants",
        "report-system-log",
        "report-export",
        "sites",
        "units",
        "gateways",
        "meters",
        "system-log",
    },
}


# Every role reads the billing configuration (changing it needs CONFIGURE).
BILLING_NAV = {"tariffs", "meter-groups", "billing-settings", "holidays", "billing-alarms"}


@pytest.mark.parametrize("role", sorted(NAV))
def test_navigation_shows_what_the_role_allows(role, make_operator, client_for):
    html = client_for(make_operator(role)).get(reverse("console:home")).content.decode()
    shown = set(re.findall(r'data-testid="nav-(?!section)([a-z-]+)"', html)) - {"toggle"}
    assert shown == NAV[role] | BILLING_NAV


def test_sales_desk_is_a_link_to_its_page(cashier, client_for):
    html = client_for(cashier).get(reverse("console:home")).content.decode()
    entry = (
        html.split('data-testid="nav-sales"')[0].rsplit("<", 1)[1]
        + html.split('data-testid="nav-sales"')[1].split(">")[0]
    )
    assert entry.startswith("a ")
    assert f'href="{reverse("console:sales_desk")}"' in entry
    assert 'aria-disabled="true"' not in html


def test_current_area_is_highlighted(data, admin_client):
    html = admin_client.get(reverse("console:unit_edit", args=[data.unit.pk])).content.decode()
    assert re.search(r'class="nav-link op-nav-sub active" href="/units/"', html)
    assert html.count(' active" href=') == 1


def test_top_bar(admin, admin_client):
    html = admin_client.get(reverse("console:home")).content.decode()
    assert "OpenPrepaid" in html
    assert "预付费电能管理" in html
    assert 'data-testid="user-role">管理员<' in html
    assert 'data-testid="logout"' in html
    assert f'action="{reverse("console:logout")}"' in html
    assert f'action="{reverse("set_language")}"' in html
