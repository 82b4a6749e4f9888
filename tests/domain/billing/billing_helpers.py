"""Helpers for the engine and control tests: open an account straight through the ledger, store
readings as the headend does, and tariff definitions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction

from openprepaid.domain.billing.ledger import Posting, post
from openprepaid.domain.billing.models import EntryKind
from openprepaid.domain.metering.repository import DjangoRepository
from openprepaid.domain.tenants.models import AccountMeter, AccountStatus
from openprepaid.headend.model import Batch, Reading

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = dt.datetime(2026, 1, 10, 0, 0, tzinfo=SHANGHAI)

FLAT = {"price": "0.8000"}
TOU = {
    "prices": {"sharp": "1.2000", "peak": "1.0000", "flat": "0.7000", "valley": "0.3000"},
    "day_tables": {
        "workday": [["00:00", "valley"], ["08:00", "peak"], ["11:00", "sharp"],
                    ["13:00", "flat"], ["23:00", "valley"]]
    },
    "seasons": [{"from": "01-01", "workday": "workday"}],
}  # fmt: skip
TIERED = {
    "cycle": "month",
    "tiers": [{"up_to": "10.00", "price": "0.5000"}, {"up_to": None, "price": "0.8000"}],
}


def at(hours: float = 0, *, base: dt.datetime = START) -> dt.datetime:
    return base + dt.timedelta(hours=hours)


def open_account(account, amount: str = "100.00", *, since: dt.datetime = START - dt.timedelta(1)):
    """Open ``account`` with an opening entry (as the sales desk would), its meters attached
    since ``since``."""
    AccountMeter.objects.filter(account=account).update(attached_at=since)
    account.status = AccountStatus.OPEN
    account.opened_at = since
    account.save(update_fields=["status", "opened_at"])
    with transaction.atomic():
        post(
            account.pk,
            [
                Posting(
                    kind=EntryKind.OPENING,
                    amount=Decimal(amount),
                    external_id=f"open-{account.pk}",
                    effective_at=since,
                )
            ],
            acting_user=None,
        )
    return account


def post_amount(account, amount: str, external_id: str, *, meter=None, when=None):
    with transaction.atomic():
        post(
            account.pk,
            [
                Posting(
                    kind=EntryKind.SALE,
                    amount=Decimal(amount),
                    external_id=external_id,
                    effective_at=when or START,
                    meter_id=meter.pk if meter is not None else None,
                )
            ],
            acting_user=None,
        )


def reading(meter, when: dt.datetime, total: str, **values) -> Reading:
    extra = {k: Decimal(v) if isinstance(v, str) else v for k, v in values.items()}
    return Reading(meter_id=meter.pk, read_at=when, energy_total=Decimal(total), **extra)


def store(*readings: Reading) -> None:
    DjangoRepository().store(Batch(readings=tuple(readings)))
