"""Integrity lives in the database: these rows are written past the services (bulk create,
raw model saves) and the database itself must refuse them."""

from __future__ import annotations

import pytest
from django.db import DataError, IntegrityError, transaction
from django.utils import timezone

from openprepaid.domain.sites.models import Building, Floor, Gateway, Meter, Unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def floor(site):
    building = Building.objects.create(site=site, name="A")
    return Floor.objects.create(building=building, name="1F", level=1)


@pytest.fixture
def unit(site, floor):
    return Unit.objects.create(site=site, floor=floor, code="A-101", kind="shop")


@pytest.fixture
def gateway(site):
    return Gateway.objects.create(
        site=site, name="GW1", transport="transparent_tcp", host="10.0.0.5", port=10001
    )


def meter(gateway, unit, **over):
    fields = dict(
        gateway=gateway,
        unit=unit,
        address="201000000012",
        protocol="dlt645_2007",
        profile="dlt645-prepaid-1p",
    )
    return Meter(**(fields | over))


def refused(make):
    # PostgreSQL refuses an over-long address as a DataError, SQLite through the check.
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        make()


def test_meter_address_unique_on_its_gateway(gateway, unit):
    meter(gateway, unit).save()
    refused(lambda: meter(gateway, unit).save())


def test_same_address_allowed_on_another_gateway(site, gateway, unit):
    other = Gateway.objects.create(
        site=site, name="GW2", transport="transparent_tcp", host="10.0.0.6", port=10001
    )
    meter(gateway, unit).save()
    meter(other, unit).save()
    assert Meter.objects.filter(address="201000000012").count() == 2


def test_retired_meter_frees_its_address(gateway, unit):
    old = meter(gateway, unit)
    old.save()
    Meter.objects.filter(pk=old.pk).update(lifecycle="retired", retired_at=timezone.now())
    meter(gateway, unit).save()
    assert Meter.objects.filter(address="201000000012").count() == 2


@pytest.mark.parametrize(
    ("protocol", "address"),
    [
        ("dlt645_2007", "12345"),  # not padded to 12
        ("dlt645_2007", "2010000000AB"),
        ("dlt645_2007", "2010000000123"),
        ("modbus_rtu", "0"),
        ("modbus_rtu", "248"),
        ("modbus_rtu", "007"),
    ],
)
def test_address_must_fit_the_protocol(gateway, unit, protocol, address):
    refused(lambda: meter(gateway, unit, protocol=protocol, address=address).save())


@pytest.mark.parametrize("address", ["1", "32", "247"])
def test_modbus_unit_ids_accepted(gateway, unit, address):
    meter(gateway, unit, protocol="modbus_rtu", profile="acrel-ddsy1352", address=address).save()


@pytest.mark.parametrize(
    "over",
    [
        {"phases": 2},
        {"ct_ratio": 0},
        {"ct_ratio": 10000},
        {"cost_control": "both"},
        {"lifecycle": "retired"},  # retired without a time
        {"retired_at": timezone.now()},  # a time without being retired
    ],
)
def test_meter_checks(gateway, unit, over):
    refused(lambda: meter(gateway, unit, **over).save())


@pytest.mark.parametrize(
    "fields",
    [
        {"transport": "transparent_tcp", "host": "", "port": 10001},
        {"transport": "modbus_tcp", "host": "10.0.0.9", "port": None},
        {"transport": "modbus_tcp", "host": "10.0.0.9", "port": 70000},
        {"transport": "serial", "serial_device": ""},
        {"transport": "serial", "serial_device": "/dev/ttyUSB0", "host": "10.0.0.9", "port": 1},
        {"transport": "carrier-pigeon", "host": "10.0.0.9", "port": 1},
        {"transport": "modbus_tcp", "host": "10.0.0.9", "port": 502, "baud_rate": 1234},
        {"transport": "modbus_tcp", "host": "10.0.0.9", "port": 502, "parity": "X"},
    ],
)
def test_gateway_transport_checks(site, fields):
    refused(lambda: Gateway.objects.create(site=site, name="GWX", **fields))


def test_gateway_endpoint_and_name_unique_while_active(site, gateway):
    refused(
        lambda: Gateway.objects.create(
            site=site, name="GW-other", transport="modbus_tcp", host="10.0.0.5", port=10001
        )
    )
    refused(
        lambda: Gateway.objects.create(
            site=site, name="GW1", transport="modbus_tcp", host="10.0.0.7", port=502
        )
    )
    Gateway.objects.filter(pk=gateway.pk).update(status="retired")
    Gateway.objects.create(
        site=site, name="GW1", transport="modbus_tcp", host="10.0.0.5", port=10001
    )


def test_unit_code_unique_on_site_and_kind_checked(site, other_site, floor, unit):
    refused(lambda: Unit.objects.create(site=site, floor=floor, code="A-101", kind="shop"))
    refused(lambda: Unit.objects.create(site=site, floor=floor, code="A-102", kind="castle"))
    refused(lambda: Unit.objects.create(site=site, floor=floor, code="A-103", kind="shop", area=-1))
    other_floor = Floor.objects.create(
        building=Building.objects.create(site=other_site, name="A"), name="1F"
    )
    Unit.objects.create(site=other_site, floor=other_floor, code="A-101", kind="shop")


def test_building_and_floor_names_unique(site, floor):
    refused(lambda: Building.objects.create(site=site, name="A"))
    refused(lambda: Floor.objects.create(building=floor.building, name="1F"))


def test_protect_keeps_a_gateway_with_meters(gateway, unit):
    meter(gateway, unit).save()
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        gateway.delete()
