"""Tariff, group, threshold and holiday services: validation naming the field, permissions,
system-log rows, versions that only grow, and thresholds pushed to local meters."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from tests.domain.billing.billing_helpers import FLAT, START, TIERED, at, open_account

from openprepaid.domain.audit.models import SystemLog
from openprepaid.domain.billing.models import (
    AccountBalance,
    BillingAlarm,
    BillingSettings,
    Holiday,
    MeterThresholds,
    TariffVersion,
)
from openprepaid.domain.billing.services import settings as settings_services
from openprepaid.domain.billing.services import tariffs as tariff_services
from openprepaid.domain.errors import ConflictError, PermissionDeniedError, ServiceError
from openprepaid.domain.metering.models import Command

pytestmark = pytest.mark.django_db


def create(admin, site, **overrides):
    fields = {
        "acting_user": admin,
        "site": site,
        "code": "F1",
        "name": "Flat",
        "kind": "flat",
        "definition": FLAT,
        "effective_from": START,
    }
    fields.update(overrides)
    return tariff_services.create_tariff(**fields)


def test_create_tariff_with_its_first_version_and_a_log_row(admin, site):
    tariff = create(admin, site, definition={"price": "0.8"})
    (version,) = TariffVersion.objects.filter(tariff=tariff)
    assert version.definition == {"price": "0.8000"}  # the normal form
    assert version.effective_from == START
    log = SystemLog.objects.get(action="tariff.create")
    assert log.after["code"] == "F1"


def test_a_wrong_definition_names_the_field(admin, site):
    with pytest.raises(ServiceError) as raised:
        create(admin, site, kind="tiered", definition={**TIERED, "tiers": [{"up_to": None}]})
    assert raised.value.code == "tariff_definition"
    assert raised.value.field_errors == {"definition.tiers[0].price": ["missing"]}
    with pytest.raises(ServiceError) as raised:
        create(admin, site, definition={"price": "0.12345"})
    assert list(raised.value.field_errors) == ["definition.price"]


def test_unknown_kind_and_taken_code(admin, site):
    with pytest.raises(ServiceError) as raised:
        create(admin, site, kind="cheap")
    assert raised.value.field_errors == {"kind": ["Unknown tariff kind."]}
    create(admin, site)
    with pytest.raises(ConflictError) as raised:
        create(admin, site)
    assert raised.value.code == "tariff_code_taken"


def test_only_configure_may_change_tariffs(cashier, operations, site):
    with pytest.raises(PermissionDeniedError):
        create(cashier, site)
    assert create(operations, site).code == "F1"


def test_versions_only_grow(admin, site):
    tariff = create(admin, site)
    later = tariff_services.add_tariff_version(
        acting_user=admin, tariff=tariff, definition={"price": "0.9000"}, effective_from=at(24)
    )
    assert later.definition == {"price": "0.9000"}
    with pytest.raises(ConflictError) as raised:
        tariff_services.add_tariff_version(
            acting_user=admin, tariff=tariff, definition={"price": "1.0000"}, effective_from=at(12)
        )
    assert raised.value.code == "version_order"
    assert TariffVersion.objects.filter(tariff=tariff).count() == 2
    assert SystemLog.objects.filter(action="tariff.add_version").count() == 1


def test_assignment_scopes_and_resolution(admin, site, make_meter):
    from openprepaid.domain.billing.pricing import sale_unit_price

    site_tariff = create(admin, site, code="S", definition={"price": "0.8000"})
    group_tariff = create(admin, site, code="G", definition={"price": "0.9000"})
    meter_tariff = create(admin, site, code="M", definition={"price": "1.1000"})
    alone, grouped, own = make_meter(), make_meter(), make_meter()
    group = tariff_services.create_meter_group(
        acting_user=admin, site=site, name="餐饮", meters=[grouped, own]
    )
    tariff_services.assign_tariff(
        acting_user=admin, tariff=site_tariff, scope="site", effective_from=START
    )
    tariff_services.assign_tariff(
        acting_user=admin, tariff=group_tariff, scope="group", group=group, effective_from=START
    )
    tariff_services.assign_tariff(
        acting_user=admin, tariff=meter_tariff, scope="meter", meter=own, effective_from=at(48)
    )
    assert sale_unit_price(alone, at(1)) == Decimal("0.8000")
    assert sale_unit_price(grouped, at(1)) == Decimal("0.9000")
    assert sale_unit_price(own, at(1)) == Decimal("0.9000")  # its own one starts later
    assert sale_unit_price(own, at(49)) == Decimal("1.1000")
    with pytest.raises(ServiceError) as raised:
        sale_unit_price(alone, START - dt.timedelta(days=1))
    assert raised.value.code == "no_tariff"
    with pytest.raises(ServiceError) as raised:
        tariff_services.assign_tariff(acting_user=admin, tariff=site_tariff, scope="group")
    assert raised.value.code == "scope_target"
    tariff_services.set_group_meters(acting_user=admin, group=group, meters=[grouped])
    assert list(group.meters.all()) == [grouped]
    assert SystemLog.objects.filter(action="tariff.assign").count() == 3


def test_tiered_sale_price_follows_the_cycle_energy(admin, site, make_meter):
    from openprepaid.domain.billing.models import MeterBilling
    from openprepaid.domain.billing.pricing import sale_unit_price

    tariff = create(admin, site, kind="tiered", definition=TIERED)
    tariff_services.assign_tariff(
        acting_user=admin, tariff=tariff, scope="site", effective_from=START
    )
    meter = make_meter()
    assert sale_unit_price(meter, at(1)) == Decimal("0.5000")
    MeterBilling.objects.create(meter=meter, cycle_key="2026-01", cycle_energy=Decimal("12"))
    assert sale_unit_price(meter, at(1)) == Decimal("0.8000")
    assert sale_unit_price(meter, at(24 * 30)) == Decimal("0.5000")  # February: a new cycle


def test_settings_change_reevaluates_levels_and_pushes_to_local_meters(
    admin, site, make_meter, register
):
    remote, local = make_meter(), make_meter(cost_control="local")
    account = open_account(register(remote), amount="60.00")
    assert AccountBalance.objects.get(account=account).level == "normal"
    billing = settings_services.update_billing_settings(
        acting_user=admin, site=site, alarm_1="80.00", friendly_from=dt.time(22, 0)
    )
    assert billing.alarm_1 == Decimal("80.00")
    assert AccountBalance.objects.get(account=account).level == "alarm_1"
    assert BillingAlarm.objects.filter(account=account, level_to="alarm_1").count() == 1
    (command,) = Command.objects.filter(kind="push_settings")
    assert command.meter == local
    assert command.params == {
        "alarm_1": "80.00",
        "alarm_2": "20.00",
        "overdraft_limit": "0.00",
        "close_allowed_limit": "0.00",
    }
    log = SystemLog.objects.get(action="billing_settings.update")
    assert log.before["alarm_1"] == "50.00"
    assert log.after["alarm_1"] == "80.00"


def test_settings_refuse_contradictions(admin, site):
    with pytest.raises(ServiceError) as raised:
        settings_services.update_billing_settings(acting_user=admin, site=site, alarm_2="60.00")
    assert raised.value.code == "alarm_order"
    with pytest.raises(ServiceError) as raised:
        settings_services.update_billing_settings(
            acting_user=admin, site=site, overdraft_limit="-1.00"
        )
    assert "overdraft_limit" in raised.value.field_errors
    with pytest.raises(ServiceError) as raised:
        settings_services.update_billing_settings(acting_user=admin, site=site, colour="red")
    assert raised.value.code == "unknown"
    assert not BillingSettings.objects.exclude(alarm_2=Decimal("20.00")).exists()


def test_meter_thresholds_override_and_clear(admin, site, make_meter):
    meter = make_meter(cost_control="local")
    row = settings_services.set_meter_thresholds(acting_user=admin, meter=meter, alarm_1="70.00")
    assert row.alarm_1 == Decimal("70.00")
    command = Command.objects.get(kind="push_settings", meter=meter)
    assert command.params["alarm_1"] == "70.00"
    assert (
        settings_services.set_meter_thresholds(acting_user=admin, meter=meter, alarm_1="") is None
    )
    assert not MeterThresholds.objects.filter(meter=meter).exists()
    assert SystemLog.objects.filter(action="meter_thresholds.set").count() == 2


def test_holidays(admin, site, operations, cashier):
    day = dt.date(2026, 10, 1)
    holiday = settings_services.add_holiday(acting_user=operations, site=site, day=day, name="国庆")
    with pytest.raises(ConflictError):
        settings_services.add_holiday(acting_user=admin, site=site, day=day)
    with pytest.raises(PermissionDeniedError):
        settings_services.remove_holiday(acting_user=cashier, holiday=holiday)
    settings_services.remove_holiday(acting_user=admin, holiday=holiday)
    assert not Holiday.objects.exists()
    actions = SystemLog.objects.filter(action__startswith="holiday").values_list(
        "action", flat=True
    )
    assert sorted(actions) == ["holiday.add", "holiday.remove"]


def test_unchanged_thresholds_push_nothing(admin, site, make_meter):
    make_meter(cost_control="local")
    settings_services.update_billing_settings(
        acting_user=admin, site=site, alarm_1="50.00", alarm_2="20.00", receipt_prefix="XG"
    )
    assert not Command.objects.filter(kind="push_settings").exists()
    assert BillingSettings.objects.get(site=site).receipt_prefix == "XG"
