"""Reads the sales desk pages need beside :mod:`openprepaid.domain.billing.selectors`: which
accounts and sales an operator may open, an account's meters and sales, what a sale by energy
comes to, the settlement a closing would make, the meters a swap may bring in, the cashiers whose
cash-up an operator may read.

Each function that takes an operator returns only rows of the sites that operator may see. None
of them writes; the figures they preview (a quote, a settlement) are computed again by the
service that records them, under its locks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import BooleanField, Case, Exists, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone

from openprepaid.calc.money import ZERO, money
from openprepaid.domain.billing import pricing
from openprepaid.domain.billing.models import (
    AccountBalance,
    BillingSettings,
    Sale,
    SaleKind,
)
from openprepaid.domain.billing.services.documents import (
    choose_meter,
    current_meters,
    reported_balance,
    wallet,
)
from openprepaid.domain.metering.models import MeterStatus
from openprepaid.domain.operators.models import Operator
from openprepaid.domain.operators.permissions import limit_to_sites, visible_site_ids
from openprepaid.domain.operators.roles import Role
from openprepaid.domain.sites.models import CostControl, Lifecycle, Meter
from openprepaid.domain.tenants.models import Account, AccountMeter

#: Sale kinds a correction may reverse (the service refuses the others).
CORRECTABLE = (SaleKind.OPENING, SaleKind.SALE, SaleKind.REFUND)
#: The amount an opening starts at when the site has no billing settings (the settings' default).
DEFAULT_OPENING_AMOUNT = Decimal("100.00")


def accounts_for(operator) -> QuerySet[Account]:
    return limit_to_sites(Account.objects.select_related("tenant", "site"), operator)


def sales_for(operator) -> QuerySet[Sale]:
    return limit_to_sites(
        Sale.objects.select_related(
            "account__tenant", "site", "meter__unit", "cashier", "corrects", "command"
        ),
        operator,
    )


def account_meters(account: Account) -> list[Meter]:
    """The meters the account holds now, with unit and gateway, by address."""
    return current_meters(account)


def account_sales(account: Account) -> QuerySet[Sale]:
    """The account's sales, newest first, each with ``correctable``: a correction may be asked
    for (a kind that can be reversed and not reversed yet)."""
    reversed_ = Sale.objects.filter(corrects=OuterRef("pk"))
    return (
        Sale.objects.filter(account=account)
        .select_related("meter", "cashier", "corrects")
        .annotate(
            correctable=Case(
                When(Q(kind__in=CORRECTABLE) & ~Exists(reversed_), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .order_by("-created_at", "-id")
    )


def recorded(external_id: str) -> Sale | None:
    """The document already recorded under ``external_id`` (a form sent twice), if any."""
    return Sale.objects.filter(external_id=external_id).first()


def may_correct(sale: Sale) -> bool:
    """Whether the desk offers to correct ``sale`` (the service has the last word)."""
    return sale.kind in CORRECTABLE and not sale.corrections.exists()


@dataclass(frozen=True, slots=True)
class Quote:
    energy: Decimal
    unit_price: Decimal
    amount: Decimal
    meter: Meter


def quote_energy(account: Account, *, energy: Decimal, meter: Meter | None = None) -> Quote:
    """What a sale of ``energy`` kWh comes to now (raises the service's errors: no tariff, a
    meter to choose)."""
    chosen = choose_meter(account, meter, need_meter=True)
    unit_price = pricing.sale_unit_price(chosen, timezone.now())
    return Quote(
        energy=energy, unit_price=unit_price, amount=money(energy * unit_price), meter=chosen
    )


def default_opening_amount(account: Account) -> Decimal:
    """The amount an opening form starts at: the site's default opening amount
    (``BillingSettings.opening_amount``; :data:`DEFAULT_OPENING_AMOUNT` when the site has no
    billing settings yet)."""
    amount = (
        BillingSettings.objects.filter(site_id=account.site_id)
        .values_list("opening_amount", flat=True)
        .first()
    )
    return amount if amount is not None else DEFAULT_OPENING_AMOUNT


@dataclass(frozen=True, slots=True)
class SettlementMeter:
    meter: Meter
    final_energy: Decimal | None
    read_at: dt.datetime | None
    remaining: Decimal | None  # what a local meter last reported holding


@dataclass(frozen=True, slots=True)
class Settlement:
    balance: Decimal  # the account's ledger balance now
    refund: Decimal  # what closing now would pay back (negative: what the tenant owes)
    meters: list[SettlementMeter] = field(default_factory=list)
    unread: list[Meter] = field(default_factory=list)  # local meters that never reported


def settlement(account: Account) -> Settlement:
    """What closing the account now would settle: each meter's final reading, each local
    meter's wallet brought to what the meter reported, the total paid back."""
    meters = current_meters(account)
    balance = (
        AccountBalance.objects.filter(account=account).values_list("balance", flat=True).first()
        or ZERO
    )
    statuses = {
        row["meter_id"]: row
        for row in MeterStatus.objects.filter(meter__in=meters).values(
            "meter_id", "energy_total", "last_full_at", "last_seen_at"
        )
    }
    total = balance
    rows = []
    unread = []
    for meter in meters:
        status = statuses.get(meter.pk, {})
        remaining = None
        if meter.cost_control == CostControl.LOCAL:
            remaining = reported_balance(meter)
            if remaining is None:
                unread.append(meter)
            else:
                total += remaining - wallet(account, meter)
        rows.append(
            SettlementMeter(
                meter=meter,
                final_energy=status.get("energy_total"),
                read_at=status.get("last_full_at") or status.get("last_seen_at"),
                remaining=remaining,
            )
        )
    return Settlement(balance=balance, refund=total, meters=rows, unread=unread)


