"""Verbs that change tenants and their accounts. One transaction, permission check and
system-log row each. Opening, selling and closing arrive with billing."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from openprepaid.domain.audit.services import record
from openprepaid.domain.changes import create_record, update_record
from openprepaid.domain.errors import ConflictError, ServiceError
from openprepaid.domain.operators.permissions import require
from openprepaid.domain.operators.roles import Capability
from openprepaid.domain.sites.models import Lifecycle, Meter, Site
from openprepaid.domain.tenants.models import (
    Account,
    AccountMeter,
    AccountStatus,
    Tenant,
    TenantStatus,
)

TENANT_FIELDS = {"code", "name", "kind", "contact_name", "mobile", "note"}


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - TENANT_FIELDS
    if unknown:
        raise TypeError(f"unexpected fields: {', '.join(sorted(unknown))}")
    return {k: v.strip() if isinstance(v, str) else v for k, v in fields.items()}


@transaction.atomic
def create_tenant(*, acting_user, site: Site, **fields: Any) -> Tenant:
    require(acting_user, Capability.MANAGE_TENANTS, site.pk)
    return create_record(
        Tenant, acting_user=acting_user, action="tenant.create", site=site, **_clean(fields)
    )


@transaction.atomic
def update_tenant(tenant: Tenant, *, acting_user, **changes: Any) -> Tenant:
    require(acting_user, Capability.MANAGE_TENANTS, tenant.site_id)
    if tenant.status == TenantStatus.ARCHIVED:
        raise ConflictError(_("The tenant is archived."))
    return update_record(tenant, acting_user=acting_user, action="tenant.update", **_clean(changes))


@transaction.atomic
def archive_tenant(tenant: Tenant, *, acting_user) -> Tenant:
    require(acting_user, Capability.MANAGE_TENANTS, tenant.site_id)
    if tenant.status == TenantStatus.ARCHIVED:
        raise ConflictError(_("The tenant is archived."))
    if tenant.accounts.exclude(status=AccountStatus.CLOSED).exists():
        raise ConflictError(_("Close the tenant's accounts first."))
    return update_record(
        tenant, acting_user=acting_user, action="tenant.archive", status=TenantStatus.ARCHIVED
    )


def _next_account_number(site: Site) -> str:
    # The site row lock serialises number allocation between concurrent registrations; the
    # numbers have a fixed width, so the greatest text is the greatest number.
    Site.objects.select_for_update().filter(pk=site.pk).first()
    last = Account.objects.filter(site=site, number__regex=r"^A[0-9]{6}$").aggregate(
        last=Max("number")
    )["last"]
    return f"A{int(last[1:]) + 1 if last else 1:06d}"


@transaction.atomic
def register_account(
    *, acting_user, tenant: Tenant, meters: Iterable[Meter] = (), number: str = ""
) -> Account:
    """A registered account for the tenant, holding ``meters``; it opens with its first sale."""
    require(acting_user, Capability.MANAGE_TENANTS, tenant.site_id)
    if tenant.status == TenantStatus.ARCHIVED:
        raise ConflictError(_("The tenant is archived."))
    account = create_record(
        Account,
        acting_user=acting_user,
        action="account.register",
        site=tenant.site,
        tenant=tenant,
        number=number.strip() or _next_account_number(tenant.site),
    )
    attach_meters(account, meters, acting_user=acting_user)
    return account


@transaction.atomic
def attach_meters(account: Account, meters: Iterable[Meter], *, acting_user) -> list[Meter]:
    """Add meters to an account that is not closed (一户多表). Each meter may belong to one
    account at a time."""
    require(acting_user, Capability.MANAGE_TENANTS, account.site_id)
    if account.status == AccountStatus.CLOSED:
        raise ConflictError(_("The account is closed."))
    attached = []
    now = timezone.now()
    for meter in meters:
        if meter.gateway.site_id != account.site_id:
            raise ServiceError(
                _("Meter %(meter)s is on another site.") % {"meter": meter.address},
                code="meter_other_site",
            )
        if meter.lifecycle == Lifecycle.RETIRED:
            raise ConflictError(_("Meter %(meter)s is retired.") % {"meter": meter.address})
        holder = (
            AccountMeter.objects.filter(meter=meter, detached_at__isnull=True)
            .select_related("account")
            .first()
        )
        if holder is not None:
            if holder.account_id == account.pk:
                continue
            raise ConflictError(
                _("Meter %(meter)s already belongs to account %(account)s.")
                % {"meter": meter.address, "account": holder.account.number}
            )
        AccountMeter.objects.create(account=account, meter=meter, attached_at=now)
        attached.append(meter)
    if attached:
        record(
            acting_user=acting_user,
            action="account.attach_meters",
            obj=account,
            after={"meters": [m.pk for m in attached]},
        )
    return attached
