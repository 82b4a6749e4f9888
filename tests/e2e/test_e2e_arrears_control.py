"""Automatic control end to end, in both cost-control modes: arrears trips, a recharge closes
again, keep power prevents the trip.

One simulated bus in accelerated time (an hour a second) carries four DL/T 645 meters, each in
an account opened with 2.00 yuan: R1 and R2 in remote cost control (the billing engine prices
every full reading the headend stores with the site's time-of-use tariff, and the account's
relay intent becomes the trip the headend carries out), L1 and L2 in local cost control (the
opening purchase is written to the meter by the headend; the meter deducts and trips by itself,
and the ledger mirrors its balance). R2 and L2 are put on keep power by an operator first.
"""

from __future__ import annotations

import datetime as dt
from datetime import datetime, time
from decimal import Decimal

import pytest
from django.utils import timezone
from tests.e2e.conftest import E2E_GATEWAY, HeadendThread, configure_building, register, wait_for

from openprepaid.simulator.runner import SimulatorThread
from openprepaid.simulator.sitespec import GatewaySpec, MeterSpec, SiteSpec

R1 = MeterSpec("202611010001", cost_control="remote")
R2 = MeterSpec("202611010002", cost_control="remote")
L1 = MeterSpec("202611010003", cost_control="local")
L2 = MeterSpec("202611010004", cost_control="local")
SPEED = 3600  # simulated seconds per real second


@pytest.fixture
def bus(site):
    spec = SiteSpec((GatewaySpec(E2E_GATEWAY, port=0, meters=(R1, R2, L1, L2)),))
    with SimulatorThread(spec, timing=False, speed=SPEED) as sim:
        yield sim, configure_building(sim, site, (R1, R2, L1, L2))


def _tariff(site, operations) -> None:
    from openprepaid.domain.billing.services.tariffs import assign_tariff, create_tariff
    from openprepaid.domain.sample.billing import SAMPLE_TOU

    since = timezone.make_aware(
        datetime.combine(timezone.localdate() - dt.timedelta(days=2), time())
    )
    tariff = create_tariff(
        acting_user=operations, site=site, code="TOU", name="TOU", kind="tou",
        definition=SAMPLE_TOU, effective_from=since,
    )  # fmt: skip
    assign_tariff(acting_user=operations, tariff=tariff, scope="site", effective_from=since)


def _balance(account):
    from openprepaid.domain.billing.models import AccountBalance

    return AccountBalance.objects.get(account=account)


def _explain(sim, accounts, meters) -> str:
    from openprepaid.domain.billing.models import AccountBalance, LedgerEntry
    from openprepaid.domain.metering.models import Command, MeterReading, MeterStatus

    lines = []
    for spec, account in accounts.items():
        meter = meters[spec.address]
        balance = AccountBalance.objects.filter(account=account).first()
        status = MeterStatus.objects.filter(meter=meter).values().first() or {}
        truth = sim.inspect(spec.address)
        lines.append(
            f"{spec.address} {spec.cost_control}: ledger {balance and balance.balance}"
            f" {balance and balance.level}, {LedgerEntry.objects.filter(account=account).count()}"
            " entries,"
            f" readings {MeterReading.objects.filter(meter=meter).count()},"
            f" status relay_open={status.get('relay_open')} keep={status.get('keep_power')}"
            f" account_relay={status.get('account_relay')}; meter relay {truth['relay']}"
            f" balance {truth['balance']} energy {truth['registers']['total']}"
            f" power {truth['power_w']} W keep {truth['keep_power']}"
        )
        commands = Command.objects.filter(meter=meter).order_by("-id")
        last = list(commands.values_list("kind", "state", "detail")[:4])
        lines.append(f"  {commands.count()} commands, the last: {last}")
    return "\n".join(lines)


def _relay(sim, spec) -> str:
    return sim.inspect(spec.address)["relay"]


