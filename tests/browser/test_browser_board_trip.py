"""A trip clicked in the console reaches a simulated meter through the headend, and the board,
left open in the browser, shows the relay open without a reload."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tests.conftest import PASSWORD
from tests.e2e.conftest import HeadendThread

from openprepaid.domain.sites import services as site_services
from openprepaid.headend.options import HeadendOptions
from openprepaid.simulator.runner import SimulatorThread
from openprepaid.simulator.sitespec import GatewaySpec, MeterSpec, SiteSpec

ADDRESSES = ("202611010001", "202611010002", "202611010003")
FAST = HeadendOptions(
    stagger=0,
    seed=1,
    claim_every=0.1,
    reconcile_every=0.5,
    stats_every=0.5,
    flush_every=0.1,
    status_every=1.0,
    turnaround=0.2,
    network_slack=0.1,
    time_sync_daily=False,
)


@pytest.fixture
def building(site):
    spec = SiteSpec((GatewaySpec("GW-1F", port=0, meters=tuple(MeterSpec(a) for a in ADDRESSES)),))
    with SimulatorThread(spec, timing=False, opening_balance=(Decimal(500), Decimal(600))) as sim:
        host, port = sim.address("GW-1F")
        gateway = site_services.create_gateway(
            acting_user=None, site=site, name="GW-1F", transport="transparent_tcp", host=host,
            port=port,
        )  # fmt: skip
        floor = site_services.ensure_floor(
            acting_user=None, site=site, building_name="A座", floor_name="1F"
        )
        for number, address in enumerate(ADDRESSES, start=1):
            unit = site_services.create_unit(
                acting_user=None, floor=floor, code=f"1F-{number:03d}", kind="shop"
            )
            site_services.create_meter(
                acting_user=None,
                gateway=gateway,
                unit=unit,
                address=address,
                protocol="dlt645_2007",
                profile="dlt645-prepaid-1p",
                cost_control="local",
            )
        yield sim


def test_a_trip_clicked_in_the_console_shows_on_the_live_board(page, site, admin, building):
    with HeadendThread(options=FAST):
        page.goto("/")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", PASSWORD)
        page.click("[data-testid=login-submit]")
        page.wait_for_selector("[data-testid=sidebar]")

        page.goto(f"/board/?site={site.pk}")
        tile = page.locator(f"[data-testid=meter-tile][data-address='{ADDRESSES[1]}']")
        # Read by the headend: the tile leaves "not opened" for the meter's real state.
        page.wait_for_function(
            "a => document.querySelector(`[data-testid=meter-tile][data-address='${a}']`)"
            "?.dataset.state === 'opened'",
            arg=ADDRESSES[1],
            timeout=20_000,
        )
        assert tile.get_attribute("data-relay") != "open"

        # Trip it from its meter page, in a second tab, while the board stays open.
        meter_page = page.context.new_page()
        tile_link = tile.get_attribute("href") or tile.locator("a").first.get_attribute("href")
        meter_page.goto(tile_link)
        meter_page.click("[data-testid=command-button-trip]")
        meter_page.wait_for_selector("[data-testid=command-row]")

        # The board polls: without a reload the tile shows the relay open.
        page.wait_for_function(
            "a => document.querySelector(`[data-testid=meter-tile][data-address='${a}']`)"
            "?.dataset.relay === 'open'",
            arg=ADDRESSES[1],
            timeout=20_000,
        )
        assert building.inspect(ADDRESSES[1])["relay"] == "open"
        assert building.inspect(ADDRESSES[0])["relay"] == "closed"
