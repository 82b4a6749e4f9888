"""The sample site's tables: deterministic, within the wiring limits, and self-consistent."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from decimal import Decimal

import pytest

from openprepaid.domain.sample.sitegen import sample_site_tables
from openprepaid.protocol.profiles import PROFILES

COLUMNS = {
    "gateways": {
        "site",
        "name",
        "transport",
        "host",
        "port",
        "serial_device",
        "baud_rate",
        "parity",
        "location",
    },
    "units": {"site", "building", "floor", "code", "name", "kind", "area"},
    "meters": {
        "site",
        "gateway",
        "address",
        "protocol",
        "profile",
        "phases",
        "ct_ratio",
        "cost_control",
        "unit",
    },
    "tenants": {"site", "code", "name", "kind", "contact_name", "mobile", "units"},
}


@pytest.fixture(scope="module")
def tables():
    return sample_site_tables()


def _counts(tables) -> dict[str, object]:
    return {
        "rows": {key: len(rows) for key, rows in tables.items()},
        "protocols": Counter(m["protocol"] for m in tables["meters"]),
        "per_gateway": Counter(m["gateway"] for m in tables["meters"]),
        "kinds": Counter(u["kind"] for u in tables["units"]),
        "units_per_tenant": Counter(len(t["units"].split(";")) for t in tables["tenants"]),
    }


def test_same_seed_same_tables(tables):
    assert sample_site_tables(2026) == tables
    assert sample_site_tables(7) == sample_site_tables(7)


def test_other_seed_other_names_same_counts(tables):
    other = sample_site_tables(7)
    assert [u["name"] for u in other["units"]] != [u["name"] for u in tables["units"]]
    assert [t["mobile"] for t in other["tenants"]] != [t["mobile"] for t in tables["tenants"]]
    assert _counts(other) == _counts(tables)


def test_tables_and_columns(tables):
    assert set(tables) == set(COLUMNS)
    for key, rows in tables.items():
        for row in rows:
            assert set(row) == COLUMNS[key]
            assert all(isinstance(value, str) for value in row.values())
            assert row["site"] == "DEMO"


def test_sizes(tables):
    units = tables["units"]
    assert {u["building"] for u in units} == {"A座", "B座"}
    assert len(tables["gateways"]) == 22
    assert 680 <= len(units) <= 720
    assert len(tables["meters"]) == len(units)  # one meter a unit
    kinds = Counter(u["kind"] for u in units)
    assert set(kinds) == {"shop", "office", "stall", "restaurant", "public", "other"}
    assert {u["floor"] for u in units if u["building"] == "A座"} == {
        "B1",
        *(f"{n}F" for n in range(1, 7)),
    }


def test_gateways(tables):
    gateways = tables["gateways"]
    assert [g["port"] for g in gateways] == [str(p) for p in range(10001, 10023)]
    assert len({g["name"] for g in gateways}) == 22
    for g in gateways:
        assert re.fullmatch(r"[AB]-(B1|\dF)-GW\d", g["name"])
        assert g["host"] == "127.0.0.1"
        assert g["serial_device"] == ""
        assert g["parity"] == "E"
        assert g["baud_rate"] == {"transparent_tcp": "2400", "modbus_tcp": "9600"}[g["transport"]]
    assert sum(g["transport"] == "modbus_tcp" for g in gateways) >= 4


def test_buses(tables):
    transport = {g["name"]: g["transport"] for g in tables["gateways"]}
    on_bus = defaultdict(list)
    for meter in tables["meters"]:
        on_bus[meter["gateway"]].append(meter)
    assert set(on_bus) == set(transport)
    mixed = 0
    for name, meters in on_bus.items():
        assert len(meters) <= 32, name
        protocols = {m["protocol"] for m in meters}
        if transport[name] == "modbus_tcp":
            assert protocols == {"modbus_rtu"}, name
        mixed += protocols == {"dlt645_2007", "modbus_rtu"}
        ids = [int(m["address"]) for m in meters if m["protocol"] == "modbus_rtu"]
        assert all(1 <= i <= 247 for i in ids)
        assert len(ids) == len(set(ids)), name
    assert mixed >= 1
    assert {m["protocol"] for m in tables["meters"]} == {"dlt645_2007", "modbus_rtu"}


def test_dlt645_addresses_are_12_digits_and_unique(tables):
    addresses = [m["address"] for m in tables["meters"] if m["protocol"] == "dlt645_2007"]
    assert all(re.fullmatch(r"\d{12}", a) and a != "9" * 12 for a in addresses)
    assert len(addresses) == len(set(addresses))


def test_meters_fit_their_profiles(tables):
    units = {u["code"]: u for u in tables["units"]}
    for meter in tables["meters"]:
        profile = PROFILES[meter["profile"]]
        assert profile.protocol == meter["protocol"]
        assert int(meter["phases"]) in profile.phases
        assert 1 <= int(meter["ct_ratio"]) <= 9999
        assert meter["cost_control"] in {"local", "remote"}
        assert meter["unit"] in units
    assert len({m["unit"] for m in tables["meters"]}) == len(tables["meters"])
    local = sum(m["cost_control"] == "local" for m in tables["meters"])
    assert 0.1 < local / len(tables["meters"]) < 0.3
    assert any(m["ct_ratio"] != "1" for m in tables["meters"])
    assert {m["phases"] for m in tables["meters"]} == {"1", "3"}


def test_units(tables):
    codes = [u["code"] for u in tables["units"]]
    assert len(codes) == len(set(codes))
    for unit in tables["units"]:
        if unit["kind"] == "public":
            assert unit["name"]
            continue
        assert re.fullmatch(r"\d+\.\d{2}", unit["area"])
        assert Decimal("5") <= Decimal(unit["area"]) <= Decimal("1000")


def test_tenants(tables):
    tenants = tables["tenants"]
    units = {u["code"]: u for u in tables["units"]}
    assert [t["code"] for t in tenants] == [f"T{n:04d}" for n in range(len(tenants))]
    held = [code for t in tenants for code in t["units"].split(";")]
    assert set(held) <= set(units)
    assert len(held) == len(set(held))  # a unit has at most one tenant
    mobiles = [t["mobile"] for t in tenants]
    assert all(re.fullmatch(r"1[3-9]\d{9}", m) for m in mobiles)
    assert len(mobiles) == len(set(mobiles))
    assert {t["kind"] for t in tenants} == {"person", "company"}
    assert all(t["name"] and t["contact_name"] for t in tenants)

    manager = tenants[0]
    assert manager["code"] == "T0000"
    assert manager["kind"] == "company"
    public = {code for code, u in units.items() if u["kind"] == "public"}
    assert set(manager["units"].split(";")) == public

    rentable = [code for code, u in units.items() if u["kind"] != "public"]
    let = set(held) - public
    assert 0.85 <= len(let) / len(rentable) <= 0.90
    multi = [t for t in tenants[1:] if ";" in t["units"]]
    assert 3 <= len(multi) <= 30
    assert max(len(t["units"].split(";")) for t in multi) == 3


def test_names_are_unique_per_trade(tables):
    named = [u["name"] for u in tables["units"] if u["kind"] not in ("public", "other")]
    tenant_of = {code: t["code"] for t in tables["tenants"][1:] for code in t["units"].split(";")}
    # One name per tenant: units of a shared tenant carry its name, others differ.
    by_tenant = defaultdict(set)
    for unit in tables["units"]:
        if unit["code"] in tenant_of and unit["kind"] != "other":
            by_tenant[tenant_of[unit["code"]]].add(unit["name"])
    assert all(len(names) == 1 for names in by_tenant.values())
    assert len({n for n in named if n}) == len(by_tenant)
