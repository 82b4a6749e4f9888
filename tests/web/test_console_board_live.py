"""The live meter board: tiles coloured by the state the headend reported, marks for relay and
keep power, the grid polling itself, and a query count that does not grow with the meters."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from openprepaid.domain.metering.models import MeterStatus
from openprepaid.domain.sites import services as site_services

HX = {"HX-Request": "true"}
POLL = {"HX-Request": "true", "HX-Trigger": "board-grid"}
TILE = re.compile(r'<a class="op-tile ([^"]+)"[^>]*data-address="(\d+)" data-state="(\w+)"([^>]*)>')


def tiles(html: str) -> dict[str, tuple[str, str, str]]:
    """address → (css classes, state, the attributes after data-state)."""
    return {m[2]: (m[1], m[3], m[4]) for m in TILE.finditer(html)}


def add_meters(data, count: int, *, start: int = 100, cost_control: str = "local"):
    meters = []
    for n in range(start, start + count):
        unit = site_services.create_unit(
            acting_user=None, floor=data.floor, code=f"L-{n}", kind="shop", name=f"Shop {n}"
        )
        meters.append(
            site_services.create_meter(
                acting_user=None,
                gateway=data.gateway,
                unit=unit,
                address=f"{n:012d}",
                protocol="dlt645_2007",
                profile="dlt645-prepaid-1p",
                cost_control=cost_control,
            )
        )
    return meters


def status(meter, **fields):
    fields.setdefault("last_seen_at", timezone.now())
    return MeterStatus.objects.create(meter=meter, **fields)


def board_url(data, **query) -> str:
    extra = "".join(f"&{k}={v}" for k, v in query.items())
    return reverse("console:board") + f"?site={data.site.pk}{extra}"


@pytest.fixture
def states(data):
    """Six local-control meters, one per board state, plus relay and keep-power marks."""
    opened, alarm_1, alarm_2, arrears, lost, never = add_meters(data, 6)
    status(opened, account_opened=True, remaining=Decimal("180.00"), relay_open=False)
    status(alarm_1, account_opened=True, remaining=Decimal("45.00"), relay_open=False)
    status(alarm_2, account_opened=True, remaining=Decimal("12.50"), keep_power=True)
    status(arrears, account_opened=True, remaining=Decimal("0.00"), relay_open=True)
    status(lost, account_opened=True, lost_contact=True, lost_since=timezone.now())
    return {
        "opened": opened,
        "alarm_1": alarm_1,
        "alarm_2": alarm_2,
        "arrears": arrears,
        "lost": lost,
        "not_opened": never,
    }


def test_tiles_are_coloured_by_live_state(states, data, admin_client):
    html = admin_client.get(board_url(data)).content.decode()
    found = tiles(html)
    for state, meter in states.items():
        css, shown, _attrs = found[meter.address]
        assert shown == state
        assert css == f"op-state-{state}"
    assert "data-relay" not in found["000000000101"][2]  # alarm 1, relay closed: no marks
    assert "data-keep-power" not in found["000000000101"][2]
    assert 'data-relay="open"' in found["000000000103"][2]  # arrears, tripped
    assert 'data-keep-power="on"' in found["000000000102"][2]  # alarm 2, keep power
    assert html.count('class="bi bi-power"') == 1
    assert html.count('class="bi bi-shield-lock-fill"') == 1
    # the two meters of the fixture have never been read
    assert found["000000000001"][1] == "not_opened"
    # the legend names every state, and the counts follow the board
    for css in ("op-state-opened", "op-state-alarm_1", "op-state-alarm_2", "op-state-arrears"):
        assert f'op-swatch {css}"' in html
    assert 'data-testid="board-state-count" data-state="not_opened"' in html


def test_state_filter_and_tile_links(states, data, admin_client):
    html = admin_client.get(board_url(data, state="alarm_2"), headers=HX).content.decode()
    assert list(tiles(html)) == ["000000000102"]
    assert reverse("console:meter_detail", args=[states["alarm_2"].pk]) in html


def test_grid_partial_polls_itself_and_answers_204_when_unchanged(states, data, admin_client):
    url = board_url(data, floor=data.floor.pk)
    first = admin_client.get(url, headers=HX)
    html = first.content.decode()
    assert "<html" not in html
    assert 'data-testid="board-grid"' in html
    assert 'hx-trigger="every 3s"' in html
    poll = re.search(r'hx-get="([^"]+)"', html)[1].replace("&amp;", "&")
    assert f"floor={data.floor.pk}" in poll  # keeps the filter
    unchanged = admin_client.get(poll, headers=POLL)
    assert unchanged.status_code == 204
    MeterStatus.objects.filter(meter=states["opened"]).update(relay_open=True)
    changed = admin_client.get(poll, headers=POLL)
    assert changed.status_code == 200
    _css, _state, attrs = tiles(changed.content.decode())[states["opened"].address]
    assert 'data-relay="open"' in attrs
    # a poll does not re-render the filter fields out of band; a filter change does
    assert 'hx-swap-oob="true"' not in changed.content.decode()
    assert 'hx-swap-oob="true"' in html


@pytest.mark.parametrize("count", [3, 30])
def test_grid_query_count_does_not_grow_with_meters(
    data, admin_client, django_assert_max_num_queries, count
):
    meters = add_meters(data, count)
    for meter in meters[::2]:
        status(meter, account_opened=True, remaining=Decimal("10.00"))
    with django_assert_max_num_queries(14):
        response = admin_client.get(board_url(data), headers=HX)
    assert len(tiles(response.content.decode())) == count + 2


def test_board_offers_batch_commands_only_to_those_who_may_send_them(
    states, data, admin_client, client_for, auditor
):
    html = admin_client.get(board_url(data, floor=data.floor.pk)).content.decode()
    link = re.search(r'href="([^"]+)" data-testid="board-batch"', html)[1].replace("&amp;", "&")
    assert link.startswith(reverse("console:batch_create"))
    assert f"floor={data.floor.pk}" in link
    auditor_html = client_for(auditor).get(board_url(data)).content.decode()
    assert 'data-testid="board-batch"' not in auditor_html
