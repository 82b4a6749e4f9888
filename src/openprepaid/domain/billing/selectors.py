"""Reads for the sales desk: finding an account, its summary and statement, the cashier's
daily cash-up and everything a receipt prints."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from openprepaid.calc.money import ZERO
from openprepaid.calc.words import amount_in_chinese
from openprepaid.domain.billing.models import (
    AccountBalance,
    AlarmLevel,
    LedgerEntry,
    Sale,
    SaleKind,
)
from openprepaid.domain.operators.permissions import limit_to_sites
from openprepaid.domain.tenants.models import Account, AccountMeter

SEARCH_LIMIT = 50


def search_accounts(operator, q: str, *, limit: int = SEARCH_LIMIT) -> QuerySet[Account]:
    """Accounts of the operator's sites matching ``q`` in the account number, the tenant's code,
    name or mobile, or the unit code or address of a meter it holds now."""
    text = (q or "").strip()
    qs = limit_to_sites(Account.objects.select_related("tenant", "site", "balance"), operator)
    if not text:
        return qs.none()
    current = Q(memberships__detached_at__isnull=True)
    matches = (
        Q(number__icontains=text)
        | Q(tenant__code__icontains=text)
        | Q(tenant__name__icontains=text)
        | Q(tenant__mobile__icontains=text)
        | (current & Q(memberships__meter__address__icontains=text))
        | (current & Q(memberships__meter__unit__code__icontains=text))
    )
    ids = qs.filter(matches).values("pk").distinct()
    return qs.filter(pk__in=ids).order_by("status", "site__code", "number")[:limit]


def _balance(account: Account) -> AccountBalance:
    balance = AccountBalance.objects.filter(account=account).first()
    return balance or AccountBalance(account=account, balance=ZERO, level=AlarmLevel.NORMAL)


def account_summary(account: Account, *, recent: int = 10) -> dict[str, Any]:
    """The account at a glance: tenant, the meters it holds now with what they last reported,
    the cached balance and alarm level, the latest sales."""
    balance = _balance(account)
    memberships = (
        AccountMeter.objects.filter(account=account, detached_at__isnull=True)
        .select_related("meter__unit", "meter__live", "meter__billing")
        .order_by("meter__address")
    )
    meters = []
    for membership in memberships:
        meter = membership.meter
        live = getattr(meter, "live", None)
        billing = getattr(meter, "billing", None)
        meters.append(
            {
                "meter": meter,
                "address": meter.address,
                "unit": meter.unit.code,
                "cost_control": meter.cost_control,
                "attached_at": membership.attached_at,
                "remaining": None if live is None else live.remaining,
                "overdraft": None if live is None else live.overdraft,
                "purchase_count": None if live is None else live.purchase_count,
                "relay_open": None if live is None else live.relay_open,
                "lost_contact": False if live is None else live.lost_contact,
                "energy_total": None if live is None else live.energy_total,
                "last_seen_at": None if live is None else live.last_seen_at,
                "purchase_count_allocated": None if billing is None else billing.purchase_count,
            }
        )
    sales = list(
        Sale.objects.filter(account=account)
        .select_related("meter", "cashier")
        .order_by("-created_at", "-id")[:recent]
    )
    return {
        "account": account,
        "tenant": account.tenant,
        "status": account.status,
        "balance": balance.balance,
        "level": balance.level,
        "meters": meters,
        "recent_sales": sales,
    }


def statement(account: Account) -> QuerySet[LedgerEntry]:
    """The account's ledger in order, each entry with its ``balance_after``."""
    return (
        LedgerEntry.objects.filter(account=account)
        .select_related("meter", "sale", "created_by")
        .order_by("id")
    )


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    return start, start + dt.timedelta(days=1)


def cash_up(cashier, day: dt.date, *, site=None) -> dict[str, Any]:
    """One cashier's day (local day): per payment method and kind the number of documents and
    their sum; the net per payment method and overall (refunds, closings and corrections count
    with their negative amounts, so a corrected sale nets to zero); the receipts in order."""
    start, end = _day_bounds(day)
    sales = Sale.objects.filter(cashier=cashier, created_at__gte=start, created_at__lt=end)
    if site is not None:
        sales = sales.filter(site=site)
    rows = [
        {
            "payment_method": row["payment_method"],
            "kind": row["kind"],
            "count": row["count"],
            "total": row["total"].quantize(ZERO),
        }
        for row in sales.values("payment_method", "kind")
        .annotate(count=Count("id"), total=Sum("amount"))
        .order_by("payment_method", "kind")
    ]
    by_method: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for row in rows:
        by_method[row["payment_method"]] += row["total"]
    corrected = sum((r["total"] for r in rows if r["kind"] == SaleKind.CORRECTION), ZERO).quantize(
        ZERO
    )
    refunded = sum(
        (r["total"] for r in rows if r["kind"] in (SaleKind.REFUND, SaleKind.CLOSING)), ZERO
    ).quantize(ZERO)
    return {
        "cashier": cashier,
        "day": day,
        "rows": rows,
        "by_method": dict(sorted(by_method.items())),
        "corrections": corrected,
        "refunds": refunded,
        "net": sum(by_method.values(), ZERO).quantize(ZERO),
        "count": sum(r["count"] for r in rows),
        "receipts": list(
            sales.select_related("account__tenant", "meter").order_by("created_at", "id")
        ),
    }


def receipt_data(sale: Sale) -> dict[str, Any]:
    """Everything a receipt prints, as plain values (text, Decimal, datetime in local time)."""
    sale = Sale.objects.select_related(
        "site", "account__tenant", "meter__unit", "cashier", "corrects"
    ).get(pk=sale.pk)
    entries = list(LedgerEntry.objects.filter(sale=sale).order_by("id"))
    meter = sale.meter
    if meter is None:
        held = (
            AccountMeter.objects.filter(account=sale.account)
            .select_related("meter__unit")
            .order_by("detached_at", "-attached_at")
            .first()
        )
        unit = held.meter.unit if held is not None else None
    else:
        unit = meter.unit
    cashier = sale.cashier
    return {
        "site_name": sale.site.name,
        "site_code": sale.site.code,
        "receipt_number": sale.receipt_number,
        "time": timezone.localtime(sale.created_at),
        "kind": sale.kind,
        "kind_display": sale.get_kind_display(),
        "tenant_name": sale.account.tenant.name,
        "tenant_code": sale.account.tenant.code,
        "unit": "" if unit is None else unit.code,
        "unit_name": "" if unit is None else unit.name,
        "account_number": sale.account.number,
        "meter_address": "" if meter is None else meter.address,
        "amount": sale.amount,
        "amount_in_words": amount_in_chinese(sale.amount),
        "energy": sale.energy,
        "unit_price": sale.unit_price,
        "payment_method": sale.payment_method,
        "payment_method_display": sale.get_payment_method_display(),
        "balance_after": entries[-1].balance_after if entries else None,
        "cashier": "" if cashier is None else (cashier.get_full_name() or cashier.get_username()),
        "purchase_count": sale.purchase_count,
        "delivery": sale.delivery,
        "corrects": "" if sale.corrects is None else sale.corrects.receipt_number,
        "external_id": sale.external_id,
        "note": sale.note,
    }
