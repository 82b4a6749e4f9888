"""Tariff resolution: meter > group > site, the latest started assignment, versions by start,
the timeline priced across an assignment change; and the board levels billing feeds."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tests.domain.billing.billing_helpers import START, at, open_account, post_amount

from openprepaid.calc.tariffs import Registers, price_interval
from openprepaid.domain.billing.models import BillingSettings, MeterThresholds
from openprepaid.domain.billing.pricing import Pricer, schedule_for, site_zone
from openprepaid.domain.billing.services.tariffs import (
    add_tariff_version,
    assign_tariff,
    create_meter_group,
    create_tariff,
)
from openprepaid.domain.metering.models import MeterStatus
from openprepaid.domain.metering.selectors import BoardState, meter_states

pytestmark = pytest.mark.django_db


def flat(admin, site, code, price, start=START):
    return create_tariff(
        acting_user=admin,
        site=site,
        code=code,
        name=code,
        kind="flat",
        definition={"price": price},
        effective_from=start,
    )


def charge(schedule, start, end, energy) -> Decimal:
    return price_interval(
        schedule,
        start=start,
        end=end,
        before=Registers(Decimal("0.00")),
        after=Registers(Decimal(energy)),
        cycle_energy=Decimal(0),
        cycle_key="",
        tz=site_zone(),
    ).amount_exact


def test_the_timeline_follows_assignments_and_versions(admin, site, make_meter):
    meter = make_meter()
    site_tariff = flat(admin, site, "S", "0.8000")
    add_tariff_version(
        acting_user=admin, tariff=site_tariff, definition={"price": "0.9000"}, effective_from=at(2)
    )
    own = flat(admin, site, "M", "1.5000")
    assign_tariff(acting_user=admin, tariff=site_tariff, scope="site", effective_from=START)
    assign_tariff(acting_user=admin, tariff=own, scope="meter", meter=meter, effective_from=at(4))
    schedule = schedule_for(meter)
    assert [(start, spec.price) for start, spec in schedule.versions] == [
        (START, Decimal("0.8000")),
        (at(2), Decimal("0.9000")),
        (at(4), Decimal("1.5000")),
    ]
    # 6 kWh over 6 hours: 2 × 0.8 + 2 × 0.9 + 2 × 1.5 = 6.4
    assert charge(schedule, START, at(6), "6.00") == Decimal("6.4")


def test_group_beats_site_and_meter_beats_group(admin, site, make_meter):
    alone, grouped = make_meter(), make_meter()
    group = create_meter_group(acting_user=admin, site=site, name="G", meters=[grouped])
    site_tariff, group_tariff = flat(admin, site, "S", "0.8000"), flat(admin, site, "G", "0.6000")
    assign_tariff(acting_user=admin, tariff=group_tariff, scope="group", group=group,
                  effective_from=START)  # fmt: skip
    assign_tariff(acting_user=admin, tariff=site_tariff, scope="site", effective_from=at(1))
    pricer = Pricer([alone.pk, grouped.pk])
    assert [s.price for _at, s in pricer.schedule(grouped.pk).versions] == [Decimal("0.6000")]
    assert [s.price for _at, s in pricer.schedule(alone.pk).versions] == [Decimal("0.8000")]
    assert Pricer.starts_at(pricer.schedule(alone.pk)) == at(1)


def test_no_tariff_no_schedule(make_meter):
    assert schedule_for(make_meter()) is None


def test_a_later_site_assignment_replaces_the_earlier(admin, site, make_meter):
    meter = make_meter()
    first, second = flat(admin, site, "A", "0.8000"), flat(admin, site, "B", "1.0000")
    assign_tariff(acting_user=admin, tariff=first, scope="site", effective_from=START)
    assign_tariff(acting_user=admin, tariff=second, scope="site", effective_from=at(10))
    schedule = schedule_for(meter)
    assert [(start, spec.price) for start, spec in schedule.versions] == [
        (START, Decimal("0.8000")),
        (at(10), Decimal("1.0000")),
    ]


# ------------------------------------------------------------------------------------ board


def test_remote_meters_show_their_accounts_level(make_meter, register):
    meter = make_meter()
    MeterStatus.objects.create(meter=meter, last_seen_at=at(0))
    account = open_account(register(meter), amount="30.00")
    assert meter_states([meter])[meter.pk].state == BoardState.ALARM_1
    post_amount(account, "-31.00", "spend")
    assert meter_states([meter])[meter.pk].state == BoardState.ARREARS


def test_local_meters_compare_with_their_thresholds(make_meter, site):
    meter = make_meter(cost_control="local")
    MeterStatus.objects.create(
        meter=meter, last_seen_at=at(0), account_opened=True, remaining=Decimal("70.00")
    )
    assert meter_states([meter])[meter.pk].state == BoardState.OPENED
    BillingSettings.objects.create(site=site, alarm_1=Decimal("80.00"))
    assert meter_states([meter])[meter.pk].state == BoardState.ALARM_1
    MeterThresholds.objects.create(meter=meter, alarm_2=Decimal("75.00"))
    assert meter_states([meter])[meter.pk].state == BoardState.ALARM_2
    MeterThresholds.objects.filter(meter=meter).update(alarm_1=Decimal("60.00"), alarm_2=None)
    assert meter_states([meter])[meter.pk].state == BoardState.OPENED
