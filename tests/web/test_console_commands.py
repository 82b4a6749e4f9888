"""A meter's page (latest values, history chart, commands) and batch commands."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from openprepaid.domain.metering import services as metering_services
from openprepaid.domain.metering.models import Command, CommandBatch, MeterReading, MeterStatus
from openprepaid.domain.sites import services as site_services
from openprepaid.web.console.labels import action_label

HX = {"HX-Request": "true"}


def meter_url(meter) -> str:
    return reverse("console:meter_detail", args=[meter.pk])


def commands_url(meter) -> str:
    return reverse("console:meter_commands", args=[meter.pk])


@pytest.fixture
def read(data):
    """The first meter read twice in the last day, with its status row."""
    now = timezone.now()
    for hours, energy, remaining in ((6, "1234.50", "88.20"), (1, "1240.75", "80.95")):
        MeterReading.objects.create(
            meter=data.meter,
            read_at=now - dt.timedelta(hours=hours),
            energy_total=Decimal(energy),
            energy_sharp=Decimal("100.25"),
            energy_peak=Decimal("400.50"),
            energy_flat=Decimal("500.00"),
            energy_valley=Decimal(energy) - Decimal("1000.75"),
            remaining=Decimal(remaining),
            purchase_count=3,
            relay_open=False,
            keep_power=True,
            power_kw=Decimal("2.3456"),
            voltage=["229.8"],
            current=["10.21"],
            meter_time=now - dt.timedelta(hours=hours, seconds=4),
        )
    return MeterStatus.objects.create(
        meter=data.meter,
        last_seen_at=now - dt.timedelta(seconds=20),
        relay_open=False,
        keep_power=True,
        remaining=Decimal("80.95"),
        overdraft=Decimal("0.00"),
        purchase_count=3,
        energy_total=Decimal("1240.75"),
    )


def test_meter_page_shows_latest_values_chart_and_commands(read, data, admin_client):
    metering_services.request_command(acting_user=None, meter=data.meter, kind="read_now")
    html = admin_client.get(meter_url(data.meter)).content.decode()
    assert 'data-testid="meter-live"' in html
    assert "1240.75 kWh" in html
    assert "¥ 80.95" in html
    assert "2.3456 kW" in html
    assert "229.8 V" in html
    assert "10.21 A" in html
    tariffs = html.split('data-testid="meter-tariffs"')[1].split("</dd>")[0]
    for value in ("100.25", "400.50", "500.00", "240.00"):
        assert value in tariffs
    assert 'data-fresh="yes"' in html
    assert 'data-testid="meter-keep-power"><i class="bi bi-shield-lock-fill' in html
    # the chart: two readings in the last 24 hours, drawn as inline SVG
    assert re.search(r'<svg class="op-chart"[^>]*data-testid="chart-energy" data-points="2"', html)
    assert re.search(r'data-testid="chart-balance" data-points="2"', html)
    assert "<script" not in html.split('data-testid="meter-chart"')[1].split("</section>")[0]
    week = admin_client.get(meter_url(data.meter) + "?range=7d").content.decode()
    assert 'data-testid="chart-energy" data-points="2"' in week
    # command history
    assert re.search(r'data-testid="command-row" data-kind="read_now" data-state="queued"', html)
    assert 'data-testid="command-button-trip"' in html
    assert 'data-testid="command-button-push_prices"' in html


def test_meter_never_read(data, admin_client):
    html = admin_client.get(meter_url(data.meter)).content.decode()
    assert 'data-testid="meter-never-read"' in html
    assert 'data-testid="chart-energy" data-points="0"' in html
    assert 'data-testid="no-commands"' in html


def test_trip_button_queues_a_command_and_shows_it(data, operations, client_for, log):
    client = client_for(operations)
    log = log()
    response = client.post(commands_url(data.meter), {"kind": "trip"}, headers=HX)
    assert response.status_code == 200
    command = Command.objects.get(meter=data.meter)
    assert (command.kind, command.state, command.requested_by) == ("trip", "queued", operations)
    assert MeterStatus.objects.get(meter=data.meter).desired_relay == "open"
    html = response.content.decode()
    assert "<html" not in html
    assert re.search(r'data-testid="command-row" data-kind="trip" data-state="queued"', html)
    assert 'data-testid="command-requested"' in html
    assert 'hx-trigger="every 2s"' in html  # follows the command while it is under way
    assert [row.action for row in log.rows()] == ["command.trip"]
    # once the command is done the list stops polling
    Command.objects.filter(pk=command.pk).update(state="confirmed")
    done = client.get(commands_url(data.meter), headers=HX).content.decode()
    assert 'data-state="confirmed"' in done
    assert "hx-trigger" not in done


def test_push_prices_form(data, admin_client):
    url = commands_url(data.meter)
    prices = {"kind": "push_prices", "push_prices-sharp": "1.2", "push_prices-peak": "1.0"}
    refused = admin_client.post(url, prices, headers=HX).content.decode()
    assert 'data-testid="command-error"' in refused
    assert not Command.objects.exists()
    prices |= {"push_prices-flat": "0.7", "push_prices-valley": "0.4"}
    admin_client.post(url, prices, headers=HX)
    command = Command.objects.get()
    assert command.params == {"prices": ["1.2000", "1.0000", "0.7000", "0.4000"]}
    settings = {"kind": "push_settings", "push_settings-alarm_1": "50", "push_settings-alarm_2": ""}
    admin_client.post(url, settings, headers=HX)
    assert Command.objects.get(kind="push_settings").params == {"alarm_1": "50.00"}


def test_plain_post_redirects_to_the_meter_page(data, admin_client):
    response = admin_client.post(commands_url(data.meter), {"kind": "read_now"})
    assert response.status_code == 302
    assert response.url == meter_url(data.meter)
    assert "命令已加入队列。" in admin_client.get(response.url).content.decode()
    refused = admin_client.post(commands_url(data.meter), {"kind": "push_settings"}, follow=True)
    assert "请至少填写一项设置。" in refused.content.decode()
    assert Command.objects.count() == 1


@pytest.mark.parametrize("role", ["auditor", "cashier"])
def test_who_may_not_control_meters_sees_no_buttons_and_is_refused(
    data, make_operator, client_for, role
):
    client = client_for(make_operator(role))
    html = client.get(meter_url(data.meter)).content.decode()
    assert 'data-testid="command-buttons"' not in html
    assert "command-button-" not in html
    assert 'data-testid="command-list"' in html  # the history is readable
    assert client.post(commands_url(data.meter), {"kind": "trip"}, headers=HX).status_code == 403
    assert not Command.objects.exists()
    assert client.get(reverse("console:batch_create")).status_code == 403
    assert 'href="/commands/batches/"' not in html  # no navigation entry


def test_operator_of_another_site_cannot_command(data, other, make_operator, client_for):
    client = client_for(make_operator("operations", sites=[other.site]))
    assert client.post(commands_url(data.meter), {"kind": "trip"}, headers=HX).status_code == 404
    assert not Command.objects.exists()


def add_floor_meters(data, count: int):
    floor = site_services.create_floor(acting_user=None, building=data.building, name="3F")
    meters = []
    for n in range(count):
        unit = site_services.create_unit(
            acting_user=None, floor=floor, code=f"A-3{n:02d}", kind="shop"
        )
        meters.append(
            site_services.create_meter(
                acting_user=None,
                gateway=data.gateway,
                unit=unit,
                address=f"{300 + n:012d}",
                protocol="dlt645_2007",
                profile="dlt645-prepaid-1p",
            )
        )
    return floor, meters


def test_batch_command_by_floor(data, operations, client_for):
    floor, meters = add_floor_meters(data, 3)
    client = client_for(operations)
    choice = {
        "site": data.site.pk,
        "building": data.building.pk,
        "floor": floor.pk,
        "state": "",
        "kind": "trip",
        "description": "3F maintenance",
    }
    preview = client.get(reverse("console:batch_create"), choice | {"preview": "1"})
    html = preview.content.decode()
    assert 'data-testid="batch-preview-result" data-count="3"' in html
    assert not Command.objects.exists()  # a preview sends nothing
    response = client.post(reverse("console:batch_create"), choice)
    batch = CommandBatch.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("console:batch_detail", args=[batch.pk])
    assert sorted(c.meter_id for c in batch.commands.all()) == sorted(m.pk for m in meters)
    assert set(batch.commands.values_list("kind", "state")) == {("trip", "queued")}
    assert batch.description == "3F maintenance"

    page = client.get(response.url).content.decode()
    assert 'data-testid="batch-progress" data-total="3" data-polling="on"' in page
    assert 'data-testid="batch-count" data-state="queued" data-count="3"' in page
    assert page.count('data-testid="command-row"') == 3
    assert 'hx-trigger="every 2s"' in page

    first, *rest = batch.commands.order_by("id")
    Command.objects.filter(pk=first.pk).update(state="failed", detail="no reply")
    Command.objects.filter(pk__in=[c.pk for c in rest]).update(state="confirmed")
    done = client.get(response.url, headers=HX).content.decode()
    assert "<html" not in done
    assert 'data-testid="batch-count" data-state="confirmed" data-count="2"' in done
    assert 'data-testid="batch-count" data-state="failed" data-count="1"' in done
    assert 'data-polling="off"' in done
    assert "no reply" in done

    listing = client.get(reverse("console:batch_list")).content.decode()
    assert "3F maintenance" in listing
    assert reverse("console:batch_detail", args=[batch.pk]) in listing


def test_batch_by_board_state_and_params(data, admin_client):
    _floor, meters = add_floor_meters(data, 2)
    MeterStatus.objects.create(
        meter=meters[0], last_seen_at=timezone.now(), lost_contact=True, lost_since=timezone.now()
    )
    choice = {
        "site": data.site.pk,
        "state": "lost",
        "kind": "push_settings",
        "push_settings-alarm_1": "40",
        "push_settings-alarm_2": "15.5",
    }
    html = admin_client.get(reverse("console:batch_create"), choice | {"preview": "1"})
    assert 'data-count="1"' in html.content.decode()
    admin_client.post(reverse("console:batch_create"), choice)
    (command,) = Command.objects.all()
    assert command.meter_id == meters[0].pk
    assert command.params == {"alarm_1": "40.00", "alarm_2": "15.50"}


def test_batch_form_refuses_bad_input(data, admin_client):
    choice = {"site": data.site.pk, "kind": "push_prices", "push_prices-sharp": "x"}
    response = admin_client.post(reverse("console:batch_create"), choice)
    assert response.status_code == 200
    assert 'data-testid="form-errors"' in response.content.decode()
    assert not CommandBatch.objects.exists()


def test_batch_of_another_site_is_not_found(data, other, make_operator, client_for):
    batch = metering_services.request_batch(acting_user=None, meters=[data.meter], kind="trip")
    client = client_for(make_operator("operations", sites=[other.site]))
    assert client.get(reverse("console:batch_detail", args=[batch.pk])).status_code == 404
    assert "batch-row" not in client.get(reverse("console:batch_list")).content.decode()


def test_pages_are_chinese_by_default_and_english_on_the_switch(data, admin_client):
    metering_services.request_command(acting_user=None, meter=data.meter, kind="close")
    html = admin_client.get(meter_url(data.meter)).content.decode()
    assert "拉闸" in html
    assert "合闸允许" in html
    assert "最新数据" in html
    assert "排队中" in html
    row = html.split('data-kind="close" data-state="queued">')[1].split("</tr>")[0]
    assert "<td>合闸" in row
    admin_client.post(reverse("set_language"), {"language": "en", "next": "/"})
    english = admin_client.get(meter_url(data.meter)).content.decode()
    assert "Latest values" in english
    assert "Allow closing" in english
    assert "Queued" in english
    board = admin_client.get(reverse("console:board")).content.decode()
    assert "Below alarm level 1" in board
    batches = admin_client.get(reverse("console:batch_list")).content.decode()
    assert "No batch commands yet." in batches


def test_system_log_names_the_commands(data, admin_client):
    admin_client.post(commands_url(data.meter), {"kind": "trip"}, headers=HX)
    html = admin_client.get(reverse("console:systemlog_list")).content.decode()
    assert "拉闸" in html
    assert action_label("command_batch.trip") == "批量命令:拉闸"


def test_batch_form_starts_from_the_boards_filter(data, admin_client):
    url = reverse("console:batch_create") + f"?site={data.site.pk}&floor={data.floor.pk}&state=lost"
    html = admin_client.get(url).content.decode()
    assert 'data-testid="form-errors"' not in html
    assert "invalid-feedback" not in html
    assert f'<option value="{data.floor.pk}" selected>' in html
    assert '<option value="lost" selected>' in html


def test_command_parameters_read_as_words_not_json():
    from django.utils import translation

    from openprepaid.web.console.labels import command_params_text

    with translation.override("en"):
        text = command_params_text({"amount": "47.00", "purchase_count": 1, "customer": "7"})
        prices = command_params_text({"prices": ["1.2000", "0.4000"]})
        assert command_params_text({}) == ""
    assert text == "amount ¥47.00 · purchase count 1 · customer number 7"
    assert prices == "prices 1.2000 / 0.4000"
    with translation.override("zh-hans"):
        assert "购电次数 1" in command_params_text({"purchase_count": 1})
