"""The meter board and a meter's page."""

from __future__ import annotations

import re

from django.urls import reverse

from openprepaid.domain.sites import services as site_services

HX = {"HX-Request": "true"}


def tiles(html: str) -> list[str]:
    return re.findall(r'data-testid="meter-tile" data-address="(\d+)"', html)


def test_board_shows_the_sites_meters_by_building_and_floor(data, other, admin_client):
    url = reverse("console:board")
    html = admin_client.get(url + f"?site={data.site.pk}").content.decode()
    assert sorted(tiles(html)) == ["000000000001", "000000000011"]
    assert 'data-building="A座"' in html
    assert 'data-floor="1F"' in html
    assert 'data-testid="board-legend"' in html
    assert 'data-state="not_opened"' in html
    assert "星辰钟表行" in html  # the tenant of the meter's account
    assert reverse("console:meter_detail", args=[data.meter.pk]) in html
    other_html = admin_client.get(url + f"?site={other.site.pk}").content.decode()
    assert sorted(tiles(other_html)) == ["000000000002", "000000000011"]


def test_board_hides_retired_meters(data, admin_client):
    site_services.retire_meter(data.spare_meter, acting_user=None)
    html = admin_client.get(reverse("console:board") + f"?site={data.site.pk}").content.decode()
    assert tiles(html) == ["000000000001"]


def test_board_filter_swaps_only_the_grid(data, admin_client):
    floor = site_services.create_floor(acting_user=None, building=data.building, name="2F")
    unit = site_services.create_unit(acting_user=None, floor=floor, code="A-201", kind="shop")
    site_services.create_meter(
        acting_user=None,
        gateway=data.spare_gateway,
        unit=unit,
        address="5",
        protocol="dlt645_2007",
        profile="dlt645-prepaid-1p",
    )
    url = reverse("console:board") + f"?site={data.site.pk}&floor={floor.pk}"
    partial = admin_client.get(url, headers=HX).content.decode()
    assert "<html" not in partial
    assert 'data-testid="board-grid"' in partial
    assert tiles(partial) == ["000000000005"]
    by_gateway = reverse("console:board") + f"?site={data.site.pk}&gateway={data.gateway.pk}"
    assert sorted(tiles(admin_client.get(by_gateway).content.decode())) == [
        "000000000001",
        "000000000011",
    ]


def test_board_of_a_site_without_meters(db, make_operator, client_for, other_site):
    from openprepaid.domain.sites.services import create_site

    mine = create_site(acting_user=None, code="EMPTY", name="Empty")
    client = client_for(make_operator("operations", sites=[mine]))
    html = client.get(reverse("console:board")).content.decode()
    assert 'data-testid="board-empty"' in html
    assert "Other Tower" not in html


def test_meter_page(data, admin_client):
    html = admin_client.get(reverse("console:meter_detail", args=[data.meter.pk])).content.decode()
    assert 'data-testid="meter-detail"' in html
    assert "A-GW1" in html
    assert "10.0.1.1:4001" in html
    assert "A-101" in html
    assert "A座" in html
    assert data.account.number in html
    assert reverse("console:tenant_detail", args=[data.tenant.pk]) in html
    assert 'data-testid="meter-history"' in html
    assert 'data-testid="edit-meter"' in html


def test_meter_page_for_roles(data, cashier, operations, client_for):
    url = reverse("console:meter_detail", args=[data.meter.pk])
    cashier_html = client_for(cashier).get(url).content.decode()
    assert 'data-testid="edit-meter"' not in cashier_html
    assert 'data-testid="meter-history"' not in cashier_html  # the log is for auditors
    ops_html = client_for(operations).get(url).content.decode()
    assert 'data-testid="edit-meter"' in ops_html
