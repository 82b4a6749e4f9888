"""Overload alarms from the readings the headend stores: one alarm per episode, cleared by a
reading at or below the limit; the meter's own limit over the site's; both cost-control modes,
with or without an account."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tests.domain.billing.billing_helpers import at, open_account, reading, store

from openprepaid.domain.billing import overload
from openprepaid.domain.billing.models import BillingAlarm
from openprepaid.domain.billing.services.settings import (
    set_meter_thresholds,
    update_billing_settings,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def site_limit(site, admin):
    update_billing_settings(acting_user=admin, site=site, overload_power_kw="10")


def power(meter, hours: float, kw: str, total: str = "100.00"):
    return reading(meter, at(hours), total, power_kw=kw)


def alarms(meter):
    return list(
        BillingAlarm.objects.filter(meter=meter, kind="overload")
        .order_by("raised_at")
        .values_list("account", "detail", "raised_at", "cleared_at")
    )


def test_one_alarm_per_episode_cleared_at_the_limit(site_limit, make_meter, register):
    meter = make_meter(cost_control="remote")
    account = open_account(register(meter))
    store(power(meter, 0, "8.0000"))
    assert alarms(meter) == []
    store(power(meter, 1, "12.5000"))
    store(power(meter, 2, "13.0000"))  # the same episode
    assert alarms(meter) == [
        (account.pk, "power 12.5000 kW above the limit 10.0000 kW", at(1), None)
    ]
    store(power(meter, 3, "10.0000"))  # at the limit: cleared
    store(power(meter, 4, "9.0000"))
    store(power(meter, 5, "10.0001"))  # a new episode
    assert alarms(meter) == [
        (account.pk, "power 12.5000 kW above the limit 10.0000 kW", at(1), at(3)),
        (account.pk, "power 10.0001 kW above the limit 10.0000 kW", at(5), None),
    ]
    alarm = BillingAlarm.objects.get(meter=meter, cleared_at__isnull=True)
    assert alarm.site_id == meter.gateway.site_id


def test_the_meters_own_limit_wins_and_local_meters_without_account_count(
    site_limit, make_meter, admin
):
    strict = make_meter(cost_control="local")
    loose = make_meter(cost_control="local")
    set_meter_thresholds(acting_user=admin, meter=strict, overload_power_kw="5.5")
    set_meter_thresholds(acting_user=admin, meter=loose, overload_power_kw="20")
    store(power(strict, 0, "6.0000"), power(loose, 0, "15.0000"))
    assert alarms(strict) == [(None, "power 6.0000 kW above the limit 5.5000 kW", at(0), None)]
    assert alarms(loose) == []


def test_no_limit_no_alarm_and_readings_without_power_say_nothing(make_meter, register):
    meter = make_meter()
    open_account(register(meter))
    store(power(meter, 0, "999.0000"))
    assert alarms(meter) == []
    assert overload.check_overload([reading(meter, at(1), "100.00")]) == 0


def test_raised_and_cleared_inside_one_batch(site_limit, make_meter):
    meter = make_meter()
    store(power(meter, 0, "11.0000"), power(meter, 1, "12.0000"), power(meter, 2, "3.0000"))
    assert alarms(meter) == [(None, "power 11.0000 kW above the limit 10.0000 kW", at(0), at(2))]


def test_a_batch_delivered_again_does_not_raise_the_episode_twice(site_limit, make_meter):
    meter = make_meter()
    first = (power(meter, 0, "11.0000"), power(meter, 1, "4.0000"))
    store(*first)
    store(*first)
    assert len(alarms(meter)) == 1
    store(power(meter, 2, "12.0000"))
    store(power(meter, 0, "3.0000"))  # late, older than the open episode: does not clear it
    assert alarms(meter)[-1] == (None, "power 12.0000 kW above the limit 10.0000 kW", at(2), None)


def test_removing_the_limit_clears_the_open_alarm(site, site_limit, make_meter, admin):
    meter = make_meter()
    store(power(meter, 0, "11.0000"))
    update_billing_settings(acting_user=admin, site=site, overload_power_kw="")
    store(power(meter, 1, "11.0000"))
    assert alarms(meter) == [(None, "power 11.0000 kW above the limit 10.0000 kW", at(0), at(1))]


def test_the_check_costs_two_queries_for_a_batch(site_limit, make_meter, django_assert_num_queries):
    meters = [make_meter() for _ in range(20)]
    batch = [power(m, 0, "1.0000") for m in meters] + [power(m, 1, "2.0000") for m in meters]
    with django_assert_num_queries(2):  # the limits, the alarms; nothing to write
        assert overload.check_overload(batch) == 0
    assert overload.meter_limits([meters[0].pk]) == {
        meters[0].pk: (meters[0].gateway.site_id, Decimal("10.0000"))
    }
