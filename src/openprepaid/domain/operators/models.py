from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from openprepaid.domain.operators.roles import ROLE_CAPABILITIES, Capability, Role


class Operator(AbstractUser):
    """A person who logs in to the console. ``sites`` empty means every site."""

    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.AUDITOR)
    sites = models.ManyToManyField(
        "sites.Site",
        verbose_name=_("limited to sites"),
        blank=True,
        related_name="operators",
        help_text=_("Leave empty to allow every site."),
    )
    mobile = models.CharField(_("mobile number"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("operator")
        verbose_name_plural = _("operators")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="operator_role_valid"
            )
        ]

    def __str__(self) -> str:
        full = self.get_full_name()
        return f"{full} ({self.username})" if full else self.username

    def has_capability(self, capability: Capability) -> bool:
        if not self.is_active:
            return False
        return capability in ROLE_CAPABILITIES.get(self.role, frozenset())

    @property
    def is_site_limited(self) -> bool:
        return self.sites.exists()


class ApiToken(models.Model):
    """A key an operator's programs use for the REST API (``Authorization: Bearer <token>``).

    Only the SHA-256 of the token is stored; the token itself is shown once, when it is created.
    A request made with it acts as its operator: the same role, sites and system-log rows as the
    console. Revoked tokens stay, so that the log keeps pointing at something.
    """

    operator = models.ForeignKey(
        Operator, verbose_name=_("operator"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    key_hash = models.CharField(_("key hash (SHA-256)"), max_length=64, unique=True)
    prefix = models.CharField(_("first characters"), max_length=12)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["operator_id", "-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ApiIdempotencyKey(models.Model):
    """The answer given to an API request that carried an ``Idempotency-Key`` header, so that the
    same request sent again (a client retrying after a lost answer) gets the same answer instead
    of acting twice. Kept per operator for :data:`IDEMPOTENCY_WINDOW`."""

    operator = models.ForeignKey(
        Operator, verbose_name=_("operator"), on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(_("key"), max_length=100)
    fingerprint = models.CharField(_("request fingerprint (SHA-256)"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("status code"))
    body = models.JSONField(_("response body"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("API idempotency key")
        verbose_name_plural = _("API idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=["operator", "key"], name="idempotency_key_once")
        ]

    def __str__(self) -> str:
        return f"{self.operator_id}:{self.key}"
