from __future__ import annotations

import pytest
from django.utils import timezone

from openprepaid.domain.audit.models import SystemLog
from openprepaid.domain.errors import ConflictError, PermissionDeniedError, ServiceError
from openprepaid.domain.metering import services
from openprepaid.domain.metering.models import Command, CommandBatch, MeterStatus
from openprepaid.domain.sites import services as site_services
from openprepaid.domain.sites.models import Meter
from openprepaid.headend.model import CommandKind

pytestmark = pytest.mark.django_db


def desired(meter) -> tuple[str, bool]:
    status = MeterStatus.objects.get(meter=meter)
    return status.desired_relay, status.desired_keep_power


@pytest.mark.parametrize("role", ["cashier", "auditor"])
def test_roles_without_meter_control_are_refused(meter, make_operator, role):
    with pytest.raises(PermissionDeniedError):
        services.request_command(
            acting_user=make_operator(role), meter=meter, kind=CommandKind.TRIP
        )
    assert not Command.objects.exists()


@pytest.mark.parametrize("role", ["operations", "administrator"])
def test_operations_and_administrators_may_control_meters(meter, make_operator, role):
    operator = make_operator(role)
    command = services.request_command(acting_user=operator, meter=meter, kind="trip")
    assert (command.state, command.origin, command.requested_by) == ("queued", "operator", operator)
    assert command.expires_at > timezone.now()
    log = SystemLog.objects.get(action="command.trip")
    assert (log.actor, log.object_type, log.object_id) == (operator, "command", str(command.pk))
    assert log.site_id == meter.gateway.site_id
    assert log.after == {"meter": meter.pk, "kind": "trip", "params": {}}


def test_site_scope_is_enforced(meter, make_operator, other_site):
    elsewhere = make_operator("operations", sites=[other_site])
    with pytest.raises(PermissionDeniedError):
        services.request_command(acting_user=elsewhere, meter=meter, kind=CommandKind.CLOSE)
    here = make_operator("operations", sites=[meter.gateway.site])
    services.request_command(acting_user=here, meter=meter, kind=CommandKind.CLOSE)


def test_relay_commands_set_the_desired_state_and_supersede_queued_ones(meter, operations):
    trip = services.request_command(acting_user=operations, meter=meter, kind=CommandKind.TRIP)
    assert desired(meter) == ("open", False)
    sync = services.request_command(acting_user=operations, meter=meter, kind=CommandKind.TIME_SYNC)
    services.request_command(acting_user=operations, meter=meter, kind=CommandKind.KEEP_POWER_ON)
    assert desired(meter) == ("open", True)
    trip.refresh_from_db()
    assert trip.state == "superseded"
    assert Command.objects.get(pk=sync.pk).state == "queued"  # not a relay command
    services.request_command(acting_user=operations, meter=meter, kind=CommandKind.CLOSE_ALLOWED)
    assert desired(meter) == ("closed", True)
    services.request_command(acting_user=operations, meter=meter, kind=CommandKind.RESUME_PREPAID)
    assert desired(meter) == ("auto", False)
    assert Command.objects.filter(state="queued").count() == 2  # resume and the time sync


def test_the_desired_state_survives_the_headend_writing_the_status(meter, operations):
    from openprepaid.domain.metering.repository import DjangoRepository
    from openprepaid.headend.model import Batch, Reading

    services.request_command(acting_user=operations, meter=meter, kind=CommandKind.TRIP)
    DjangoRepository().store(
        Batch(readings=(Reading(meter.pk, timezone.now(), kind="status", relay_open=False),))
    )
    assert desired(meter) == ("open", False)
    assert MeterStatus.objects.get(meter=meter).relay_open is False