def swap_candidates(account: Account) -> QuerySet[Meter]:
    """Meters a swap may bring into the account: on its site, new (not opened, not retired) and
    in no account now."""
    held = AccountMeter.objects.filter(meter=OuterRef("pk"), detached_at__isnull=True)
    return (
        Meter.objects.filter(gateway__site_id=account.site_id, lifecycle=Lifecycle.NOT_OPENED)
        .exclude(Exists(held))
        .select_related("unit", "gateway")
        .order_by("unit__code", "address")
    )


def receipt_layout(site) -> dict:
    """The site's receipt layout (empty: the default layout)."""
    layout = (
        BillingSettings.objects.filter(site_id=site.pk)
        .values_list("receipt_layout", flat=True)
        .first()
    )
    return layout or {}


def cashiers_for(operator) -> QuerySet[Operator]:
    """Operators who may sell in the sites ``operator`` may see (whose cash-up they may read)."""
    qs = Operator.objects.filter(role__in=[Role.CASHIER, Role.ADMINISTRATOR]).order_by("username")
    ids = visible_site_ids(operator)
    if ids is not None:
        qs = qs.filter(Q(sites__in=ids) | Q(sites__isnull=True)).distinct()
    return qs


@dataclass(frozen=True, slots=True)
class SearchResult:
    account: Account
    balance: Decimal
    units: list[str]
    meters: list[str]


def search_results(operator, q: str, *, limit: int = 30) -> list[SearchResult]:
    """:func:`~openprepaid.domain.billing.selectors.search_accounts` with, for each account, its
    balance and the units and meter addresses it holds now (two queries in all)."""
    from openprepaid.domain.billing.selectors import search_accounts

    accounts = list(search_accounts(operator, q, limit=limit))
    held: dict[int, list[Meter]] = {a.pk: [] for a in accounts}
    for membership in (
        AccountMeter.objects.filter(account_id__in=list(held), detached_at__isnull=True)
        .select_related("meter__unit")
        .order_by("meter__address")
    ):
        held[membership.account_id].append(membership.meter)
    results = []
    for account in accounts:
        cached = account.balance if _has_balance(account) else None
        meters = held[account.pk]
        results.append(
            SearchResult(
                account=account,
                balance=cached.balance if cached is not None else ZERO,
                units=sorted({m.unit.code for m in meters if m.unit_id}),
                meters=[m.address for m in meters],
            )
        )
    return results


def _has_balance(account: Account) -> bool:
    try:
        account.balance  # noqa: B018 — the reverse one-to-one raises when there is none
    except AccountBalance.DoesNotExist:
        return False
    return True
