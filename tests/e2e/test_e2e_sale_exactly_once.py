"""A sale to a locally controlled meter reaches the meter exactly once, even when the headend is
killed (SIGKILL) between sending the recharge and confirming it.

``openprepaid headend`` runs as a child process on the test database against a simulated bus
(one DL/T 645-2007 meter, one Acrel Modbus-RTU meter, both in local cost control). The account
is opened through the billing services (an ``open_account`` command the headend writes and
confirms), then the meter's replies are made late so that the recharge of the next sale sits
between ``sent`` and ``confirmed`` long enough to kill the headend there. A second headend takes
the command over: it reads the meter first, sees the purchase count already there and confirms
without sending again.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from tests.e2e.conftest import E2E_GATEWAY, configure_building, power_off, register, wait_for

from openprepaid.simulator.runner import SimulatorThread
from openprepaid.simulator.sitespec import DLT645, MODBUS, GatewaySpec, MeterSpec, SiteSpec

DLT645_METER = MeterSpec("202611010001", cost_control="local")
MODBUS_METER = MeterSpec("7", protocol=MODBUS, profile="acrel-ddsy1352", cost_control="local")
LATE = 0.35  # seconds each reply of the meter is late: every exchange slow, none timed out


@pytest.fixture
def bus(site):
    spec = SiteSpec((GatewaySpec(E2E_GATEWAY, port=0, meters=(DLT645_METER, MODBUS_METER)),))
    with SimulatorThread(spec, timing=False) as sim:
        meters = configure_building(sim, site, (DLT645_METER, MODBUS_METER))
        for address in meters:
            power_off(sim, address)
        yield sim, meters


def _command_state(command_id: int) -> str:
    from openprepaid.domain.metering.models import Command

    return Command.objects.values_list("state", flat=True).get(pk=command_id)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("spec", [DLT645_METER, MODBUS_METER], ids=[DLT645, MODBUS])
def test_a_sale_reaches_the_meter_once_across_a_sigkill(site, cashier, bus, headend_process, spec):
    from openprepaid.domain.billing.ledger import recompute
    from openprepaid.domain.billing.models import (
        AccountBalance,
        Delivery,
        EntryKind,
        LedgerEntry,
        Sale,
    )
    from openprepaid.domain.billing.services import open_account, sell
    from openprepaid.domain.metering.models import Command

    sim, meters = bus
    meter = meters[spec.address]
    account = register(site, meter, "T1")

    # Opening purchase: the headend writes it to the meter (open account, purchase count 1).
    opening = open_account(
        acting_user=cashier,
        account=account,
        amount=Decimal("100.00"),
        payment_method="cash",
        external_id="e2e-open-1",
    )
    assert opening.command.kind == "open_account"
    first = headend_process("first")
    wait_for(
        "the opening purchase on the meter",
        lambda: Sale.objects.get(pk=opening.pk).delivery == Delivery.DELIVERED,
        timeout=60,
    )
    before = sim.inspect(spec.address)
    assert before["purchase_count"] == 1
    assert Decimal(before["balance"]) == Decimal("100.00")

    # Slow the meter down, sell, and kill the headend once the recharge is on the wire.
    sim.inject("late_reply", gateway=E2E_GATEWAY, meter=spec.address, delay=LATE)
    sale = sell(
        acting_user=cashier,
        account=account,
        payment_method="cash",
        external_id="e2e-sale-2",
        amount=Decimal("50.00"),
    )
    command_id = sale.command_id
    assert Command.objects.get(pk=command_id).params == {
        "amount": "50.00",
        "purchase_count": 2,
        "customer": f"{account.pk:012d}",
    }
    state = wait_for(
        "the recharge to be sent",
        lambda: (s := _command_state(command_id)) in ("sent", "confirmed", "failed") and s,
        timeout=60,
        every=0.01,
    )
    first.kill()
    assert state == "sent", f"the recharge was {state} before the kill: {first.log()}"
    assert _command_state(command_id) == "sent"  # nobody confirmed it: the headend is gone
    assert Sale.objects.get(pk=sale.pk).delivery == Delivery.PENDING
    sim.clear_faults(meter=spec.address)

    # A new headend reads first, finds purchase count 2 on the meter and confirms, unsent.
    headend_process("second")
    command = wait_for(
        "the recharge to be confirmed",
        lambda: (c := Command.objects.get(pk=command_id)).state in ("confirmed", "failed") and c,
        timeout=60,
    )
    assert command.state == "confirmed", command.detail
    assert "already on the meter" in command.detail
    assert Sale.objects.get(pk=sale.pk).delivery == Delivery.DELIVERED

    after = sim.inspect(spec.address)
    assert after["purchase_count"] == 2
    assert Decimal(after["balance"]) == Decimal("150.00")  # 100 + 50, once
    entries = LedgerEntry.objects.filter(account=account).order_by("id")
    assert [(e.kind, e.amount) for e in entries] == [
        (EntryKind.OPENING, Decimal("100.00")),
        (EntryKind.SALE, Decimal("50.00")),
    ]
    assert recompute(account.pk) == Decimal("150.00")
    assert AccountBalance.objects.get(account=account).balance == Decimal("150.00")
