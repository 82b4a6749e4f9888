from __future__ import annotations

import datetime as dt

import pytest

from openprepaid.domain.sites import services as site_services

T0 = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
def floor(site):
    return site_services.ensure_floor(
        acting_user=None, site=site, building_name="A座", floor_name="1F"
    )


@pytest.fixture
def gateway(site):
    return site_services.create_gateway(
        acting_user=None, site=site, name="GW-1", transport="transparent_tcp", host="h", port=1
    )


@pytest.fixture
def make_meter(floor, gateway):
    counter = iter(range(1, 10_000))

    def make(*, cost_control: str = "local", gateway=gateway, floor=floor):
        n = next(counter)
        unit = site_services.create_unit(
            acting_user=None, floor=floor, code=f"{floor.name}-{n:03d}", kind="shop"
        )
        return site_services.create_meter(
            acting_user=None,
            gateway=gateway,
            unit=unit,
            address=f"{n:012d}",
            protocol="dlt645_2007",
            profile="dlt645-prepaid-1p",
            cost_control=cost_control,
        )

    return make


@pytest.fixture
def meter(make_meter):
    return make_meter()