@pytest.mark.django_db(transaction=True)
def test_arrears_trips_a_recharge_closes_and_keep_power_holds(site, cashier, operations, bus):
    from openprepaid.domain.billing.models import (
        AlarmLevel,
        BillingAlarm,
        Delivery,
        EntryKind,
        LedgerEntry,
        Sale,
    )
    from openprepaid.domain.billing.services import open_account, sell
    from openprepaid.domain.metering.models import Command, MeterStatus
    from openprepaid.domain.metering.services import request_command

    sim, meters = bus
    _tariff(site, operations)
    for spec in (R2, L2):  # the operator keeps the power on before anything else happens
        request_command(acting_user=operations, meter=meters[spec.address], kind="keep_power_on")
    accounts = {}
    for n, spec in enumerate((R1, R2, L1, L2), start=1):
        accounts[spec] = account = register(site, meters[spec.address], f"T{n}")
        open_account(
            acting_user=cashier,
            account=account,
            amount=Decimal("2.00"),
            payment_method="cash",
            external_id=f"e2e-open-{n}",
        )

    def explain() -> str:
        return _explain(sim, accounts, meters)

    with HeadendThread(full_every=dt.timedelta(seconds=1)):
        # Remote: consumption priced from readings drives the balance below zero; the account's
        # relay intent opens and the headend trips the meter.
        wait_for("R1 tripped", lambda: _relay(sim, R1) == "open", 90, explain=explain)
        r1 = _balance(accounts[R1])
        assert r1.balance < 0
        assert r1.level == AlarmLevel.ARREARS
        status = MeterStatus.objects.get(meter=meters[R1.address])
        assert status.account_relay == "open"
        assert status.desired_relay == "auto"  # no operator asked: billing did
        trip = wait_for(
            "the trip confirmed",
            lambda: Command.objects.filter(
                meter=meters[R1.address], kind="trip", state="confirmed"
            ).first(),
        )
        assert trip.origin == "reconcile"
        assert LedgerEntry.objects.filter(
            account=accounts[R1], kind=EntryKind.CONSUMPTION, amount__lt=0
        ).exists()
        levels = list(
            BillingAlarm.objects.filter(account=accounts[R1], kind="level")
            .order_by("id")
            .values_list("level_to", flat=True)
        )
        assert levels[-1] == AlarmLevel.ARREARS

        # Local: the meter holds the money, deducts and trips by itself; the ledger follows.
        wait_for("L1 tripped by itself", lambda: _relay(sim, L1) == "open", timeout=90)
        assert sim.inspect(L1.address)["relay_auto_trip"] is True
        wait_for(
            "L1's ledger in arrears",
            lambda: _balance(accounts[L1]).level == AlarmLevel.ARREARS,
            timeout=30,
        )

        # Keep power: both accounts fall into arrears, neither meter trips.
        wait_for(
            "R2 in arrears",
            lambda: _balance(accounts[R2]).level == AlarmLevel.ARREARS,
            timeout=90,
        )
        wait_for(
            "L2 below zero on the meter",
            lambda: Decimal(sim.inspect(L2.address)["balance"]) < 0,
            timeout=90,
        )
        assert MeterStatus.objects.get(meter=meters[R2.address]).account_relay == "open"
        for _ in range(3):  # several reconcile sweeps later
            wait_for("a reconcile sweep", lambda: True)
        for spec in (R2, L2):
            held = sim.inspect(spec.address)
            assert (held["relay"], held["keep_power"]) == ("closed", True), spec.address
        assert not Command.objects.filter(meter=meters[R2.address], kind="trip").exists()

        # A recharge closes again: remote through the account's intent and the headend, local
        # by the meter itself once the recharge is on it.
        sell(
            acting_user=cashier,
            account=accounts[R1],
            payment_method="cash",
            external_id="e2e-recharge-r1",
            amount=Decimal("300.00"),
        )
        assert MeterStatus.objects.get(meter=meters[R1.address]).account_relay == "closed"
        wait_for("R1 closed again", lambda: _relay(sim, R1) == "closed", timeout=30)
        close = wait_for(
            "the close confirmed",
            lambda: Command.objects.filter(
                meter=meters[R1.address], kind="close", state="confirmed"
            ).first(),
        )
        assert close.origin == "reconcile"

        recharge = sell(
            acting_user=cashier,
            account=accounts[L1],
            payment_method="cash",
            external_id="e2e-recharge-l1",
            amount=Decimal("300.00"),
        )
        assert recharge.command.kind == "recharge"
        wait_for(
            "L1's recharge on the meter",
            lambda: Sale.objects.get(pk=recharge.pk).delivery == Delivery.DELIVERED,
            timeout=30,
        )
        wait_for("L1 closed again", lambda: _relay(sim, L1) == "closed", timeout=10)
        assert sim.inspect(L1.address)["purchase_count"] == 2
