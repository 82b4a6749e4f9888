from __future__ import annotations

import pytest

from openprepaid.domain.audit.models import SystemLog
from openprepaid.domain.errors import ConflictError, PermissionDeniedError, ServiceError
from openprepaid.domain.sites import services
from openprepaid.domain.sites.models import Gateway, Meter, Unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def floor(site):
    return services.ensure_floor(acting_user=None, site=site, building_name="A", floor_name="1F")


@pytest.fixture
def unit(floor):
    return services.create_unit(acting_user=None, floor=floor, code="A-101", kind="shop")


@pytest.fixture
def gateway(site):
    return services.create_gateway(
        acting_user=None,
        site=site,
        name="A-1F-GW1",
        transport="transparent_tcp",
        host="127.0.0.1",
        port=10001,
    )


def make_meter(gateway, unit, user=None, **over):
    fields = dict(
        gateway=gateway,
        unit=unit,
        address="12",
        protocol="dlt645_2007",
        profile="dlt645-prepaid-1p",
    )
    return services.create_meter(acting_user=user, **(fields | over))


def log_for(obj):
    return list(
        SystemLog.objects.filter(object_type=obj._meta.model_name, object_id=str(obj.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


@pytest.mark.parametrize(
    ("name", "level"),
    [
        ("B2", -2),
        ("B1", -1),
        ("1F", 1),
        ("F12", 12),
        ("3", 3),
        ("5层", 5),
        ("地下1层", -1),
        ("RF", 0),
    ],
)
def test_floor_level(name, level):
    assert services.floor_level(name) == level


def test_ensure_floor_creates_once_and_logs(site):
    first = services.ensure_floor(acting_user=None, site=site, building_name="B", floor_name="B1")
    again = services.ensure_floor(acting_user=None, site=site, building_name="B", floor_name="B1")
    assert first.pk == again.pk
    assert first.level == -1
    assert log_for(first) == ["floor.create"]
    assert log_for(first.building) == ["building.create"]


def test_create_meter_pads_the_address_and_logs_after(gateway, unit, operations):
    meter = make_meter(gateway, unit, operations)
    assert meter.address == "000000000012"
    row = SystemLog.objects.get(action="meter.create")
    assert row.actor == operations
    assert row.site_id == gateway.site_id
    assert row.after["address"] == "000000000012"
    assert row.after["gateway"] == gateway.pk
    assert row.before is None


def test_update_logs_only_changed_fields_and_nothing_when_unchanged(gateway, unit, operations):
    meter = make_meter(gateway, unit)
    services.update_meter(meter, acting_user=operations, ct_ratio=20, phases=1)
    row = SystemLog.objects.filter(action="meter.update").get()
    assert row.before == {"ct_ratio": 1}
    assert row.after == {"ct_ratio": 20}
    services.update_meter(meter, acting_user=operations, ct_ratio=20)
    assert SystemLog.objects.filter(action="meter.update").count() == 1
    assert Meter.objects.get(pk=meter.pk).ct_ratio == 20


def test_dlt645_meter_refused_on_modbus_tcp_gateway(site, unit):
    modbus_gw = services.create_gateway(
        acting_user=None, site=site, name="GW-M", transport="modbus_tcp", host="h", port=502
    )
    with pytest.raises(ServiceError) as error:
        make_meter(modbus_gw, unit)
    assert "gateway" in error.value.field_errors
    assert not Meter.objects.exists()
    make_meter(modbus_gw, unit, address="7", protocol="modbus_rtu", profile="acrel-ddsy1352")


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"profile": "acrel-ddsy1352"}, "profile"),  # a Modbus model on a 645 meter
        ({"profile": "no-such-model"}, "profile"),
        ({"profile": "dlt645-prepaid-3p", "phases": 1}, "phases"),
        ({"address": "ABC"}, "address"),
        ({"address": "999999999999"}, "address"),  # broadcast
        ({"protocol": "modbus_rtu", "profile": "acrel-ddsy1352", "address": "300"}, "address"),
    ],
)
def test_meter_validation_names_the_field(gateway, unit, over, field):
    with pytest.raises(ServiceError) as error:
        make_meter(gateway, unit, **over)
    assert field in error.value.field_errors
    assert not Meter.objects.exists()
    assert not SystemLog.objects.filter(action="meter.create").exists()


