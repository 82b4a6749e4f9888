from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from openprepaid.domain.metering.models import (
    Command,
    ContactAlarm,
    GatewayHealth,
    MeterReading,
    MeterStatus,
)
from openprepaid.domain.metering.repository import DjangoRepository
from openprepaid.domain.sites.models import Meter
from openprepaid.headend.model import (
    Batch,
    CommandKind,
    CommandOutcome,
    CommandState,
    ContactChange,
    DesiredRelay,
    GatewayStats,
    IllegalTransition,
    PollFailure,
    Reading,
)

from .conftest import T0

pytestmark = pytest.mark.django_db

MIN = dt.timedelta(minutes=1)


def full(meter_id: int, at: dt.datetime, **values) -> Reading:
    defaults = {
        "energy_total": Decimal("1234.56"),
        "energy_sharp": Decimal("100.00"),
        "energy_peak": Decimal("400.00"),
        "energy_flat": Decimal("500.00"),
        "energy_valley": Decimal("234.56"),
        "remaining": Decimal("88.80"),
        "overdraft": Decimal("0.00"),
        "purchase_count": 3,
        "relay_open": False,
        "keep_power": False,
        "power_kw": Decimal("1.2345"),
        "voltage": (Decimal("220.1"),),
        "current": (Decimal("5.432"),),
        "meter_time": dt.datetime(2026, 11, 23, 16, 0, 5),  # noqa: DTZ001 (wall clock)
        "status_word_1": 0,
        "status_word_3": 0,
    }
    return Reading(meter_id=meter_id, read_at=at, kind="full", **(defaults | values))


def command(meter, kind, *, state=CommandState.QUEUED, expires_at=None, attempts=0) -> Command:
    return Command.objects.create(
        meter=meter, kind=kind, state=state, expires_at=expires_at, attempts=attempts
    )


# ---------------------------------------------------------------------------------- store


def test_store_writes_full_readings_once_and_updates_status(meter):
    repo = DjangoRepository()
    batch = Batch(readings=(full(meter.pk, T0), full(meter.pk, T0 + 30 * MIN)))
    repo.store(batch)
    repo.store(batch)  # delivered again after a lost acknowledgement
    rows = list(MeterReading.objects.filter(meter=meter).order_by("read_at"))
    assert [r.read_at for r in rows] == [T0, T0 + 30 * MIN]
    assert rows[0].energy_total == Decimal("1234.56")
    assert rows[0].voltage == ["220.1"]
    assert rows[0].current == ["5.432"]
    status = MeterStatus.objects.get(meter=meter)
    assert status.last_seen_at == T0 + 30 * MIN
    assert status.last_full_at == T0 + 30 * MIN
    assert status.remaining == Decimal("88.80")
    assert status.purchase_count == 3
    assert status.power_kw == Decimal("1.2345")
    assert status.relay_open is False
    # The meter's clock is its wall-clock time in the site's zone (Asia/Shanghai, UTC+8).
    assert status.meter_time == dt.datetime(2026, 11, 23, 8, 0, 5, tzinfo=dt.UTC)


def test_status_readings_update_the_status_only(meter):
    repo = DjangoRepository()
    repo.store(Batch(readings=(full(meter.pk, T0),)))
    sweep = Reading(
        meter_id=meter.pk,
        read_at=T0 + MIN,
        kind="status",
        remaining=Decimal("12.30"),
        relay_open=True,
        relay_commanded_trip=True,
        keep_power=False,
    )
    repo.store(Batch(readings=(sweep,)))
    assert MeterReading.objects.count() == 1
    status = MeterStatus.objects.get(meter=meter)
    assert status.last_seen_at == T0 + MIN
    assert status.last_full_at == T0
    assert status.remaining == Decimal("12.30")
    assert status.relay_open is True
    assert status.relay_commanded_trip is True
    assert status.energy_total == Decimal("1234.56")  # kept from the full reading
    # An older reading delivered late does not roll the status back.
    repo.store(Batch(readings=(full(meter.pk, T0 - MIN, remaining=Decimal("99.00")),)))
    assert MeterStatus.objects.get(meter=meter).remaining == Decimal("12.30")


