"""Billing for the sample site: its tariff, its thresholds and its accounts opened.

:func:`open_sample_accounts` takes the same path as a cashier and an operations engineer would:
the time-of-use tariff is created and assigned to the whole site with the tariff service, the
thresholds are the site's billing settings, and every registered account is opened through
``openprepaid.domain.billing.services.open_account`` with an opening purchase (a whole-yuan
amount drawn from the seed). A locally controlled meter gets its money through the headend (an
``open_account`` command carrying the purchase count, sealed with the master key, confirmed by
reading back); a remotely controlled one is priced from its readings by the billing engine.

The tariff's prices and day table are the simulated meters' own (sharp 1.2000, peak 1.0000,
flat 0.7000, valley 0.4000 yuan/kWh, switching as ``openprepaid.simulator.tou``), so local and
remote meters cost the same for the same use.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from openprepaid.domain.billing.models import AssignmentScope, Tariff, TariffKind
from openprepaid.domain.billing.services import open_account, sell
from openprepaid.domain.billing.services.settings import update_billing_settings
from openprepaid.domain.billing.services.tariffs import assign_tariff, create_tariff
from openprepaid.domain.errors import ServiceError
from openprepaid.domain.sample.sitegen import SITE_CODE
from openprepaid.domain.sites.models import CostControl, Site
from openprepaid.domain.tenants.models import Account, AccountMeter, AccountStatus

TARIFF_CODE = "TOU-2026"
#: Opening purchases of the demo: whole yuan, drawn per account from the seed.
DEMO_AMOUNTS = (Decimal(20), Decimal(120))
SAMPLE_TOU = {
    "prices": {"sharp": "1.2000", "peak": "1.0000", "flat": "0.7000", "valley": "0.4000"},
    "day_tables": {
        "everyday": [
            ["00:00", "valley"],
            ["08:00", "flat"],
            ["10:00", "peak"],
            ["12:00", "sharp"],
            ["14:00", "peak"],
            ["17:00", "flat"],
            ["19:00", "sharp"],
            ["21:00", "peak"],
            ["23:00", "valley"],
        ]
    },
    "seasons": [{"from": "01-01", "workday": "everyday", "holiday": "everyday"}],
}
SAMPLE_SETTINGS = {
    "alarm_1": Decimal("50.00"),
    "alarm_2": Decimal("20.00"),
    "overdraft_limit": Decimal("0.00"),
    "close_allowed_limit": Decimal("0.00"),
    "receipt_prefix": "XG",
}


@dataclass(frozen=True, slots=True)
class SampleAccounts:
    """What :func:`open_sample_accounts` did."""

    opened: int  # accounts opened now
    local_meters: int  # meters whose money the headend writes (open_account commands)
    remote_meters: int  # meters priced from their readings
    amount: Decimal  # opening purchases in total, yuan

    def __str__(self) -> str:
        return _(
            "Sample accounts: %(opened)d opened with %(amount)s yuan of opening purchases; "
            "%(local)d local meters get their money through the headend, %(remote)d remote "
            "meters are priced from their readings."
        ) % {
            "opened": self.opened,
            "amount": self.amount,
            "local": self.local_meters,
            "remote": self.remote_meters,
        }


def opening_amount(rng: random.Random, low: Decimal, high: Decimal) -> Decimal:
    return Decimal(rng.randint(int(low), int(high))).quantize(Decimal("0.01"))


@transaction.atomic
def open_sample_accounts(
    *,
    acting_user=None,
    seed: int = 2026,
    amounts: tuple[Decimal, Decimal] = DEMO_AMOUNTS,
) -> SampleAccounts:
    """Give the sample site its tariff and thresholds (once) and open every account of it that
    is still registered, each with an opening purchase. Safe to call again: what is done is not
    done twice (the external ids are the account numbers)."""
    site = Site.objects.filter(code=SITE_CODE).first()
    if site is None:
        raise ServiceError(
            _("Load the sample site first (%(code)s is missing).") % {"code": SITE_CODE},
            code="sample_missing",
        )
    low, high = amounts
    if not 0 <= low <= high:
        raise ServiceError(_("The opening amounts must be 0 ≤ low ≤ high."), code="amounts")
    _ensure_tariff(site, acting_user)
    rng = random.Random(seed)  # noqa: S311 - sample data, not secrets
    accounts = list(
        Account.objects.filter(site=site, status=AccountStatus.REGISTERED).order_by("number")
    )
    memberships: dict[int, list] = {}
    for member in (
        AccountMeter.objects.filter(account__in=accounts, detached_at__isnull=True)
        .select_related("meter")
        .order_by("meter__address")
    ):
        memberships.setdefault(member.account_id, []).append(member.meter)
    opened = local = remote = 0
    total = Decimal("0.00")
    for account in accounts:
        meters = memberships.get(account.pk, [])
        if not meters:
            continue
        locals_ = [m for m in meters if m.cost_control == CostControl.LOCAL]
        amount = opening_amount(rng, low, high)
        # A local meter holds its own wallet: each gets an opening purchase of its own, the
        # first with the account's opening, the others as sales (each an open-account command).
        first = locals_[0] if locals_ else None
        open_account(
            acting_user=acting_user,
            account=account,
            amount=amount,
            payment_method="cash",
            external_id=f"sample-open-{account.number}",
            meter=first,
            note=_("sample site"),
        )
        total += amount
        for meter in locals_[1:]:
            sell(
                acting_user=acting_user,
                account=account,
                payment_method="cash",
                external_id=f"sample-open-{account.number}-{meter.address}",
                amount=amount,
                meter=meter,
                note=_("sample site"),
            )
            total += amount
        opened += 1
        local += len(locals_)
        remote += len(meters) - len(locals_)
    return SampleAccounts(opened=opened, local_meters=local, remote_meters=remote, amount=total)


def _ensure_tariff(site: Site, acting_user) -> None:
    if Tariff.objects.filter(site=site, code=TARIFF_CODE).exists():
        return
    since = timezone.make_aware(datetime.combine(timezone.localdate().replace(day=1), time()))
    tariff = create_tariff(
        acting_user=acting_user,
        site=site,
        code=TARIFF_CODE,
        name=_("Time-of-use 2026"),
        kind=TariffKind.TIME_OF_USE,
        definition=SAMPLE_TOU,
        effective_from=since,
    )
    assign_tariff(
        acting_user=acting_user, tariff=tariff, scope=AssignmentScope.SITE, effective_from=since
    )
    update_billing_settings(acting_user=acting_user, site=site, **SAMPLE_SETTINGS)
