"""The system log pages: read-only, filtered, with before/after of each row."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from openprepaid.domain.audit.models import SystemLog
from openprepaid.domain.sites import services as site_services


def test_there_is_no_url_to_change_or_delete_a_row():
    for name in ("systemlog_edit", "systemlog_update", "systemlog_delete", "systemlog_create"):
        with pytest.raises(NoReverseMatch):
            reverse(f"console:{name}", args=[1])


def test_posting_to_the_log_pages_is_refused(data, admin_client):
    row = SystemLog.objects.filter(action="unit.create").first()
    rows_before = SystemLog.objects.exclude(action="operator.login").count()
    for url in (
        reverse("console:systemlog_list"),
        reverse("console:systemlog_detail", args=[row.pk]),
    ):
        assert admin_client.post(url, {"action": "x", "note": "tampered"}).status_code == 405
        assert admin_client.delete(url).status_code == 405
        assert admin_client.put(url).status_code == 405
    row.refresh_from_db()
    assert row.action == "unit.create"
    assert row.note == ""
    assert SystemLog.objects.exclude(action="operator.login").count() == rows_before


def test_who_may_read_the_log(data, admin, auditor, cashier, operations, client_for):
    url = reverse("console:systemlog_list")
    assert client_for(admin).get(url).status_code == 200
    assert client_for(auditor).get(url).status_code == 200
    assert client_for(cashier).get(url).status_code == 403
    assert client_for(operations).get(url).status_code == 403


def test_filters(data, admin, auditor, client_for):
    site_services.update_unit(data.unit, acting_user=admin, name="改过的名字")
    client = client_for(auditor)
    url = reverse("console:systemlog_list")
    html = client.get(url + "?action=unit.update").content.decode()
    assert 'data-count="1"' in html
    assert "改过的名字" in html
    html = client.get(url + f"?actor={admin.pk}").content.decode()
    assert 'data-count="1"' in html  # admin's only row is the unit change (no login here)
    html = client.get(url + "?object_type=gateway").content.decode()
    assert 'data-count="2"' in html
    assert 'title="gateway.create"' in html
    html = client.get(url + "?q=A-GW2").content.decode()
    assert 'data-count="1"' in html
    today = timezone.localdate()
    tomorrow = today + dt.timedelta(days=1)
    assert 'data-count="0"' in client.get(url + f"?date_from={tomorrow}").content.decode()
    assert 'data-count="0"' not in client.get(url + f"?date_to={today}").content.decode()


def test_detail_shows_changed_fields(data, admin, auditor, client_for):
    site_services.update_gateway(data.gateway, acting_user=admin, location="西侧弱电间", port=4010)
    row = SystemLog.objects.get(action="gateway.update")
    html = client_for(auditor).get(reverse("console:systemlog_detail", args=[row.pk])).content
    html = html.decode()
    assert 'data-testid="changes-table"' in html
    assert '<tr data-field="location">' in html
    assert "东侧强电井" in html
    assert "西侧弱电间" in html
    assert '<tr data-field="port">' in html
    assert "4001" in html
    assert "4010" in html
    assert '<tr data-field="name">' not in html  # unchanged fields are not listed
