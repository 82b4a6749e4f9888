from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from openprepaid.domain.metering import selectors, services
from openprepaid.domain.metering.models import Command, ContactAlarm, MeterReading, MeterStatus
from openprepaid.domain.metering.repository import DjangoRepository
from openprepaid.domain.metering.selectors import BoardState
from openprepaid.domain.tenants import services as tenant_services
from openprepaid.domain.tenants.models import Account
from openprepaid.headend.model import Batch, CommandKind, CommandOutcome, CommandState, Reading

from .conftest import T0

pytestmark = pytest.mark.django_db


def status(meter, **values) -> MeterStatus:
    return MeterStatus.objects.create(meter=meter, last_seen_at=T0, **values)


@pytest.mark.parametrize(
    ("remaining", "overdraft", "expected"),
    [
        ("50.01", "0.00", "opened"),
        ("50.00", "0.00", "alarm_1"),
        ("20.01", "0.00", "alarm_1"),
        ("20.00", None, "alarm_2"),
        ("0.01", "0.00", "alarm_2"),
        ("0.00", "0.00", "arrears"),
        ("0.00", "3.50", "arrears"),
        (None, None, "opened"),
    ],
)
def test_local_meter_board_state_follows_its_balance(meter, remaining, overdraft, expected):
    status(
        meter,
        account_opened=True,
        remaining=None if remaining is None else Decimal(remaining),
        overdraft=None if overdraft is None else Decimal(overdraft),
    )
    live = selectors.meter_states([meter], now=T0 + dt.timedelta(seconds=120))[meter.pk]
    assert live.state == expected
    assert live.fresh is True
    assert live.remaining == (None if remaining is None else Decimal(remaining))


def test_board_state_rules(make_meter, gateway, cashier):
    unseen = make_meter()
    closed_on_meter = make_meter()
    lost = make_meter()
    on_lost_gateway_later = make_meter()
    remote_open = make_meter(cost_control="remote")
    remote_unsold = make_meter(cost_control="remote")
    status(closed_on_meter, account_opened=False, remaining=Decimal("80.00"))
    status(
        lost,
        account_opened=True,
        remaining=Decimal("80.00"),
        lost_contact=True,
        lost_since=T0,
    )
    status(on_lost_gateway_later, account_opened=True, remaining=Decimal("80.00"), relay_open=True)
    status(remote_open, relay_open=False, keep_power=True)
    status(remote_unsold)
    tenant = tenant_services.create_tenant(
        acting_user=cashier, site=gateway.site, code="T1", name="川味小馆", kind="company"
    )
    account = tenant_services.register_account(
        acting_user=cashier, tenant=tenant, meters=[remote_open]
    )
    Account.objects.filter(pk=account.pk).update(status="open", opened_at=T0)
    meters = [unseen, closed_on_meter, lost, on_lost_gateway_later, remote_open, remote_unsold]

    states = selectors.meter_states(meters, now=T0 + dt.timedelta(seconds=121))
    assert [states[m.pk].state for m in meters] == [
        "not_opened",
        "not_opened",
        "lost",
        "opened",
        "opened",
        "not_opened",
    ]
    assert states[remote_open.pk].keep_power is True
    assert states[on_lost_gateway_later.pk].relay_open is True
    assert states[remote_open.pk].fresh is False  # seen 121 s ago
    assert states[unseen.pk].last_seen_at is None

    ContactAlarm.objects.create(kind="gateway_lost", gateway=gateway, lost_at=T0)
    states = selectors.meter_states(meters, now=T0)
    assert {s.state for s in states.values()} == {BoardState.LOST}