def test_duplicate_address_is_a_field_error(gateway, unit):
    make_meter(gateway, unit)
    with pytest.raises(ServiceError) as error:
        make_meter(gateway, unit, address="000000000012")
    assert "Another meter on this gateway has this address." in error.value.message
    assert Meter.objects.count() == 1


def test_meter_on_another_sites_unit_refused(gateway, other_site):
    floor = services.ensure_floor(
        acting_user=None, site=other_site, building_name="T", floor_name="1F"
    )
    foreign_unit = services.create_unit(acting_user=None, floor=floor, code="T-1", kind="office")
    with pytest.raises(ServiceError) as error:
        make_meter(gateway, foreign_unit)
    assert "unit" in error.value.field_errors


def test_switching_transport_clears_the_other_endpoint(gateway):
    services.update_gateway(
        gateway, acting_user=None, transport="serial", serial_device="/dev/ttyUSB0"
    )
    gateway.refresh_from_db()
    assert (gateway.host, gateway.port, gateway.serial_device) == ("", None, "/dev/ttyUSB0")
    assert gateway.endpoint == "/dev/ttyUSB0 2400 8E1"


def test_retire_gateway_refused_while_it_has_meters(gateway, unit):
    meter = make_meter(gateway, unit)
    with pytest.raises(ConflictError):
        services.retire_gateway(gateway, acting_user=None)
    services.retire_meter(meter, acting_user=None)
    services.retire_gateway(gateway, acting_user=None)
    assert Gateway.objects.get(pk=gateway.pk).status == "retired"
    assert log_for(meter) == ["meter.create", "meter.retire"]
    with pytest.raises(ConflictError):
        services.update_gateway(gateway, acting_user=None, location="roof")


def test_retired_unit_refuses_changes_and_new_meters(unit, gateway):
    services.retire_unit(unit, acting_user=None)
    assert Unit.objects.get(pk=unit.pk).status == "retired"
    with pytest.raises(ConflictError):
        services.update_unit(unit, acting_user=None, name="x")
    with pytest.raises(ServiceError):
        make_meter(gateway, unit)


def test_opened_meter_keeps_its_identity(gateway, unit):
    meter = make_meter(gateway, unit)
    Meter.objects.filter(pk=meter.pk).update(lifecycle="opened")
    meter.refresh_from_db()
    with pytest.raises(ConflictError):
        services.update_meter(meter, acting_user=None, address="13")
    with pytest.raises(ConflictError):
        services.retire_meter(meter, acting_user=None)
    services.update_meter(meter, acting_user=None, ct_ratio=5)


@pytest.mark.parametrize("role", ["cashier", "auditor"])
def test_roles_without_configure_cannot_touch_gateways(make_operator, site, gateway, role):
    user = make_operator(role)
    before = SystemLog.objects.count()
    with pytest.raises(PermissionDeniedError):
        services.create_gateway(
            acting_user=user, site=site, name="X", transport="modbus_tcp", host="h", port=1
        )
    with pytest.raises(PermissionDeniedError):
        services.update_gateway(gateway, acting_user=user, location="roof")
    with pytest.raises(PermissionDeniedError):
        services.retire_gateway(gateway, acting_user=user)
    gateway.refresh_from_db()
    assert gateway.location == ""
    assert gateway.status == "active"
    assert Gateway.objects.count() == 1
    assert SystemLog.objects.count() == before


def test_site_limited_operator_cannot_configure_another_site(make_operator, site, other_site):
    limited = make_operator("operations", sites=[site])
    services.ensure_floor(acting_user=limited, site=site, building_name="A", floor_name="2F")
    with pytest.raises(PermissionDeniedError):
        services.ensure_floor(
            acting_user=limited, site=other_site, building_name="A", floor_name="2F"
        )
    with pytest.raises(PermissionDeniedError):
        services.create_site(acting_user=limited, code="NEW", name="New")


def test_only_unlimited_administrators_create_sites(make_operator, admin):
    services.create_site(acting_user=admin, code="NEW", name="New")
    for role in ("operations", "cashier", "auditor"):
        with pytest.raises(PermissionDeniedError):
            services.create_site(acting_user=make_operator(role), code=f"N-{role}", name="x")
