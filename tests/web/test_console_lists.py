"""List pages: filters, search, pagination, and the htmx partial (the table alone)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from openprepaid.domain.sites import services as site_services

HX = {"HX-Request": "true"}


def rows(html: str) -> list[str]:
    return re.findall(r'<tr data-testid="row" data-id="(\d+)"', html)


def count(html: str) -> int:
    return int(re.search(r'data-testid="result-count" data-count="(\d+)"', html).group(1))


@pytest.fixture
def many_units(data):
    """60 more shops on a second floor, so the unit list has two pages."""
    floor = site_services.create_floor(acting_user=None, building=data.building, name="2F")
    for n in range(60):
        site_services.create_unit(
            acting_user=None, floor=floor, code=f"A-2{n:02d}", kind="shop", name=f"店铺{n}"
        )
    return floor


def test_pagination_is_50_per_page(many_units, admin_client):
    url = reverse("console:unit_list")
    first = admin_client.get(url).content.decode()
    assert count(first) == 62
    assert len(rows(first)) == 50
    assert 'data-testid="pagination"' in first
    second = admin_client.get(url + "?page=2").content.decode()
    assert len(rows(second)) == 12
    assert set(rows(first)).isdisjoint(rows(second))
    # A page past the end shows the last page rather than an error.
    assert rows(admin_client.get(url + "?page=99").content.decode()) == rows(second)


def test_htmx_request_gets_only_the_table(many_units, admin_client):
    url = reverse("console:unit_list") + "?kind=shop&page=2"
    full = admin_client.get(url)
    partial = admin_client.get(url, headers=HX)
    full_html, partial_html = full.content.decode(), partial.content.decode()
    assert "<html" in full_html
    assert 'data-testid="filter-form"' in full_html
    assert "<html" not in partial_html
    assert 'data-testid="filter-form"' not in partial_html
    assert 'data-testid="unit-table"' in partial_html
    assert rows(partial_html) == rows(full_html)
    assert "HX-Request" in partial["Vary"]
    assert "HX-Request" in full["Vary"]
    # Page links keep the filters and swap the table.
    assert 'hx-get="/units/?kind=shop&amp;page=1"' in partial_html
    assert 'hx-target="#list-results"' in partial_html


def test_history_restore_gets_the_whole_page(many_units, admin_client):
    response = admin_client.get(
        reverse("console:unit_list") + "?page=2",
        headers={**HX, "HX-History-Restore-Request": "true"},
    )
    assert "<html" in response.content.decode()


def test_unit_filters_and_search(data, many_units, admin_client):
    url = reverse("console:unit_list")
    assert count(admin_client.get(url + "?kind=office").content.decode()) == 1
    assert count(admin_client.get(url + f"?floor={data.floor.pk}").content.decode()) == 2
    assert count(admin_client.get(url + f"?floor={many_units.pk}").content.decode()) == 60
    html = admin_client.get(url + "?q=A-101").content.decode()
    assert rows(html) == [str(data.unit.pk)]
    html = admin_client.get(url + "?q=店铺5").content.decode()  # by name
    assert count(html) == 11  # 店铺5, 店铺50 … 店铺59
    assert count(admin_client.get(url + "?status=retired").content.decode()) == 0


def test_dependent_filters_follow_the_site(data, other, admin_client):
    url = reverse("console:unit_list") + f"?site={other.site.pk}"
    html = admin_client.get(url, headers=HX).content.decode()
    # The building and floor selects come back out of band, limited to the chosen site.
    assert 'id="filter-building" hx-swap-oob="true"' in html
    assert 'id="filter-floor" hx-swap-oob="true"' in html
    building_select = html.split('id="filter-building"')[1].split("</select>")[0]
    assert "B座" in building_select
    assert "A座" not in building_select


def test_gateway_filters(data, other, admin_client):
    url = reverse("console:gateway_list")
    assert count(admin_client.get(url).content.decode()) == 4
    assert count(admin_client.get(url + "?transport=serial").content.decode()) == 2
    html = admin_client.get(url + f"?site={data.site.pk}&transport=transparent_tcp").content
    assert rows(html.decode()) == [str(data.gateway.pk)]
    assert count(admin_client.get(url + "?q=强电井").content.decode()) == 2  # location
    assert count(admin_client.get(url + "?q=10.0.2.1").content.decode()) == 1  # host
    assert count(admin_client.get(url + "?status=retired").content.decode()) == 0


def test_meter_filters(data, other, admin_client):
    url = reverse("console:meter_list")
    assert count(admin_client.get(url).content.decode()) == 4
    html = admin_client.get(url + f"?gateway={data.gateway.pk}").content.decode()
    assert sorted(rows(html)) == sorted([str(data.meter.pk), str(data.spare_meter.pk)])
    assert count(admin_client.get(url + f"?building={other.building.pk}").content.decode()) == 2
    assert count(admin_client.get(url + "?protocol=modbus_rtu").content.decode()) == 0
    assert count(admin_client.get(url + "?cost_control=remote").content.decode()) == 4
    assert count(admin_client.get(url + "?lifecycle=not_opened").content.decode()) == 4
    assert rows(admin_client.get(url + "?q=B-101").content.decode()) == [str(other.meter.pk)]
    assert rows(admin_client.get(url + "?q=00000000000").content.decode())  # address part
    html = admin_client.get(url + f"?q=Spare office&site={data.site.pk}").content.decode()
    assert rows(html) == [str(data.spare_meter.pk)]  # by unit name, in one site


def test_meter_table_columns(data, admin_client):
    html = admin_client.get(reverse("console:meter_list")).content.decode()
    table = html.split('data-testid="meter-table"')[1]
    for text in ("000000000001", "DL/T 645-2007", "dlt645-prepaid-1p", "A-GW1", "A-101"):
        assert text in table


def test_tenant_filters(data, other, admin_client):
    url = reverse("console:tenant_list")
    assert count(admin_client.get(url).content.decode()) == 4
    assert count(admin_client.get(url + "?kind=person").content.decode()) == 2
    assert count(admin_client.get(url + f"?site={other.site.pk}").content.decode()) == 2
    assert rows(admin_client.get(url + "?q=13800138000").content.decode())  # mobile
    html = admin_client.get(url + f"?q=王经理&site={data.site.pk}").content.decode()
    assert rows(html) == [str(data.tenant.pk)]
    assert count(admin_client.get(url + "?status=archived").content.decode()) == 0


def test_operator_filters(admin, cashier, auditor, admin_client):
    url = reverse("console:operator_list")
    assert count(admin_client.get(url).content.decode()) == 3
    assert rows(admin_client.get(url + "?role=cashier").content.decode()) == [str(cashier.pk)]
    assert rows(admin_client.get(url + "?q=audit").content.decode()) == [str(auditor.pk)]
    assert count(admin_client.get(url + "?active=no").content.decode()) == 0


def test_a_bad_filter_value_is_ignored(data, admin_client):
    url = reverse("console:unit_list")
    response = admin_client.get(url + "?site=999999&floor=abc&kind=castle&page=x")
    assert response.status_code == 200
    assert count(response.content.decode()) == 2


def test_lists_do_not_query_per_row(data, many_units, admin_client, django_assert_max_num_queries):
    """50 rows cost the same number of queries as 1 (everything shown is joined)."""
    for name in ("console:unit_list", "console:meter_list", "console:gateway_list"):
        with django_assert_max_num_queries(20):
            admin_client.get(reverse(name))
