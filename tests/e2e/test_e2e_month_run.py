"""Thirty days of the sample site in accelerated time, then the ledger check: zero differences.

The sample site (22 gateways, 695 meters, local and remote cost control, DL/T 645 and Modbus)
is loaded, its accounts opened through the billing services (``open_sample_accounts``: the
local meters' opening purchases go to the meters as ``open_account`` commands), and simulated
at a day a second (the simulator in a process of its own, so that it and the headend do not
share one interpreter) with the headend reading every meter in full every 15 s (15 simulated
days). Halfway through, the cashier sells to a few accounts of each mode. When thirty simulated
days have passed and every sale is on its meter, the headend stops and ``openprepaid
check-ledger`` must find no difference: every account's entries add up to its cached balance,
and every local meter's wallet in the ledger equals the balance the meter last reported.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal

import pytest
from tests.e2e.conftest import FAST, HeadendThread, wait_for

from openprepaid.cli import main
from openprepaid.simulator.control import SimulatorControl

SPEED = 86_400  # a simulated day per real second
DAYS = 30
# Longer than one full pass of the whole site (the headend reads the meters due first in bus
# order, so a shorter interval would read the first meters of each bus again and again).
FULL_EVERY = dt.timedelta(seconds=15)
OPENING = (Decimal(100), Decimal(1500))
# The sample site simulated on ephemeral ports; prints its listing, runs until stdin closes.
SIMULATOR = """
import dataclasses, json, sys
from openprepaid.domain.sample.sitegen import sample_site_tables
from openprepaid.simulator.runner import SimulatorThread
from openprepaid.simulator.sitespec import site_from_tables

spec = site_from_tables(sample_site_tables())
spec = dataclasses.replace(
    spec, gateways=tuple(dataclasses.replace(g, port=0) for g in spec.gateways)
)
with SimulatorThread(spec, timing=False, speed=int(sys.argv[1]), control_port=0) as sim:
    print(json.dumps(sim.listing()), flush=True)
    sys.stdin.read()
