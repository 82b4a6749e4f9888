"""Billing configuration pages other than tariffs: meter groups, a site's settings and receipt
layout, holidays, a meter's own thresholds, the billing alarms list, and who may change them."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from openprepaid.domain.billing.models import (
    BillingAlarm,
    BillingSettings,
    Holiday,
    MeterGroup,
    MeterThresholds,
)
from openprepaid.domain.billing.services import settings as settings_services
from openprepaid.domain.billing.services import tariffs as tariff_services

SHANGHAI = ZoneInfo("Asia/Shanghai")
ROW = re.compile(r'<tr data-testid="row" data-id="(\d+)"')

SETTINGS = {
    "alarm_1": "60",
    "alarm_2": "25.5",
    "overdraft_limit": "10",
    "close_allowed_limit": "5",
    "overload_power_kw": "12.5",
    "friendly_from": "18:00",
    "friendly_until": "08:00",
    "friendly_weekends": "on",
    "receipt_prefix": "XG",
}


def ids(html: str) -> list[int]:
    return [int(pk) for pk in ROW.findall(html)]


# -------------------------------------------------------------------------- meter groups


def test_create_group_then_choose_members(data, admin_client, log):
    counter = log()
    response = admin_client.post(
        reverse("console:metergroup_create"), {"site": data.site.pk, "name": "餐饮区"}
    )
    group = MeterGroup.objects.get(name="餐饮区")
    assert response["Location"] == reverse("console:metergroup_edit", args=[group.pk])
    url = reverse("console:metergroup_edit", args=[group.pk])
    page = admin_client.get(url).content.decode()
    assert data.meter.address in page
    assert data.spare_meter.address in page
    shown = f"{data.meter.pk},{data.spare_meter.pk}"
    response = admin_client.post(url, {"meters": [data.meter.pk], "shown": shown})
    assert response.status_code == 302
    assert list(group.meters.all()) == [data.meter]
    assert [row.action for row in counter.rows()] == [
        "meter_group.create",
        "meter_group.set_meters",
    ]


def test_search_narrows_members_and_keeps_the_others(data, admin_client):
    group = tariff_services.create_meter_group(
        acting_user=None, site=data.site, name="G", meters=[data.meter]
    )
    url = reverse("console:metergroup_edit", args=[group.pk])
    page = admin_client.get(url + "?q=A-102").content.decode()
    assert f'value="{data.spare_meter.pk}"' in page
    assert f'name="meters" value="{data.meter.pk}"' not in page
    # Ticking the one meter shown adds it; the member not shown stays.
    admin_client.post(
        url + "?q=A-102", {"meters": [data.spare_meter.pk], "shown": str(data.spare_meter.pk)}
    )
    assert set(group.meters.all()) == {data.meter, data.spare_meter}
    # Unticking a shown member removes only that one.
    admin_client.post(url + "?q=A-102", {"shown": str(data.spare_meter.pk)})
    assert list(group.meters.all()) == [data.meter]


def test_group_list_counts_members(data, admin_client):
    tariff_services.create_meter_group(
        acting_user=None, site=data.site, name="Both", meters=[data.meter, data.spare_meter]
    )
    html = admin_client.get(reverse("console:metergroup_list")).content.decode()
    assert 'data-testid="group-meter-count">2<' in html


def test_cashier_reads_a_group_but_cannot_change_it(data, cashier, client_for):
    group = tariff_services.create_meter_group(acting_user=None, site=data.site, name="G")
    client = client_for(cashier)
    url = reverse("console:metergroup_edit", args=[group.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'data-testid="group-form"' not in page.content.decode()
    assert client.post(url, {"meters": [data.meter.pk], "shown": ""}).status_code == 403
    assert client.get(reverse("console:metergroup_create")).status_code == 403
    assert list(group.meters.all()) == []


# ------------------------------------------------------------------------ site settings


def test_update_settings(data, admin_client, log):
    counter = log()
    url = reverse("console:billingsettings_site", args=[data.site.pk])
    response = admin_client.post(url, SETTINGS)
    assert response.status_code == 302
    stored = BillingSettings.objects.get(site=data.site)
    assert (
        stored.alarm_1,
        stored.alarm_2,
        stored.overdraft_limit,
        stored.close_allowed_limit,
        stored.overload_power_kw,
    ) == (
        Decimal("60.00"),
        Decimal("25.50"),
        Decimal("10.00"),
        Decimal("5.00"),
        Decimal("12.5000"),
    )
    assert (stored.friendly_from, stored.friendly_until) == (dt.time(18), dt.time(8))
    assert stored.friendly_weekends is True
    assert stored.receipt_prefix == "XG"
    assert [row.action for row in counter.rows()] == ["billing_settings.update"]
    page = admin_client.get(reverse("console:billingsettings")).content.decode()
    assert 'value="25.50"' in page


def test_alarm_1_below_alarm_2_is_refused(data, admin_client):
    url = reverse("console:billingsettings_site", args=[data.site.pk])
    response = admin_client.post(url, {**SETTINGS, "alarm_1": "20", "alarm_2": "30"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="field-error-alarm_2"' in html
    assert not BillingSettings.objects.filter(site=data.site, alarm_1=Decimal(20)).exists()


def test_settings_page_per_site(data, other, admin_client):
    html = admin_client.get(reverse("console:billingsettings")).content.decode()
    assert 'data-testid="settings-site-TOWER"' in html
    other_page = admin_client.get(reverse("console:billingsettings_site", args=[other.site.pk]))
    assert "Other Tower" in other_page.content.decode()


def test_cashier_reads_settings_but_cannot_change(data, cashier, client_for):
    client = client_for(cashier)
    url = reverse("console:billingsettings_site", args=[data.site.pk])
    page = client.get(url).content.decode()
    assert 'data-testid="read-only"' in page
    assert 'data-testid="submit"' not in page
    assert client.post(url, SETTINGS).status_code == 403
    layout_url = reverse("console:billingsettings_layout", args=[data.site.pk])
    assert client.post(layout_url, {"layout-paper": "a4"}).status_code == 403
    assert not BillingSettings.objects.filter(site=data.site, receipt_prefix="XG").exists()


def test_operator_of_another_site_gets_404(data, other, make_operator, client_for):
    client = client_for(make_operator("operations", sites=[other.site]))
    url = reverse("console:billingsettings_site", args=[data.site.pk])
    assert client.get(url).status_code == 404


LAYOUT = {
    "layout-paper": "241x93",
    "layout-parts": ["stub", "customer"],
    "layout-fields": ["tenant_name", "unit_code", "amount", "amount_in_words"],
    "layout-title": "星光购物中心电费收据",
    "layout-footer": "",
    "layout-font_size": "10",
    "layout-signatures": "on",
}


def test_receipt_layout(data, admin_client):
    url = reverse("console:billingsettings_layout", args=[data.site.pk])
    response = admin_client.post(url, LAYOUT)
    assert response.status_code == 302
    assert BillingSettings.objects.get(site=data.site).receipt_layout == {
        "paper": "241x93",
        "parts": ["stub", "customer"],
        "captions": {},
        "title": "星光购物中心电费收据",
        "fields": ["tenant_name", "unit_code", "amount_in_words", "amount"],
        "labels": {},
        "footer": None,
        "font_size": 10,
        "margins_mm": {},
        "signatures": True,
        "cut_lines": False,
    }
    page = admin_client.get(reverse("console:billingsettings_site", args=[data.site.pk]))
    assert 'value="241x93" selected' in page.content.decode()


def test_receipt_layout_needs_a_part(data, admin_client):
    url = reverse("console:billingsettings_layout", args=[data.site.pk])
    response = admin_client.post(url, {**LAYOUT, "layout-parts": []})
    assert response.status_code == 200
    assert 'data-testid="field-error-parts"' in response.content.decode()
    assert not BillingSettings.objects.filter(site=data.site).exclude(receipt_layout={}).exists()


# ------------------------------------------------------------------------------ holidays


def test_add_list_and_remove_holidays(data, other, admin_client, log):
    counter = log()
    response = admin_client.post(
        reverse("console:holiday_create"),
        {"holiday-site": data.site.pk, "holiday-day": "2026-10-01", "holiday-name": "国庆节"},
    )
    assert response.status_code == 302
    settings_services.add_holiday(acting_user=None, site=other.site, day=dt.date(2026, 10, 2))
    holiday = Holiday.objects.get(site=data.site)
    assert (holiday.day, holiday.name) == (dt.date(2026, 10, 1), "国庆节")
    url = reverse("console:holiday_list")
    assert len(ids(admin_client.get(url).content.decode())) == 2
    assert ids(admin_client.get(url + f"?site={data.site.pk}").content.decode()) == [holiday.pk]
    assert ids(admin_client.get(url + "?year=2027").content.decode()) == []
    # The same day twice is refused.
    again = admin_client.post(
        reverse("console:holiday_create"),
        {"holiday-site": data.site.pk, "holiday-day": "2026-10-01"},
    )
    assert again.status_code == 200
    assert Holiday.objects.filter(site=data.site).count() == 1
    remove = reverse("console:holiday_remove", args=[holiday.pk])
    assert admin_client.get(remove).status_code == 200
    assert admin_client.post(remove).status_code == 302
    assert not Holiday.objects.filter(site=data.site).exists()
    actions = [row.action for row in counter.rows()]
    assert actions == ["holiday.add", "holiday.add", "holiday.remove"]  # one on the other site


def test_cashier_cannot_add_or_remove_holidays(data, cashier, client_for):
    holiday = settings_services.add_holiday(
        acting_user=None, site=data.site, day=dt.date(2026, 10, 1)
    )
    client = client_for(cashier)
    assert client.get(reverse("console:holiday_list")).status_code == 200
    assert client.get(reverse("console:holiday_create")).status_code == 403
    assert client.post(reverse("console:holiday_remove", args=[holiday.pk])).status_code == 403
    assert Holiday.objects.count() == 1


# ------------------------------------------------------------------- meter thresholds


def test_meter_thresholds(data, admin_client, log):
    url = reverse("console:meter_thresholds", args=[data.meter.pk])
    page = admin_client.get(url).content.decode()
    assert 'data-testid="thresholds-form"' in page
    counter = log()
    response = admin_client.post(url, {"alarm_1": "80", "alarm_2": "30"})
    assert response["Location"] == reverse("console:meter_detail", args=[data.meter.pk])
    row = MeterThresholds.objects.get(meter=data.meter)
    assert (row.alarm_1, row.alarm_2, row.overdraft_limit) == (
        Decimal("80.00"),
        Decimal("30.00"),
        None,
    )
    assert "meter_thresholds.set" in [r.action for r in counter.rows()]
    detail = admin_client.get(reverse("console:meter_detail", args=[data.meter.pk])).content
    detail = detail.decode()
    assert re.search(r'data-testid="threshold-alarm_1" data-own="yes">80.00', detail)
    assert re.search(r'data-testid="threshold-overdraft_limit" data-own="no">0.00', detail)
    # Clearing every field takes the site's values again.
    admin_client.post(url, {"alarm_1": "", "alarm_2": ""})
    assert not MeterThresholds.objects.filter(meter=data.meter).exists()


def test_meter_alarm_2_above_alarm_1_is_refused(data, admin_client):
    url = reverse("console:meter_thresholds", args=[data.meter.pk])
    response = admin_client.post(url, {"alarm_2": "70"})  # the site's alarm 1 is 50
    assert response.status_code == 200
    assert 'data-testid="field-error-alarm_2"' in response.content.decode()
    assert not MeterThresholds.objects.exists()


def test_cashier_sees_thresholds_without_the_change_link(data, cashier, client_for):
    client = client_for(cashier)
    detail = client.get(reverse("console:meter_detail", args=[data.meter.pk])).content.decode()
    assert 'data-testid="meter-thresholds"' in detail
    assert 'data-testid="edit-thresholds"' not in detail
    url = reverse("console:meter_thresholds", args=[data.meter.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"alarm_1": "80"}).status_code == 403


# ------------------------------------------------------------------------------- alarms


@pytest.fixture
def alarms(data, other):
    def alarm(site, kind, minutes, **fields):
        return BillingAlarm.objects.create(
            site=site,
            kind=kind,
            raised_at=dt.datetime(2026, 11, 1, 8, tzinfo=SHANGHAI) + dt.timedelta(minutes=minutes),
            **fields,
        )

    return [
        alarm(
            data.site,
            "level",
            0,
            account=data.account,
            level_from="normal",
            level_to="alarm_1",
            balance=Decimal("45.00"),
        ),
        alarm(
            data.site,
            "ledger_difference",
            10,
            meter=data.meter,
            difference=Decimal("-3.20"),
            detail="meter shows more money",
        ),
        alarm(other.site, "overload", 20, meter=other.meter, detail="13.1 kW"),
        alarm(
            data.site,
            "level",
            30,
            account=data.account,
            level_from="alarm_1",
            level_to="arrears",
            balance=Decimal("-0.50"),
        ),
    ]


def test_alarm_list_newest_first_and_filters(alarms, data, admin_client):
    url = reverse("console:billingalarm_list")
    html = admin_client.get(url).content.decode()
    assert ids(html) == [alarms[3].pk, alarms[2].pk, alarms[1].pk, alarms[0].pk]
    assert "-3.20" in html
    assert "45.00" in html
    assert ids(admin_client.get(url + "?kind=level").content.decode()) == [
        alarms[3].pk,
        alarms[0].pk,
    ]
    by_site = admin_client.get(url + f"?site={data.site.pk}&kind=ledger_difference")
    assert ids(by_site.content.decode()) == [alarms[1].pk]
    assert ids(admin_client.get(url + "?q=A-101").content.decode()) == [alarms[1].pk]


def test_alarm_list_only_shows_own_sites(alarms, other, make_operator, client_for):
    client = client_for(make_operator("cashier", sites=[other.site]))
    html = client.get(reverse("console:billingalarm_list")).content.decode()
    assert ids(html) == [alarms[2].pk]


def test_navigation_has_the_billing_section(data, admin_client, cashier, client_for):
    html = admin_client.get(reverse("console:tariff_list")).content.decode()
    for key in ("tariffs", "meter-groups", "billing-settings", "holidays", "billing-alarms"):
        assert f'data-testid="nav-{key}"' in html
    assert re.search(r'class="nav-link op-nav-sub active" href="/billing/tariffs/"', html)
    cashier_html = client_for(cashier).get(reverse("console:home")).content.decode()
    assert 'data-testid="nav-tariffs"' in cashier_html
