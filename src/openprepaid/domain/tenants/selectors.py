"""Reads of tenants and accounts for pages, limited to the sites the operator may see."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from openprepaid.domain.operators.permissions import limit_to_sites
from openprepaid.domain.sites.models import Lifecycle, Meter
from openprepaid.domain.tenants.models import Account, AccountMeter, AccountStatus, Tenant


def tenants_for(operator) -> QuerySet[Tenant]:
    return limit_to_sites(Tenant.objects.select_related("site"), operator).order_by(
        "site__code", "code"
    )


def tenant_list(operator, *, site=None, kind="", status="", q="") -> QuerySet[Tenant]:
    qs = tenants_for(operator)
    filters = {"site": site, "kind": kind, "status": status}
    qs = qs.filter(**{k: v for k, v in filters.items() if v not in (None, "")})
    qs = qs.annotate(
        account_count=Count("accounts", filter=~Q(accounts__status=AccountStatus.CLOSED))
    )
    text = (q or "").strip()
    if text:
        qs = qs.filter(
            Q(code__icontains=text)
            | Q(name__icontains=text)
            | Q(mobile__icontains=text)
            | Q(contact_name__icontains=text)
        )
    return qs


def _current_memberships() -> QuerySet[AccountMeter]:
    return AccountMeter.objects.filter(detached_at__isnull=True)


def tenant_accounts(tenant: Tenant) -> list[Account]:
    """The tenant's accounts, newest first, each with ``current_meters``: the meters it holds
    now, with their units."""
    memberships = _current_memberships().select_related("meter__unit", "meter__gateway")
    return list(
        tenant.accounts.order_by("-created_at", "-id").prefetch_related(
            Prefetch("memberships", queryset=memberships, to_attr="current_memberships")
        )
    )


def current_accounts(meters: Iterable[Meter]) -> dict[int, Account]:
    """For each meter id, the account (with its tenant) that holds the meter now."""
    ids = [m.pk for m in meters]
    if not ids:
        return {}
    rows = _current_memberships().filter(meter_id__in=ids).select_related("account__tenant")
    return {row.meter_id: row.account for row in rows}


def current_tenant_names(site) -> dict[int, str]:
    """Meter id → the name of the tenant whose account holds the meter now, for the whole site
    in one query of plain values (:func:`current_accounts` builds an account and a tenant
    object per meter, which for ten thousand meters costs the whole time budget of the board)."""
    return dict(
        _current_memberships()
        .filter(account__site=site)
        .values_list("meter_id", "account__tenant__name")
    )


def attachable_meters(tenant: Tenant) -> QuerySet[Meter]:
    """Meters of the tenant's site that are in service and belong to no account now."""
    held = _current_memberships().filter(meter=OuterRef("pk"))
    return (
        Meter.objects.filter(gateway__site_id=tenant.site_id)
        .exclude(lifecycle=Lifecycle.RETIRED)
        .exclude(Exists(held))
        .select_related("unit", "gateway")
        .order_by("unit__code", "address")
    )
