"""Site specs: from options and from the console's import tables (the sample site)."""

from __future__ import annotations

import pytest

from openprepaid.domain.sample.sitegen import sample_site_tables
from openprepaid.simulator.sitespec import (
    DLT645,
    MODBUS,
    MODBUS_TCP,
    TRANSPARENT,
    GatewaySpec,
    MeterSpec,
    SiteSpec,
    SiteSpecError,
    site_from_options,
    site_from_tables,
)


def test_sample_tables_give_the_sample_site_meter_for_meter():
    tables = sample_site_tables()
    site = site_from_tables(tables)
    assert site.code == "DEMO"
    assert len(site.gateways) == 22
    assert site.meter_count == len(tables["meters"]) == 695
    assert [g.port for g in site.gateways] == list(range(10001, 10023))
    by_name = {g.name: g for g in site.gateways}
    for row in tables["meters"]:
        gateway = by_name[row["gateway"]]
        meter = next(m for m in gateway.meters if m.address == row["address"])
        assert (meter.protocol, meter.profile, meter.cost_control, meter.unit_code) == (
            row["protocol"],
            row["profile"],
            row["cost_control"],
            row["unit"],
        )
    mixed = by_name["A-6F-GW2"]
    assert mixed.transport == TRANSPARENT
    assert {m.protocol for m in mixed.meters} == {DLT645, MODBUS}
    modbus_tcp = [g for g in site.gateways if g.transport == MODBUS_TCP]
    assert len(modbus_tcp) == 4
    assert all(g.baud_rate == 9600 for g in modbus_tcp)


def test_unit_kind_comes_from_the_units_table():
    site = site_from_tables(sample_site_tables())
    kinds = {m.unit_code: m.unit_kind for _, m in site.meters}
    units = {u["code"]: u["kind"] for u in sample_site_tables()["units"]}
    assert kinds == {code: units[code] for code in kinds}
    assert {"stall", "shop", "restaurant", "office", "public"} <= set(kinds.values())


def test_modbus_meters_get_distinct_twelve_digit_meter_numbers():
    site = site_from_tables(sample_site_tables())
    numbers = [m.meter_number for _, m in site.meters]
    assert len(set(numbers)) == len(numbers)
    assert all(len(n) == 12 and n.isdigit() for n in numbers)
    dlt = [m for _, m in site.meters if m.protocol == DLT645]
    assert all(m.meter_number == m.address for m in dlt)


def test_serial_gateways_are_skipped_and_named():
    tables = {
        "gateways": [
            {"site": "S", "name": "GW1", "transport": "serial", "serial_device": "/dev/ttyUSB0"},
            {"site": "S", "name": "GW2", "transport": "transparent_tcp", "port": "10050"},
        ],
        "units": [],
        "meters": [{"site": "S", "gateway": "GW2", "address": "12", "protocol": "dlt645_2007"}],
    }
    site = site_from_tables(tables)
    assert [g.name for g in site.gateways] == ["GW2"]
    assert site.gateways[0].meters[0].address == "000000000012"
    assert site.skipped == ("GW1: a serial gateway has no TCP port to simulate",)


def test_bad_rows_name_the_row():
    tables = {
        "gateways": [{"site": "S", "name": "GW1", "port": "10050"}],
        "meters": [
            {"site": "S", "gateway": "GW1", "address": "1", "protocol": "dlt645_2007"},
            {"site": "S", "gateway": "GW1", "address": "300", "protocol": "modbus_rtu"},
        ],
    }
    with pytest.raises(SiteSpecError, match="meters row 3: meter '300'"):
        site_from_tables(tables)
    tables["meters"].pop()
    tables["gateways"][0]["port"] = "ten"
    with pytest.raises(SiteSpecError, match="gateways row 2: port 'ten'"):
        site_from_tables(tables)


def test_a_meter_on_an_unlisted_gateway_is_refused():
    tables = {"gateways": [], "meters": [{"site": "S", "gateway": "GW9", "address": "5"}]}
    with pytest.raises(SiteSpecError, match="gateway S GW9 is not listed"):
        site_from_tables(tables)


def test_options_build_the_benchmark_site():
    site = site_from_options(
        gateways=313, meters_per_gateway=32, modbus_tcp_gateways=13, modbus_per_bus=2
    )
    assert site.meter_count == 313 * 32
    assert len({g.port for g in site.gateways}) == 313
    modbus_tcp = [g for g in site.gateways if g.transport == MODBUS_TCP]
    assert len(modbus_tcp) == 13
    assert all(m.protocol == MODBUS for g in modbus_tcp for m in g.meters)
    transparent = site.gateways[0]
    assert [m.protocol for m in transparent.meters[-3:]] == [DLT645, MODBUS, MODBUS]
    addresses = [m.address for _, m in site.meters if m.protocol == DLT645]
    assert len(set(addresses)) == len(addresses)


def test_options_are_reproducible_from_the_seed():
    one = site_from_options(gateways=3, meters_per_gateway=8, seed=7)
    two = site_from_options(gateways=3, meters_per_gateway=8, seed=7)
    other = site_from_options(gateways=3, meters_per_gateway=8, seed=8)
    assert one == two
    assert one != other


def test_ephemeral_ports_do_not_clash_but_fixed_ones_do():
    site = site_from_options(gateways=3, meters_per_gateway=1, first_port=0)
    assert [g.port for g in site.gateways] == [0, 0, 0]
    clash = (GatewaySpec("A", port=10001), GatewaySpec("B", port=10001))
    with pytest.raises(SiteSpecError, match="share a port"):
        SiteSpec(clash)


def test_a_bus_holds_at_most_32_meters_with_distinct_addresses():
    meters = tuple(MeterSpec(str(n), protocol=MODBUS, profile="acrel-ddsy1352") for n in (1, 1))
    with pytest.raises(SiteSpecError, match="address 1 twice"):
        GatewaySpec("GW", meters=meters)
    many = tuple(MeterSpec(str(n)) for n in range(1, 34))
    with pytest.raises(SiteSpecError, match="33 meters on one bus"):
        GatewaySpec("GW", meters=many)
    with pytest.raises(SiteSpecError, match="is not Modbus"):
        GatewaySpec("GW", transport=MODBUS_TCP, meters=(MeterSpec("1"),))


def test_listing_is_json_ready():
    site = site_from_options(gateways=1, meters_per_gateway=2, modbus_per_bus=1)
    listing = site.listing()
    gateway = listing["gateways"][0]
    assert gateway["port"] == 10001
    assert [m["address"] for m in gateway["meters"]] == ["300001000001", "2"]
    assert [m["protocol"] for m in gateway["meters"]] == [DLT645, MODBUS]
