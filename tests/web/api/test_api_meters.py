"""``GET /api/v1/meters`` and ``/api/v1/meters/{id}``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from openprepaid.domain.metering.models import MeterReading, MeterStatus
from openprepaid.domain.sites import services as site_services
from openprepaid.domain.sites.models import Meter


@pytest.fixture
def live(data):
    """The first meter (holding its own wallet) seen 20 s ago with 15.50 yuan left (alarm
    level 2), with a reading."""
    Meter.objects.filter(pk=data.meter.pk).update(cost_control="local")
    now = timezone.now()
    MeterReading.objects.create(
        meter=data.meter,
        read_at=now - dt.timedelta(minutes=5),
        energy_total=Decimal("1240.75"),
        remaining=Decimal("15.50"),
        purchase_count=3,
        voltage=["229.8"],
        current=["10.21"],
    )
    return MeterStatus.objects.create(
        meter=data.meter,
        last_seen_at=now - dt.timedelta(seconds=20),
        relay_open=False,
        keep_power=True,
        account_opened=True,
        remaining=Decimal("15.50"),
        overdraft=Decimal("0.00"),
        purchase_count=3,
        energy_total=Decimal("1240.75"),
    )


def test_list_shows_meters_with_their_board_state(data, live, operations, api_for):
    response = api_for(operations).get("/api/v1/meters")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert body["previous"] is None
    assert body["next"] is None
    first = next(m for m in body["results"] if m["id"] == data.meter.pk)
    assert first["address"] == "000000000001"
    assert first["site"] == {"id": data.site.pk, "code": "MALL", "name": "星光购物中心"}
    assert first["building"]["name"] == "A座"
    assert first["floor"]["name"] == "1F"
    assert first["unit"]["code"] == "A-101"
    assert first["gateway"] == {"id": data.gateway.pk, "name": "A-GW1"}
    assert first["board"]["state"] == "alarm_2"
    assert first["board"]["remaining"] == "15.50"
    assert first["board"]["keep_power"] is True
    assert first["board"]["fresh"] is True
    spare = next(m for m in body["results"] if m["id"] == data.spare_meter.pk)
    assert spare["board"]["state"] == "not_opened"


def test_list_filters_and_pages(data, other, live, admin, api_for):
    client = api_for(admin)
    assert client.get("/api/v1/meters").json()["count"] == 4
    by_site = client.get("/api/v1/meters", {"site": other.site.pk}).json()
    assert {m["id"] for m in by_site["results"]} == {other.meter.pk, other.spare_meter.pk}
    assert client.get("/api/v1/meters", {"building": data.building.pk}).json()["count"] == 2
    assert client.get("/api/v1/meters", {"floor": other.floor.pk}).json()["count"] == 2
    assert client.get("/api/v1/meters", {"gateway": data.spare_gateway.pk}).json()["count"] == 0
    alarm = client.get("/api/v1/meters", {"state": "alarm_2"}).json()
    assert [m["id"] for m in alarm["results"]] == [data.meter.pk]
    assert client.get("/api/v1/meters", {"q": "A-102"}).json()["count"] == 1
    first = client.get("/api/v1/meters", {"page_size": 3}).json()
    assert (first["count"], len(first["results"])) == (4, 3)
    assert "page=2" in first["next"]
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 1
    seen = {m["id"] for m in first["results"]} | {m["id"] for m in second["results"]}
    assert len(seen) == 4
    paged_state = client.get("/api/v1/meters", {"state": "not_opened", "page_size": 2}).json()
    assert (paged_state["count"], len(paged_state["results"])) == (3, 2)


def test_retired_meters_only_when_asked(data, admin, api_for):
    site_services.retire_meter(data.spare_meter, acting_user=None)
    client = api_for(admin)
    assert client.get("/api/v1/meters").json()["count"] == 1
    retired = client.get("/api/v1/meters", {"lifecycle": "retired"}).json()
    assert [m["id"] for m in retired["results"]] == [data.spare_meter.pk]


def test_bad_filters_and_pages_are_clear_errors(data, admin, api_for):
    client = api_for(admin)
    response = client.get("/api/v1/meters", {"site": "abc", "state": "purple"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["fields"]) == {"site", "state"}
    gone = client.get("/api/v1/meters", {"page": 9})
    assert (gone.status_code, gone.json()["code"]) == (404, "not_found")


def test_detail_with_live_status_and_latest_reading(data, live, operations, api_for):
    response = api_for(operations).get(f"/api/v1/meters/{data.meter.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["board"]["state"] == "alarm_2"
    assert body["status"]["remaining"] == "15.50"
    assert body["status"]["desired_relay"] == "auto"
    assert body["status"]["purchase_count"] == 3
    assert body["latest_reading"]["energy_total"] == "1240.75"
    assert body["latest_reading"]["voltage"] == ["229.8"]
    never = api_for(operations).get(f"/api/v1/meters/{data.spare_meter.pk}").json()
    assert never["status"] is None
    assert never["latest_reading"] is None
    assert never["board"]["state"] == "not_opened"


def test_operator_of_another_site_sees_neither_list_nor_meter(data, other, make_operator, api_for):
    stranger = api_for(make_operator("operations", sites=[other.site]))
    listed = stranger.get("/api/v1/meters").json()
    assert {m["id"] for m in listed["results"]} == {other.meter.pk, other.spare_meter.pk}
    response = stranger.get(f"/api/v1/meters/{data.meter.pk}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert stranger.get("/api/v1/meters", {"site": data.site.pk}).json()["count"] == 0


def test_auditor_reads_too(data, auditor, api_for):
    assert api_for(auditor).get("/api/v1/meters").json()["count"] == 2
