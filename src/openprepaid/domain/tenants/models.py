"""Tenants (商户) and their accounts. One account may hold several meters (一户多表); a meter
belongs to at most one account that is not closed, which a partial unique index enforces."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from openprepaid.domain.validation import OneQueryChecks

MOBILE_PATTERN = r"^1[3-9][0-9]{9}$"


class TenantKind(models.TextChoices):
    PERSON = "person", _("Person")
    COMPANY = "company", _("Company")


class TenantStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    ARCHIVED = "archived", _("Archived")


class Tenant(OneQueryChecks):
    site = models.ForeignKey(
        "sites.Site", verbose_name=_("site"), on_delete=models.PROTECT, related_name="tenants"
    )
    code = models.CharField(_("tenant number"), max_length=32)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=8, choices=TenantKind.choices)
    contact_name = models.CharField(_("contact person"), max_length=64, blank=True)
    mobile = models.CharField(
        _("mobile number"),
        max_length=11,
        blank=True,
        validators=[
            RegexValidator(MOBILE_PATTERN, _("A mobile number has 11 digits and starts with 1."))
        ],
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=TenantStatus.choices, default=TenantStatus.ACTIVE
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("tenant")
        verbose_name_plural = _("tenants")
        ordering = ["site", "code"]
        constraints = [
            models.UniqueConstraint(fields=["site", "code"], name="tenant_code_unique_on_site"),
            models.CheckConstraint(
                condition=Q(kind__in=TenantKind.values), name="tenant_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(mobile="") | Q(mobile__regex=MOBILE_PATTERN),
                name="tenant_mobile_format",
            ),
            models.CheckConstraint(
                condition=Q(status__in=TenantStatus.values), name="tenant_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def audit_site(self):
        return self.site


class AccountStatus(models.TextChoices):
    REGISTERED = "registered", _("Registered (not yet opened)")
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class Account(OneQueryChecks):
    """A tenant's prepaid account. It is registered before the first purchase, open while
    selling, and closed with a final settlement."""

    site = models.ForeignKey(
        "sites.Site", verbose_name=_("site"), on_delete=models.PROTECT, related_name="accounts"
    )
    number = models.CharField(_("account number"), max_length=32)
    tenant = models.ForeignKey(
        Tenant, verbose_name=_("tenant"), on_delete=models.PROTECT, related_name="accounts"
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=AccountStatus.choices,
        default=AccountStatus.REGISTERED,
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    opened_at = models.DateTimeField(_("opened"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    meters = models.ManyToManyField(
        "sites.Meter", through="AccountMeter", related_name="accounts", blank=True
    )

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["site", "number"]
        constraints = [
            models.UniqueConstraint(fields=["site", "number"], name="account_number_unique"),
            models.CheckConstraint(
                condition=(
                    Q(status="registered") & Q(opened_at__isnull=True, closed_at__isnull=True)
                )
                | (Q(status="open") & Q(opened_at__isnull=False, closed_at__isnull=True))
                | (Q(status="closed") & Q(closed_at__isnull=False)),
                name="account_status_times",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def audit_site(self):
        return self.site


class AccountMeter(OneQueryChecks):
    """A meter's membership of an account, from ``attached_at`` until ``detached_at``."""

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="memberships"
    )
    meter = models.ForeignKey(
        "sites.Meter", verbose_name=_("meter"), on_delete=models.PROTECT, related_name="memberships"
    )
    attached_at = models.DateTimeField(_("attached"))
    detached_at = models.DateTimeField(_("detached"), null=True, blank=True)

    class Meta:
        verbose_name = _("account meter")
        verbose_name_plural = _("account meters")
        constraints = [
            models.UniqueConstraint(
                fields=["meter"],
                condition=Q(detached_at__isnull=True),
                name="meter_in_one_account_at_a_time",
                violation_error_message=_("This meter already belongs to another account."),
            ),
            models.CheckConstraint(
                condition=Q(detached_at__isnull=True) | Q(detached_at__gte=models.F("attached_at")),
                name="account_meter_detached_after_attached",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account} ← {self.meter}"
