"""The billing engine: remote readings priced into the ledger (through the headend's store),
the local mirror, tamper and difference alarms."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tests.domain.billing.billing_helpers import (
    FLAT,
    START,
    TIERED,
    TOU,
    at,
    open_account,
    post_amount,
    reading,
    store,
)

from openprepaid.domain.billing import engine
from openprepaid.domain.billing.models import (
    AccountBalance,
    BillingAlarm,
    Delivery,
    EntryKind,
    LedgerEntry,
    MeterBilling,
    Sale,
)
from openprepaid.domain.billing.services.tariffs import assign_tariff, create_tariff
from openprepaid.domain.metering.models import MeterReading

pytestmark = pytest.mark.django_db
MONTH_START = START.replace(day=1)


@pytest.fixture
def tariff(site, admin):
    def make(kind="flat", definition=FLAT, code="T", effective_from=MONTH_START):
        tariff = create_tariff(
            acting_user=admin,
            site=site,
            code=code,
            name=code,
            kind=kind,
            definition=definition,
            effective_from=effective_from,
        )
        assign_tariff(acting_user=admin, tariff=tariff, scope="site", effective_from=effective_from)
        return tariff

    return make


@pytest.fixture
def remote(make_meter, register):
    meter = make_meter(cost_control="remote")
    account = open_account(register(meter))
    return meter, account


def balance(account) -> Decimal:
    return AccountBalance.objects.get(account=account).balance


def consumption(account) -> list[tuple[Decimal, Decimal | None]]:
    return list(
        LedgerEntry.objects.filter(account=account, kind=EntryKind.CONSUMPTION)
        .order_by("id")
        .values_list("amount", "energy")
    )


def test_first_reading_sets_the_cursor_and_charges_nothing(tariff, remote):
    tariff()
    meter, account = remote
    store(reading(meter, at(0), "100.00"))
    cursor = MeterBilling.objects.get(meter=meter)
    assert cursor.read_at == at(0)
    assert cursor.energy_total == Decimal("100.00")
    assert balance(account) == Decimal("100.00")
    assert consumption(account) == []


def test_flat_reading_priced_with_residue_carried(tariff, remote):
    tariff()
    meter, account = remote
    store(reading(meter, at(0), "100.00"))
    store(reading(meter, at(0.25), "101.25"))  # 1.25 kWh × 0.8 = 1.00
    assert consumption(account) == [(Decimal("-1.00"), Decimal("1.25"))]
    store(reading(meter, at(0.5), "101.26"))  # 0.008 → 0.01, residue -0.002
    store(reading(meter, at(0.75), "101.27"))  # 0.008 - 0.002 = 0.006 → 0.01, residue -0.004
    store(reading(meter, at(1), "101.28"))  # 0.008 - 0.004 = 0.004 → 0.00, residue 0.004
    assert consumption(account) == [
        (Decimal("-1.00"), Decimal("1.25")),
        (Decimal("-0.01"), Decimal("0.01")),
        (Decimal("-0.01"), Decimal("0.01")),
    ]
    assert MeterBilling.objects.get(meter=meter).residue == Decimal("0.004")
    assert balance(account) == Decimal("98.98")


def test_the_same_batch_stored_twice_bills_once(tariff, remote):
    tariff()
    meter, account = remote
    store(reading(meter, at(0), "100.00"))
    batch = (reading(meter, at(0.25), "102.00"), reading(meter, at(0.5), "105.00"))
    store(*batch)
    store(*batch)
    assert consumption(account) == [(Decimal("-4.00"), Decimal("5.00"))]
    assert balance(account) == Decimal("96.00")
    # Billing again from the stored readings finds nothing new.
    assert engine.bill_meters([meter.pk]).entries == 0


def test_time_of_use_registers(tariff, remote):
    tariff("tou", TOU)
    meter, account = remote
    store(
        reading(
            meter, at(0), "100.00", energy_sharp="10.00", energy_peak="20.00",
            energy_flat="30.00", energy_valley="40.00",
        )
    )  # fmt: skip
    store(
        reading(
            meter, at(24), "110.00", energy_sharp="11.00", energy_peak="22.00",
            energy_flat="33.00", energy_valley="44.00",
        )
    )  # fmt: skip
    # 1 × 1.2 + 2 × 1.0 + 3 × 0.7 + 4 × 0.3 = 6.50
    assert consumption(account) == [(Decimal("-6.50"), Decimal("10.00"))]


def test_tier_crossed_inside_one_interval(tariff, remote):
    tariff("tiered", TIERED)
    meter, account = remote
    store(reading(meter, at(0), "0.00"))
    store(reading(meter, at(1), "8.00"))  # 8 × 0.5 = 4.00
    store(reading(meter, at(2), "13.00"))  # 2 × 0.5 + 3 × 0.8 = 3.40
    assert consumption(account) == [
        (Decimal("-4.00"), Decimal("8.00")),
        (Decimal("-3.40"), Decimal("5.00")),
    ]
    cursor = MeterBilling.objects.get(meter=meter)
    assert (cursor.cycle_key, cursor.cycle_energy) == ("2026-01", Decimal("13.00"))


def test_month_roll_over_resets_the_tier_cycle(tariff, remote):
    tariff("tiered", TIERED)
    meter, account = remote
    jan31 = START.replace(day=31, hour=22)
    store(reading(meter, jan31, "0.00"))
    store(reading(meter, at(1, base=jan31), "8.00"))  # 4.00, January at 8 kWh
    # 23:00 → 01:00: half in January (5 kWh: 2 × 0.5 + 3 × 0.8 = 3.40), half in February
    # (5 × 0.5 = 2.50).
    store(reading(meter, at(3, base=jan31), "18.00"))
    assert consumption(account) == [
        (Decimal("-4.00"), Decimal("8.00")),
        (Decimal("-5.90"), Decimal("10.00")),
    ]
    cursor = MeterBilling.objects.get(meter=meter)
    assert (cursor.cycle_key, cursor.cycle_energy) == ("2026-02", Decimal("5.00"))


def test_price_change_mid_interval_through_a_new_version(tariff, remote, admin):
    from openprepaid.domain.billing.services.tariffs import add_tariff_version

    t = tariff()
    add_tariff_version(
        acting_user=admin, tariff=t, definition={"price": "1.0000"}, effective_from=at(1)
    )
    meter, account = remote
    store(reading(meter, at(0), "0.00"))
    store(reading(meter, at(2), "10.00"))  # 5 × 0.8 + 5 × 1.0 = 9.00
    assert consumption(account) == [(Decimal("-9.00"), Decimal("10.00"))]


def test_monthly_service_charge_once_per_month(tariff, remote):
    tariff("flat", {"price": "0.8000", "monthly_service_charge": "20.00"})
    meter, account = remote
    store(reading(meter, at(0), "0.00"))
    store(reading(meter, at(1), "1.00"))
    store(reading(meter, at(2), "2.00"))
    store(reading(meter, START.replace(month=2, day=2), "3.00"))
    charges = list(
        LedgerEntry.objects.filter(kind=EntryKind.SERVICE_CHARGE)
        .order_by("id")
        .values_list("amount", "external_id")
    )
    assert charges == [
        (Decimal("-20.00"), f"s:{account.pk}:{meter.pk}:2026-01"),
        (Decimal("-20.00"), f"s:{account.pk}:{meter.pk}:2026-02"),
    ]
    assert balance(account) == Decimal("57.60")


def test_registers_going_backwards_charge_nothing_and_alarm_once(tariff, remote):
    tariff()
    meter, account = remote
    store(reading(meter, at(0), "100.00"))
    store(reading(meter, at(1), "90.00"))
    store(reading(meter, at(2), "95.00"))
    assert consumption(account) == []
    alarms = BillingAlarm.objects.filter(meter=meter)
    assert alarms.count() == 1
    assert alarms.get().detail == engine.TAMPER_DETAIL
    assert alarms.get().cleared_at is None
    store(reading(meter, at(3), "101.00"))  # past the cursor again: 1 kWh from 100.00
    assert consumption(account) == [(Decimal("-0.80"), Decimal("1.00"))]
    assert alarms.get().cleared_at == at(3)


def test_meter_without_tariff_waits(remote, tariff):
    meter, account = remote
    store(reading(meter, at(0), "0.00"))
    store(reading(meter, at(1), "10.00"))
    assert consumption(account) == []
    tariff()  # a site tariff from the first of the month: the waiting reading is priced next
    store(reading(meter, at(2), "11.00"))
    assert consumption(account) == [(Decimal("-8.80"), Decimal("11.00"))]


def test_energy_before_the_first_tariff_is_not_charged(tariff, remote):
    tariff(effective_from=at(2))
    meter, account = remote
    store(reading(meter, at(0), "0.00"), reading(meter, at(1), "10.00"))
    store(reading(meter, at(3), "15.00"), reading(meter, at(4), "16.00"))
    # 1 kWh before the tariff starts (at 1 → at 3 straddles the start: the cursor moves to
    # at 3 without a charge), then 1 kWh × 0.8.
    assert consumption(account) == [(Decimal("-0.80"), Decimal("1.00"))]


def test_readings_before_the_meter_joined_are_not_billed(tariff, make_meter, register):
    tariff()
    meter = make_meter()
    account = open_account(register(meter), since=at(5))
    store(reading(meter, at(1), "0.00"), reading(meter, at(4), "50.00"))
    store(reading(meter, at(6), "60.00"), reading(meter, at(7), "61.00"))
    assert consumption(account) == [(Decimal("-0.80"), Decimal("1.00"))]


def test_meter_without_open_account_is_not_billed(tariff, make_meter, register):
    tariff()
    meter = make_meter()
    register(meter)  # registered, not opened
    store(reading(meter, at(0), "0.00"), reading(meter, at(1), "5.00"))
    assert not MeterBilling.objects.filter(meter=meter).exists()
    assert MeterReading.objects.filter(meter=meter).count() == 2


def test_bill_readings_in_memory(tariff, remote):
    tariff()
    meter, account = remote
    result = engine.bill_readings(
        [
            reading(meter, at(0), "0.00"),
            reading(meter, at(1), "1.00"),
            reading(meter, at(2), "3.00"),
        ]
    )
    assert (result.readings, result.priced, result.entries) == (3, 2, 1)
    assert consumption(account) == [(Decimal("-2.40"), Decimal("3.00"))]


# ------------------------------------------------------------------------------ local mirror


@pytest.fixture
def local(make_meter, register):
    meter = make_meter(cost_control="local")
    account = open_account(register(meter), amount="0.00")
    post_amount(account, "100.00", "sale-1", meter=meter)
    return meter, account


def test_local_mirror_posts_the_meter_consumption(local):
    meter, account = local
    store(reading(meter, at(0), "10.00", remaining="100.00", overdraft="0.00"))
    assert consumption(account) == []
    store(reading(meter, at(1), "15.00", remaining="96.00", overdraft="0.00"))
    assert consumption(account) == [(Decimal("-4.00"), Decimal("5.00"))]
    store(reading(meter, at(2), "20.00", remaining="0.00", overdraft="3.50"))
    assert consumption(account) == [
        (Decimal("-4.00"), Decimal("5.00")),
        (Decimal("-99.50"), Decimal("5.00")),
    ]
    assert balance(account) == Decimal("-3.50")


def test_local_meter_showing_more_raises_one_alarm_per_episode(local):
    meter, account = local
    store(reading(meter, at(0), "10.00", remaining="120.00"))
    store(reading(meter, at(1), "10.00", remaining="120.00"))
    alarm = BillingAlarm.objects.get(meter=meter)
    assert alarm.difference == Decimal("-20.00")
    assert alarm.balance == Decimal("120.00")
    assert consumption(account) == []
    store(reading(meter, at(2), "11.00", remaining="100.00"))  # agrees again
    alarm.refresh_from_db()
    assert alarm.cleared_at == at(2)
    store(reading(meter, at(3), "12.00", remaining="130.00"))
    assert BillingAlarm.objects.filter(meter=meter).count() == 2


def test_local_mirror_waits_for_a_pending_sale(local, site):
    meter, account = local
    post_amount(account, "50.00", "sale-2", meter=meter)
    sale = Sale.objects.create(
        site=site,
        receipt_number="R-1",
        external_id="sale-2-doc",
        kind="sale",
        account=account,
        meter=meter,
        amount=Decimal("50.00"),
        payment_method="cash",
        delivery=Delivery.PENDING,
    )
    store(reading(meter, at(0), "10.00", remaining="100.00"))
    assert consumption(account) == []
    assert not BillingAlarm.objects.filter(meter=meter).exists()
    assert sale.delivery == Delivery.PENDING