def test_parameters_are_checked_and_normalised(meter, operations):
    command = services.request_command(
        acting_user=operations,
        meter=meter,
        kind=CommandKind.PUSH_PRICES,
        params={"prices": ["1.2", "0.9500", 1]},
    )
    assert command.params == {"prices": ["1.2000", "0.9500", "1.0000"]}
    settings = services.request_command(
        acting_user=operations,
        meter=meter,
        kind=CommandKind.PUSH_SETTINGS,
        params={"alarm_1": "50", "overload_power_kw": "6.6"},
    )
    assert settings.params == {"alarm_1": "50.00", "overload_power_kw": "6.6000"}
    bad = [
        (CommandKind.PUSH_PRICES, {"prices": []}),
        (CommandKind.PUSH_PRICES, {"prices": ["1", "1", "1", "1", "1"]}),
        (CommandKind.PUSH_PRICES, {"prices": ["0"]}),
        (CommandKind.PUSH_PRICES, {"prices": ["1.23456"]}),
        (CommandKind.PUSH_PRICES, {"prices": [1.2]}),  # a float is never money
        (CommandKind.PUSH_SETTINGS, {}),
        (CommandKind.PUSH_SETTINGS, {"alarm_3": "1"}),
        (CommandKind.PUSH_SETTINGS, {"alarm_2": "-1"}),
        (CommandKind.PUSH_SETTINGS, {"alarm_2": "1.001"}),
        (CommandKind.TRIP, {"now": True}),
    ]
    for kind, params in bad:
        with pytest.raises(ServiceError) as caught:
            services.request_command(acting_user=operations, meter=meter, kind=kind, params=params)
        assert caught.value.code == "params", params
    with pytest.raises(ServiceError):
        services.request_command(acting_user=operations, meter=meter, kind="explode")
    assert Command.objects.count() == 2


def test_a_retired_meter_takes_no_commands(make_meter, operations):
    meter = make_meter()
    site_services.retire_meter(meter, acting_user=None)
    with pytest.raises(ConflictError):
        services.request_command(acting_user=operations, meter=meter, kind=CommandKind.READ_NOW)


def test_a_batch_is_all_or_nothing(make_meter, operations):
    meters = [make_meter() for _ in range(3)]
    retired = make_meter()
    site_services.retire_meter(retired, acting_user=None)
    with pytest.raises(ConflictError):
        services.request_batch(
            acting_user=operations, meters=[*meters, retired], kind=CommandKind.TRIP
        )
    assert not Command.objects.exists()
    assert not CommandBatch.objects.exists()
    assert not MeterStatus.objects.exists()

    batch = services.request_batch(
        acting_user=operations,
        meters=meters,
        kind=CommandKind.TRIP,
        description=" A座 1F 欠费 ",
    )
    assert batch.description == "A座 1F 欠费"
    assert batch.requested_by == operations
    commands = list(batch.commands.order_by("meter_id"))
    assert [c.meter_id for c in commands] == sorted(m.pk for m in meters)
    assert {c.kind for c in commands} == {"trip"}
    assert set(MeterStatus.objects.values_list("desired_relay", flat=True)) == {"open"}
    (log,) = SystemLog.objects.filter(action="command_batch.trip")
    assert log.after["meters"] == sorted(m.pk for m in meters)
    assert not SystemLog.objects.filter(action="command.trip").exists()


def test_a_batch_stays_on_one_site_and_needs_meters(meter, operations, other_site):
    gateway = site_services.create_gateway(
        acting_user=None, site=other_site, name="GW-9", transport="modbus_tcp", host="x", port=2
    )
    floor = site_services.ensure_floor(
        acting_user=None, site=other_site, building_name="B", floor_name="2F"
    )
    unit = site_services.create_unit(acting_user=None, floor=floor, code="B-1", kind="shop")
    far = Meter.objects.create(
        gateway=gateway, unit=unit, address="5", protocol="modbus_rtu", profile="acrel-ddsy1352"
    )
    with pytest.raises(ServiceError) as caught:
        services.request_batch(acting_user=operations, meters=[meter, far], kind="read_now")
    assert caught.value.code == "several_sites"
    with pytest.raises(ServiceError) as caught:
        services.request_batch(acting_user=operations, meters=[], kind="read_now")
    assert caught.value.code == "no_meters"