def test_failures_are_counted_once_and_reset_by_a_good_reading(meter):
    repo = DjangoRepository()
    repo.store(Batch(readings=(full(meter.pk, T0),)))
    first = PollFailure(meter.pk, T0 + MIN, "timeout")
    second = PollFailure(meter.pk, T0 + 2 * MIN, "garbled")
    repo.store(Batch(failures=(first, second)))
    repo.store(Batch(failures=(second,)))  # delivered twice
    status = MeterStatus.objects.get(meter=meter)
    assert status.consecutive_failures == 2
    assert status.last_failure == "garbled"
    assert status.last_seen_at == T0
    repo.store(Batch(readings=(Reading(meter.pk, T0 + 3 * MIN, kind="status"),)))
    assert MeterStatus.objects.get(meter=meter).consecutive_failures == 0


def test_lost_contact_raised_and_cleared_exactly_once(meter, gateway):
    repo = DjangoRepository()
    lost = ContactChange(at=T0, lost=True, meter_id=meter.pk, reason="5 polls failed")
    regained = ContactChange(at=T0 + 5 * MIN, lost=False, meter_id=meter.pk)
    repo.store(Batch(contact=(lost,)))
    repo.store(Batch(contact=(lost,)))
    assert ContactAlarm.objects.count() == 1
    assert repo.lost_state() == ({meter.pk}, set())
    status = MeterStatus.objects.get(meter=meter)
    assert status.lost_contact is True
    assert status.lost_since == T0

    repo.store(Batch(contact=(regained,)))
    repo.store(Batch(contact=(regained,)))
    repo.store(Batch(contact=(lost,)))  # the old loss, delivered once more
    alarm = ContactAlarm.objects.get()
    assert (alarm.kind, alarm.lost_at, alarm.regained_at) == ("meter_lost", T0, T0 + 5 * MIN)
    assert alarm.reason == "5 polls failed"
    assert repo.lost_state() == (set(), set())
    status = MeterStatus.objects.get(meter=meter)
    assert (status.lost_contact, status.lost_since) == (False, None)

    # A new loss later is a new alarm.
    repo.store(Batch(contact=(ContactChange(at=T0 + 9 * MIN, lost=True, meter_id=meter.pk),)))
    assert ContactAlarm.objects.filter(regained_at__isnull=True).count() == 1
    assert ContactAlarm.objects.count() == 2


def test_gateway_loss_and_health_totals(gateway):
    repo = DjangoRepository()
    stats = GatewayStats(
        gateway_id=gateway.pk,
        at=T0,
        connected=True,
        requests=10,
        failures=2,
        round_trip_ms_avg=Decimal("100"),
        round_trip_ms_max=Decimal("180.5"),
    )
    repo.store(Batch(gateways=(stats,)))
    repo.store(Batch(gateways=(stats,)))  # delivered twice: counted once
    later = GatewayStats(
        gateway_id=gateway.pk,
        at=T0 + MIN,
        connected=False,
        requests=4,
        failures=2,
        round_trip_ms_avg=Decimal("130"),
        round_trip_ms_max=Decimal("150"),
        last_error="connection refused",
    )
    down = ContactChange(at=T0 + MIN, lost=True, gateway_id=gateway.pk, reason="refused")
    repo.store(Batch(gateways=(later,), contact=(down,)))
    health = GatewayHealth.objects.get(gateway=gateway)
    assert (health.requests, health.failures) == (14, 4)
    # (100 × 8 + 130 × 2) / 10 good replies
    assert health.round_trip_ms_avg == Decimal("106.00")
    assert health.round_trip_ms_max == Decimal("180.50")
    assert health.connected is False
    assert health.last_connected_at == T0
    assert health.last_error == "connection refused"
    assert repo.lost_state() == (set(), {gateway.pk})
    repo.store(Batch(contact=(ContactChange(at=T0 + 2 * MIN, lost=False, gateway_id=gateway.pk),)))
    assert repo.lost_state() == (set(), set())
    assert ContactAlarm.objects.get().regained_at == T0 + 2 * MIN


def test_a_batch_of_700_readings_is_one_transaction_of_few_queries(
    meter, django_assert_max_num_queries
):
    meters = Meter.objects.bulk_create(
        [
            Meter(
                gateway_id=meter.gateway_id,
                unit_id=meter.unit_id,
                address=f"{900000 + n:012d}",
                protocol=meter.protocol,
                profile=meter.profile,
            )
            for n in range(699)
        ]
    )
    ids = [meter.pk, *(m.pk for m in meters)]
    readings = tuple(full(pk, T0) for pk in ids)
    repo = DjangoRepository()
    with django_assert_max_num_queries(60) as captured:
        repo.store(Batch(readings=readings))
    statements = [q["sql"] for q in captured.captured_queries]
    assert sum("SAVEPOINT" in s or "BEGIN" in s.upper()[:6] for s in statements) <= 2
    assert MeterReading.objects.count() == 700
    assert MeterStatus.objects.filter(last_seen_at=T0).count() == 700


