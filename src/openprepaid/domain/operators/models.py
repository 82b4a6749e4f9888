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