def test_select_meters_by_floor_and_state(make_meter, operations, gateway, floor):
    from openprepaid.domain.sites import services as site_services

    upstairs = site_services.ensure_floor(
        acting_user=None, site=gateway.site, building_name="A座", floor_name="2F"
    )
    low = make_meter()
    rich = make_meter()
    other_floor = make_meter(floor=upstairs)
    status(low, account_opened=True, remaining=Decimal("10.00"))
    status(rich, account_opened=True, remaining=Decimal("500.00"))
    status(other_floor, account_opened=True, remaining=Decimal("10.00"))
    site = gateway.site
    assert selectors.select_meters(operations, site=site, state="alarm_2") == [low, other_floor]
    assert selectors.select_meters(operations, site=site, floor=floor, state="alarm_2") == [low]
    assert selectors.select_meters(operations, site=site, building=floor.building) == [
        low,
        rich,
        other_floor,
    ]


def test_readings_commands_and_batch_progress(meter, make_meter, operations):
    repo = DjangoRepository()
    repo.store(
        Batch(
            readings=tuple(
                Reading(meter.pk, T0 + dt.timedelta(minutes=30 * n), energy_total=Decimal(n))
                for n in range(3)
            )
        )
    )
    assert selectors.latest_reading(meter).energy_total == Decimal("2.00")
    history = selectors.reading_history(meter, since=T0 + dt.timedelta(minutes=30))
    assert [r.energy_total for r in history] == [Decimal("1.00"), Decimal("2.00")]
    assert MeterReading.objects.count() == 3

    other = make_meter()
    batch = services.request_batch(
        acting_user=operations, meters=[meter, other], kind=CommandKind.READ_NOW
    )
    (first,) = repo.claim_commands(meter.gateway_id, T0, 1)
    repo.finish_command(CommandOutcome(first.command_id, CommandState.CONFIRMED, T0))
    assert selectors.batch_progress(batch) == {"confirmed": 1, "queued": 1}
    (recent,) = selectors.recent_batches(operations, limit=5)
    assert (recent.pk, recent.total, recent.progress) == (
        batch.pk,
        2,
        {"confirmed": 1, "queued": 1},
    )
    services.request_command(acting_user=operations, meter=meter, kind=CommandKind.TIME_SYNC)
    history = selectors.commands_for(meter)
    assert [c.kind for c in history] == ["time_sync", "read_now"]


def test_health(meter, make_meter, gateway, admin):
    stale = make_meter()
    lost = make_meter()
    now = T0 + dt.timedelta(seconds=30)
    status(meter)
    MeterStatus.objects.create(meter=stale, last_seen_at=T0 - dt.timedelta(minutes=10))
    MeterStatus.objects.create(meter=lost, lost_contact=True, lost_since=T0)
    Command.objects.create(meter=meter, kind="read_now")
    Command.objects.create(meter=meter, kind="trip", state="sent")
    summary = selectors.health_summary(now=now)
    assert summary["gateways"] == {"total": 1, "connected": 0}
    assert summary["meters"] == {
        "total": 3,
        "fresh": 1,
        "lost": 1,
        "never_seen": 1,
        "oldest_last_seen": (T0 - dt.timedelta(minutes=10)).isoformat(),
        "fresh_within_seconds": 120,
    }
    assert summary["commands"] == {"queued": 1, "sending": 0, "sent": 1}
    assert summary["generated_at"] == now.isoformat()

    (row,) = selectors.gateway_health(admin, now=now)
    assert (row.gateway, row.connected, row.requests) == (gateway, False, 0)
    assert (row.meters, row.meters_fresh, row.meters_lost) == (3, 1, 1)


def test_many_meters_answer_exactly_the_ones_asked(meter):
    from openprepaid.domain.sites.models import Meter

    meters = Meter.objects.bulk_create(
        [
            Meter(
                gateway_id=meter.gateway_id,
                unit_id=meter.unit_id,
                address=f"{800000 + n:012d}",
                protocol=meter.protocol,
                profile=meter.profile,
                cost_control="local",
            )
            for n in range(700)
        ]
    )
    MeterStatus.objects.bulk_create(
        [MeterStatus(meter=m, account_opened=True, remaining=Decimal("30.00")) for m in meters]
    )
    asked = [m for n, m in enumerate(meters) if n % 7]  # long and dense, with gaps
    states = selectors.meter_states(asked)
    assert set(states) == {m.pk for m in asked}
    assert {s.state for s in states.values()} == {BoardState.ALARM_1}