# ------------------------------------------------------------------------------- commands


def test_a_newer_relay_command_supersedes_a_queued_one(meter):
    repo = DjangoRepository()
    trip = command(meter, CommandKind.TRIP)
    close = command(meter, CommandKind.CLOSE)
    read = command(meter, CommandKind.READ_NOW)
    orders = repo.claim_commands(meter.gateway_id, T0, limit=10)
    assert [o.command_id for o in orders] == [close.pk, read.pk]
    trip.refresh_from_db()
    assert trip.state == "superseded"
    assert trip.detail == f"superseded by #{close.pk}"
    assert Command.objects.get(pk=close.pk).state == "sending"
    # Nothing is handed out twice.
    assert repo.claim_commands(meter.gateway_id, T0, limit=10) == []


def test_expired_commands_are_not_sent_and_limit_applies(meter, make_meter):
    other = make_meter()
    repo = DjangoRepository()
    stale = command(meter, CommandKind.TIME_SYNC, expires_at=T0 - MIN)
    first = command(meter, CommandKind.READ_NOW, expires_at=T0 + MIN)
    second = command(other, CommandKind.READ_NOW)
    orders = repo.claim_commands(meter.gateway_id, T0, limit=1)
    assert [o.command_id for o in orders] == [first.pk]
    assert orders[0].kind is CommandKind.READ_NOW
    assert orders[0].expires_at == T0 + MIN
    stale.refresh_from_db()
    assert (stale.state, stale.finished_at) == ("expired", T0)
    assert repo.pending_meters(meter.gateway_id) == [other.pk]
    assert repo.pending_gateways() == {meter.gateway_id}  # first sending, second queued
    assert [o.command_id for o in repo.claim_commands(meter.gateway_id, T0, 5)] == [second.pk]
    assert repo.pending_meters(meter.gateway_id) == []
    for order in (first, second):
        repo.finish_command(CommandOutcome(order.pk, CommandState.CONFIRMED, T0))
    assert repo.pending_gateways() == set()  # nothing queued or in flight any more


def test_commands_left_in_flight_are_handed_out_after_a_restart(meter):
    before = DjangoRepository()
    trip = command(meter, CommandKind.TRIP)
    sync = command(meter, CommandKind.TIME_SYNC)
    first, _second = before.claim_commands(meter.gateway_id, T0, 10)
    before.finish_command(CommandOutcome(first.command_id, CommandState.SENT, T0))
    assert before.claim_commands(meter.gateway_id, T0, 10) == []  # still ours, in flight
    after = DjangoRepository()  # the headend restarted
    orders = after.claim_commands(meter.gateway_id, T0 + MIN, 10)
    assert [(o.command_id, o.attempts) for o in orders] == [(trip.pk, 1), (sync.pk, 0)]
    trip.refresh_from_db()
    assert (trip.state, trip.claimed_at) == ("sending", T0 + MIN)  # sent → queued → sending
    assert after.claim_commands(meter.gateway_id, T0 + MIN, 10) == []
    after.finish_command(CommandOutcome(trip.pk, CommandState.CONFIRMED, T0 + 2 * MIN, "read back"))
    trip.refresh_from_db()
    assert (trip.state, trip.attempts, trip.finished_at) == ("confirmed", 2, T0 + 2 * MIN)
    assert trip.detail == "read back"


def test_a_newer_intent_retires_a_relay_command_left_in_flight(meter):
    before = DjangoRepository()
    trip = command(meter, CommandKind.TRIP)
    before.claim_commands(meter.gateway_id, T0, 10)
    close = command(meter, CommandKind.CLOSE)
    after = DjangoRepository()
    orders = after.claim_commands(meter.gateway_id, T0 + MIN, 10)
    assert [o.command_id for o in orders] == [close.pk]
    trip.refresh_from_db()
    assert (trip.state, trip.detail) == ("failed", f"superseded by #{close.pk} while in flight")


def test_a_command_never_finished_is_handed_out_again_after_the_lease(meter):
    repo = DjangoRepository(command_lease=dt.timedelta(seconds=30))
    cmd = command(meter, CommandKind.KEEP_POWER_ON)
    assert len(repo.claim_commands(meter.gateway_id, T0, 10)) == 1
    assert repo.claim_commands(meter.gateway_id, T0 + dt.timedelta(seconds=29), 10) == []
    (again,) = repo.claim_commands(meter.gateway_id, T0 + dt.timedelta(seconds=30), 10)
    assert again.command_id == cmd.pk


