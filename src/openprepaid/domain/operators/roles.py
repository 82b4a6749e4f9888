"""Roles that match the jobs of a prepaid site, and what each may do.

The table is the whole rule: a capability not listed for a role is refused. Every role may
read what lies in its sites; the auditor may only read.
"""

from __future__ import annotations

from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMINISTRATOR = "administrator", _("Administrator")
    CASHIER = "cashier", _("Cashier")
    OPERATIONS = "operations", _("Operations")
    AUDITOR = "auditor", _("Auditor (read-only)")


class Capability(StrEnum):
    MANAGE_SITES = "manage_sites"  # create and edit sites (a customer's property)
    CONFIGURE = "configure"  # buildings, floors, units, gateways, meters, spreadsheet import
    MANAGE_TENANTS = "manage_tenants"  # tenants and their accounts
    SELL = "sell"  # sales desk: sales, refunds, corrections
    CONTROL_METERS = "control_meters"  # trip, close, keep power, push prices and settings
    MANAGE_OPERATORS = "manage_operators"
    VIEW_SYSTEM_LOG = "view_system_log"
    EXPORT = "export"


ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.ADMINISTRATOR: frozenset(Capability),
    Role.OPERATIONS: frozenset(
        {Capability.CONFIGURE, Capability.CONTROL_METERS, Capability.EXPORT}
    ),
    Role.CASHIER: frozenset({Capability.MANAGE_TENANTS, Capability.SELL, Capability.EXPORT}),
    Role.AUDITOR: frozenset({Capability.VIEW_SYSTEM_LOG, Capability.EXPORT}),
}