"""


@contextlib.contextmanager
def simulated_sample() -> Iterator[tuple[dict, SimulatorControl]]:
    """The sample site simulated in a child process: its listing and a control client."""
    child = subprocess.Popen(
        [sys.executable, "-c", SIMULATOR, str(SPEED)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        listing = json.loads(child.stdout.readline())
        control = listing["control"]
        with SimulatorControl(control["host"], control["port"]) as client:
            yield listing, client
    finally:
        child.stdin.close()
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _now(client: SimulatorControl) -> dt.datetime:
    return dt.datetime.fromisoformat(client.now())


@pytest.mark.django_db(transaction=True)
def test_thirty_accelerated_days_leave_zero_ledger_differences(capsys):
    from django.db.models import Max, Min

    from openprepaid.domain.billing.models import Delivery, EntryKind, LedgerEntry, Sale
    from openprepaid.domain.billing.services import sell
    from openprepaid.domain.metering.models import Command, MeterReading
    from openprepaid.domain.sample.billing import open_sample_accounts
    from openprepaid.domain.sample.services import load_sample_site
    from openprepaid.domain.sites.models import CostControl, Gateway, Meter
    from openprepaid.domain.tenants.models import Account, AccountStatus

    load_sample_site(acting_user=None)
    opened = open_sample_accounts(acting_user=None, amounts=OPENING)
    assert opened.local_meters > 0
    assert opened.remote_meters > 0

    with simulated_sample() as (listing, sim):
        for entry in listing["gateways"]:
            Gateway.objects.filter(name=entry["name"]).update(port=entry["port"])
        started = _now(sim)
        # Full readings only: what billing needs, and the whole site fits in each interval.
        options = dataclasses.replace(FAST, status_sweep=False)
        with HeadendThread(options=options, full_every=FULL_EVERY):
            wait_for(
                "the opening purchases on the local meters",
                lambda: not Sale.objects.filter(delivery=Delivery.PENDING).exists(),
                timeout=60,
            )
            # Halfway: a few sales of each mode while the site runs.
            halfway = started + dt.timedelta(days=DAYS // 2)
            wait_for("day 15", lambda: _now(sim) >= halfway, timeout=60)
            accounts = Account.objects.filter(status=AccountStatus.OPEN).order_by("number")
            sold = []
            for mode in (CostControl.LOCAL, CostControl.REMOTE):
                chosen = accounts.filter(meters__cost_control=mode).distinct()[:3]
                for account in chosen:
                    meter = account.meters.filter(cost_control=mode).order_by("id").first()
                    sold.append(
                        sell(
                            acting_user=None,
                            account=account,
                            payment_method="cash",
                            external_id=f"e2e-month-{account.number}",
                            amount=Decimal("200.00"),
                            meter=meter if mode == CostControl.LOCAL else None,
                        )
                    )
            end = started + dt.timedelta(days=DAYS)
            wait_for("day 30", lambda: _now(sim) >= end, timeout=60)
            wait_for(
                "every sale on its meter",
                lambda: not Sale.objects.filter(delivery=Delivery.PENDING).exists(),
                timeout=30,
            )
            # The meters that received money read in full once more (what the check compares).
            delivered = Sale.objects.filter(pk__in=[s.pk for s in sold], meter__isnull=False)
            wait_for(
                "a full reading after each delivery",
                lambda: all(
                    MeterReading.objects.filter(
                        meter_id=s.meter_id, read_at__gt=s.delivered_at
                    ).exists()
                    for s in delivered
                ),
                timeout=40,
            )
        # The headend stopped cleanly (the block waited for it).

    outcomes = [
        (s.account.number, s.delivery, s.command and (s.command.state, s.command.detail))
        for s in Sale.objects.filter(pk__in=[s.pk for s in sold]).select_related("command")
    ]
    assert all(delivery != Delivery.FAILED for _n, delivery, _c in outcomes), outcomes
    money_commands = Command.objects.filter(kind__in=("open_account", "recharge"))
    assert money_commands.exclude(state="confirmed").count() == 0
    assert money_commands.filter(kind="open_account").count() == opened.local_meters
    local = Meter.objects.filter(cost_control=CostControl.LOCAL)
    remote = Meter.objects.filter(cost_control=CostControl.REMOTE)
    consumption = LedgerEntry.objects.filter(kind=EntryKind.CONSUMPTION)
    # Remote meters: priced from their readings; local meters: the meters' own deductions
    # mirrored from the balances they report.
    read = MeterReading.objects.values("meter").distinct()
    assert read.count() == Meter.objects.count()  # every meter read in full
    priced = consumption.filter(meter__in=remote).values("meter").distinct().count()
    mirrored = consumption.filter(meter__in=local, external_id__startswith="m:")
    summary = (
        f"{MeterReading.objects.count()} full readings; consumption priced for {priced} remote"
        f" meters, mirrored for {mirrored.values('meter').distinct().count()} local meters"
    )
    assert priced > 0
    assert mirrored.exists()
    # Every remote meter in an account whose readings show use is charged for it.
    ranges = (
        MeterReading.objects.filter(meter__in=remote, meter__memberships__isnull=False)
        .values("meter")
        .annotate(low=Min("energy_total"), high=Max("energy_total"))
    )
    used = {r["meter"] for r in ranges if r["high"] - r["low"] >= 1}
    charged = set(consumption.filter(meter__in=used).values_list("meter", flat=True))
    assert used
    assert charged == used

    capsys.readouterr()
    status = main(["check-ledger"])
    out = capsys.readouterr().out
    print(summary, out, sep="\n")
    assert status == 0, out
    assert out.rstrip().endswith(": 0 differences"), out
    assert f"{opened.local_meters} local meters checked" in out  # each compared with its meter
