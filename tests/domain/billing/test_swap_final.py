"""Swapping a remote meter bills it up to its final reading: the readings stored since its
cursor, then the interval up to the final total given at the swap (a flat tariff of 0.8000
yuan/kWh)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tests.domain.billing.billing_helpers import FLAT, START, at, open_account, reading, store

from openprepaid.domain.billing import services
from openprepaid.domain.billing.models import LedgerEntry, MeterBilling, Sale
from openprepaid.domain.billing.services.tariffs import assign_tariff, create_tariff
from openprepaid.domain.errors import ServiceError
from openprepaid.domain.metering.models import MeterReading
from openprepaid.domain.tenants.models import AccountMeter

pytestmark = pytest.mark.django_db


@pytest.fixture
def billed(site, admin, make_meter, register):
    """A remote meter in an open account (100.00) under a flat tariff, priced from 100.00 to
    110.00 kWh through the headend (-8.00), with a reading at 120.00 kWh stored but not billed
    yet; and a new meter to swap in."""
    start = START.replace(day=1)
    tariff = create_tariff(
        acting_user=admin,
        site=site,
        code="FLAT",
        name="Flat",
        kind="flat",
        definition=FLAT,
        effective_from=start,
    )
    assign_tariff(acting_user=admin, tariff=tariff, scope="site", effective_from=start)
    old, new = make_meter(), make_meter()
    account = open_account(register(old))
    store(reading(old, at(0), "100.00"), reading(old, at(1), "110.00"))
    MeterReading.objects.create(meter=old, read_at=at(2), energy_total=Decimal("120.00"))
    return account, old, new


def entries(account):
    return list(
        LedgerEntry.objects.filter(account=account)
        .order_by("id")
        .values_list("kind", "meter", "amount", "energy", "balance_after")
    )


BEFORE = [
    ("opening", None, Decimal("100.00"), None, Decimal("100.00")),
    ("consumption", "old", Decimal("-8.00"), Decimal("10.00"), Decimal("92.00")),
]


def expect(rows, old):
    return [(k, old.pk if m == "old" else m, a, e, b) for k, m, a, e, b in rows]


def test_swap_bills_the_stored_readings_and_the_final_interval(billed, operations):
    account, old, new = billed
    services.swap_meter(
        acting_user=operations,
        old_meter=old,
        new_meter=new,
        external_id="swap-1",
        final_energy="125.50",
    )
    assert entries(account) == expect(
        [
            *BEFORE,
            # the stored reading at 120.00: 10.00 kWh × 0.8000
            ("consumption", "old", Decimal("-8.00"), Decimal("10.00"), Decimal("84.00")),
            # up to the final 125.50: 5.50 kWh × 0.8000
            ("consumption", "old", Decimal("-4.40"), Decimal("5.50"), Decimal("79.60")),
        ],
        old,
    )
    assert MeterBilling.objects.get(meter=old).energy_total == Decimal("125.50")
    assert AccountMeter.objects.get(meter=old).detached_at is not None
    assert AccountMeter.objects.get(meter=new, detached_at__isnull=True).account == account
    # the same swap again bills nothing more
    services.swap_meter(
        acting_user=operations,
        old_meter=old,
        new_meter=new,
        external_id="swap-1",
        final_energy="125.50",
    )
    assert LedgerEntry.objects.filter(account=account).count() == 4


def test_a_final_reading_equal_to_the_billed_one_adds_nothing(billed, operations):
    account, old, new = billed
    services.swap_meter(
        acting_user=operations,
        old_meter=old,
        new_meter=new,
        external_id="swap-2",
        final_energy="120.00",
    )
    assert entries(account) == expect(
        [*BEFORE, ("consumption", "old", Decimal("-8.00"), Decimal("10.00"), Decimal("84.00"))],
        old,
    )


def test_a_final_reading_below_the_billed_one_is_refused_and_nothing_written(billed, operations):
    account, old, new = billed
    with pytest.raises(ServiceError) as refused:
        services.swap_meter(
            acting_user=operations,
            old_meter=old,
            new_meter=new,
            external_id="swap-3",
            final_energy="115.00",
        )
    assert refused.value.code == "final_below_billed"
    assert "115.00" in refused.value.message
    assert "120.00" in refused.value.message
    assert list(refused.value.field_errors) == ["final_energy"]
    assert entries(account) == expect(BEFORE, old)
    assert MeterBilling.objects.get(meter=old).energy_total == Decimal("110.00")
    assert not Sale.objects.filter(kind="swap").exists()
    assert AccountMeter.objects.get(meter=old).detached_at is None
    assert AccountMeter.objects.filter(meter=new).count() == 0