def test_finish_command_follows_the_lifecycle(meter):
    repo = DjangoRepository()
    cmd = command(meter, CommandKind.CLOSE)
    with pytest.raises(IllegalTransition):
        repo.finish_command(CommandOutcome(cmd.pk, CommandState.CONFIRMED, T0))
    repo.claim_commands(meter.gateway_id, T0, 10)
    repo.finish_command(CommandOutcome(cmd.pk, CommandState.QUEUED, T0, "bus busy"))
    cmd.refresh_from_db()
    assert (cmd.state, cmd.attempts) == ("queued", 0)
    repo.claim_commands(meter.gateway_id, T0, 10)
    repo.finish_command(CommandOutcome(cmd.pk, CommandState.SENT, T0 + MIN))
    repo.finish_command(CommandOutcome(cmd.pk, CommandState.FAILED, T0 + 2 * MIN, "no change"))
    cmd.refresh_from_db()
    assert (cmd.state, cmd.attempts, cmd.sent_at, cmd.finished_at) == (
        "failed",
        1,
        T0 + MIN,
        T0 + 2 * MIN,
    )
    with pytest.raises(IllegalTransition):
        repo.finish_command(CommandOutcome(cmd.pk, CommandState.SENT, T0 + 3 * MIN))
    assert Command.objects.get(pk=cmd.pk).state == "failed"


def test_enqueue_reconcile_never_doubles_a_relay_command(meter):
    repo = DjangoRepository()
    first = repo.enqueue_reconcile(meter.pk, CommandKind.TRIP, T0, "balance exhausted")
    assert first is not None
    assert repo.enqueue_reconcile(meter.pk, CommandKind.CLOSE, T0, "again") is None
    queued = Command.objects.get(pk=first)
    assert (queued.origin, queued.detail, queued.expires_at) == (
        "reconcile",
        "balance exhausted",
        T0 + dt.timedelta(hours=1),
    )
    repo.claim_commands(meter.gateway_id, T0, 10)
    repo.finish_command(CommandOutcome(first, CommandState.SENT, T0))
    assert repo.enqueue_reconcile(meter.pk, CommandKind.TRIP, T0, "again") is None
    repo.finish_command(CommandOutcome(first, CommandState.CONFIRMED, T0 + MIN))
    assert repo.enqueue_reconcile(meter.pk, CommandKind.TRIP, T0, "again") is not None
    # Other kinds only dedupe against themselves.
    assert repo.enqueue_reconcile(meter.pk, CommandKind.TIME_SYNC, T0, "drift") is not None
    assert repo.enqueue_reconcile(meter.pk, CommandKind.TIME_SYNC, T0, "drift") is None


def test_controls_and_lines(meter, make_meter, gateway):
    remote = make_meter(cost_control="remote")
    MeterStatus.objects.create(meter=meter, desired_relay="open", relay_open=False)
    repo = DjangoRepository(full_reading_every=dt.timedelta(minutes=15))
    controls = {c.meter_id: c for c in repo.controls(gateway.pk)}
    assert controls[meter.pk].desired_relay is DesiredRelay.OPEN
    assert controls[meter.pk].reported_relay_open is False
    assert controls[remote.pk].desired_relay is DesiredRelay.AUTO
    assert controls[remote.pk].reported_relay_open is None
    (line,) = repo.lines()
    assert (line.gateway_id, line.transport, line.host, line.port) == (
        gateway.pk,
        "transparent_tcp",
        "h",
        1,
    )
    assert line.full_reading_every == dt.timedelta(minutes=15)
    assert [(t.meter_id, t.cost_control) for t in line.meters] == [
        (meter.pk, "local"),
        (remote.pk, "remote"),
    ]


def test_the_full_reading_interval_comes_from_the_gateway_else_its_site(site, gateway, meter):
    from openprepaid.domain.sites import services as site_services

    repo = DjangoRepository()
    (line,) = repo.lines()
    assert line.full_reading_every == dt.timedelta(minutes=30)  # the site's default
    site_services.update_site(site, acting_user=None, full_reading_minutes=60)
    assert repo.lines()[0].full_reading_every == dt.timedelta(minutes=60)
    site_services.update_gateway(gateway, acting_user=None, full_reading_minutes=5)
    assert repo.lines()[0].full_reading_every == dt.timedelta(minutes=5)
    # An interval given to the repository (openprepaid headend --full-every) wins.
    forced = DjangoRepository(full_reading_every=dt.timedelta(minutes=2))
    assert forced.lines()[0].full_reading_every == dt.timedelta(minutes=2)
