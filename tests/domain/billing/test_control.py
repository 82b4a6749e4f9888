"""Automatic control: thresholds → alarm levels (one alarm per change), the account's relay
intent for remote meters, and what the headend is asked to do (operator overrides, keep power,
friendly hours and holidays)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from tests.domain.billing.billing_helpers import open_account, post_amount

from openprepaid.domain.billing import control
from openprepaid.domain.billing.ledger import lock_balance
from openprepaid.domain.billing.models import (
    AccountBalance,
    BillingAlarm,
    BillingSettings,
    Holiday,
    MeterThresholds,
)
from openprepaid.domain.metering.models import MeterStatus
from openprepaid.domain.metering.repository import DjangoRepository
from openprepaid.headend.model import DesiredRelay

pytestmark = pytest.mark.django_db


@pytest.fixture
def remote(make_meter, register):
    meter = make_meter(cost_control="remote")
    account = open_account(register(meter))  # 100.00
    MeterStatus.objects.update_or_create(
        meter=meter, defaults={"relay_open": False, "keep_power": False}
    )
    return meter, account


def levels(account) -> list[tuple[str, str, Decimal]]:
    return list(
        BillingAlarm.objects.filter(account=account, kind="level")
        .order_by("id")
        .values_list("level_from", "level_to", "balance")
    )


def desired(meter) -> DesiredRelay:
    (control_row,) = [
        c for c in DjangoRepository().controls(meter.gateway_id) if c.meter_id == meter.pk
    ]
    return control_row.desired_relay


def spend(account, amount: str, key: str) -> None:
    post_amount(account, f"-{amount}", key)


def test_levels_change_once_per_change(remote):
    _meter, account = remote
    assert AccountBalance.objects.get(account=account).level == "normal"
    spend(account, "55.00", "a")  # 45.00 → alarm 1
    spend(account, "5.00", "b")  # 40.00, still alarm 1
    spend(account, "20.00", "c")  # 20.00 → alarm 2 (at the level exactly)
    spend(account, "20.01", "d")  # -0.01 → arrears
    assert levels(account) == [
        ("normal", "alarm_1", Decimal("45.00")),
        ("alarm_1", "alarm_2", Decimal("20.00")),
        ("alarm_2", "arrears", Decimal("-0.01")),
    ]
    assert AccountBalance.objects.get(account=account).level == "arrears"
    post_amount(account, "200.00", "e")
    assert levels(account)[-1] == ("arrears", "normal", Decimal("199.99"))


def test_arrears_wants_the_remote_meter_open_and_recharge_closes(remote):
    meter, account = remote
    assert desired(meter) is DesiredRelay.CLOSED  # opened with money
    spend(account, "100.01", "a")
    assert MeterStatus.objects.get(meter=meter).account_relay == "open"
    assert desired(meter) is DesiredRelay.OPEN
    post_amount(account, "0.01", "b")  # 0.00: not above the close-allowed limit, stays open
    assert desired(meter) is DesiredRelay.OPEN
    post_amount(account, "10.00", "c")
    assert desired(meter) is DesiredRelay.CLOSED


def test_overdraft_limit_allows_a_negative_balance(remote, site):
    meter, account = remote
    BillingSettings.objects.update_or_create(site=site, defaults={"overdraft_limit": 10})
    spend(account, "110.00", "a")  # -10.00: at the limit, allowed
    assert desired(meter) is DesiredRelay.CLOSED
    spend(account, "0.01", "b")
    assert desired(meter) is DesiredRelay.OPEN


def test_keep_power_prevents_the_trip(remote):
    meter, account = remote
    MeterStatus.objects.filter(meter=meter).update(desired_keep_power=True)
    spend(account, "150.00", "a")
    (row,) = DjangoRepository().controls(meter.gateway_id)
    assert row.desired_relay is DesiredRelay.AUTO
    assert row.desired_keep_power is True
    MeterStatus.objects.filter(meter=meter).update(desired_keep_power=False)
    assert desired(meter) is DesiredRelay.OPEN


def test_operator_override_wins(remote):
    meter, account = remote
    spend(account, "150.00", "a")
    MeterStatus.objects.filter(meter=meter).update(desired_relay="closed")
    assert desired(meter) is DesiredRelay.CLOSED


def test_friendly_hours_hold_back_the_trip(remote, site, monkeypatch):
    meter, account = remote
    BillingSettings.objects.update_or_create(
        site=site, defaults={"friendly_from": dt.time(18, 0), "friendly_until": dt.time(8, 0)}
    )
    spend(account, "150.00", "a")
    shanghai = control.site_zone()
    evening = dt.datetime(2026, 3, 4, 20, 0, tzinfo=shanghai)  # a Wednesday
    monkeypatch.setattr("django.utils.timezone.now", lambda: evening)
    assert desired(meter) is DesiredRelay.AUTO
    monkeypatch.setattr("django.utils.timezone.now", lambda: evening.replace(hour=9))
    assert desired(meter) is DesiredRelay.OPEN  # friendly time over: the trip goes ahead


def test_holidays_and_weekends_hold_back_the_trip(remote, site, monkeypatch):
    meter, account = remote
    spend(account, "150.00", "a")
    shanghai = control.site_zone()
    wednesday = dt.datetime(2026, 3, 4, 12, 0, tzinfo=shanghai)
    monkeypatch.setattr("django.utils.timezone.now", lambda: wednesday)
    assert desired(meter) is DesiredRelay.OPEN
    Holiday.objects.create(site=site, day=dt.date(2026, 3, 4), name="节日")
    assert desired(meter) is DesiredRelay.AUTO
    saturday = dt.datetime(2026, 3, 7, 12, 0, tzinfo=shanghai)
    monkeypatch.setattr("django.utils.timezone.now", lambda: saturday)
    assert desired(meter) is DesiredRelay.OPEN
    BillingSettings.objects.filter(site=site).update(friendly_weekends=True)
    assert desired(meter) is DesiredRelay.AUTO


def test_local_meters_keep_their_own_rule(make_meter, register):
    meter = make_meter(cost_control="local")
    account = open_account(register(meter))
    spend(account, "150.00", "a")
    assert AccountBalance.objects.get(account=account).level == "arrears"
    assert not MeterStatus.objects.filter(meter=meter).exclude(account_relay="auto").exists()


def test_several_meters_the_most_cautious_override_wins(make_meter, register, site):
    first, second = make_meter(), make_meter()
    MeterThresholds.objects.create(meter=first, alarm_1=Decimal("80.00"), overdraft_limit=5)
    MeterThresholds.objects.create(
        meter=second, alarm_1=Decimal("60.00"), alarm_2=Decimal("30.00"), overdraft_limit=20
    )
    account = open_account(register(first, second))
    thresholds = control.thresholds_for_account(account.pk)
    assert thresholds.alarm_1 == Decimal("80.00")
    assert thresholds.alarm_2 == Decimal("30.00")
    assert thresholds.overdraft_limit == Decimal("5.00")
    assert thresholds.close_allowed_limit == Decimal("0.00")
    spend(account, "25.00", "a")  # 75.00 → alarm 1 at 80
    assert AccountBalance.objects.get(account=account).level == "alarm_1"


def test_after_post_without_change_writes_no_alarm(remote):
    _meter, account = remote
    with transaction.atomic():
        row = lock_balance(account.pk)
        control.after_post([row])
        control.after_post([row])
    assert levels(account) == []


def test_the_reconciler_trips_on_arrears_and_closes_after_a_recharge(remote):
    from dataclasses import replace

    from openprepaid.headend.model import CommandKind
    from openprepaid.headend.reconcile import decide

    meter, account = remote
    spend(account, "100.01", "a")
    (row,) = DjangoRepository().controls(meter.gateway_id)
    assert decide(row, has_pending=False) is CommandKind.TRIP
    kept = replace(row, desired_keep_power=True, reported_keep_power=True)
    MeterStatus.objects.filter(meter=meter).update(desired_keep_power=True, keep_power=True)
    (held,) = DjangoRepository().controls(meter.gateway_id)
    assert decide(held, has_pending=False) is None
    assert decide(kept, has_pending=False) is None  # even an open intent cannot trip
    MeterStatus.objects.filter(meter=meter).update(
        desired_keep_power=False, keep_power=False, relay_open=True
    )
    post_amount(account, "50.00", "b")
    (row,) = DjangoRepository().controls(meter.gateway_id)
    assert decide(row, has_pending=False) is CommandKind.CLOSE
