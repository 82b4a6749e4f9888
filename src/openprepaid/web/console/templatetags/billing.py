"""The billing card of a meter's page: the tariff that prices it now and its thresholds (its own
overrides over the site's), with a link to change them."""

from __future__ import annotations

from django import template

from openprepaid.domain.billing import selectors_config as selectors
from openprepaid.domain.operators.permissions import can
from openprepaid.domain.operators.roles import Capability
from openprepaid.domain.sites.models import Lifecycle
from openprepaid.web.console.tariff_display import describe, legend

register = template.Library()

THRESHOLD_FIELDS = (
    "alarm_1",
    "alarm_2",
    "overdraft_limit",
    "close_allowed_limit",
    "overload_power_kw",
)


@register.inclusion_tag("console/billing/_meter_card.html", takes_context=True)
def meter_billing_card(context, meter):
    site = meter.gateway.site
    defaults = selectors.billing_settings(site)
    own = selectors.meter_thresholds(meter)
    rows = []
    for name in THRESHOLD_FIELDS:
        override = getattr(own, name) if own is not None else None
        rows.append(
            {
                "name": name,
                "label": defaults._meta.get_field(name).verbose_name,
                "value": override if override is not None else getattr(defaults, name),
                "own": override is not None,
            }
        )
    effective = selectors.effective_tariff(meter)
    user = context["request"].user
    return {
        "meter": meter,
        "effective": effective,
        "view": describe(effective.tariff.kind, effective.version.definition)
        if effective is not None and effective.version is not None
        else None,
        "legend": legend(),
        "hours": (0, 6, 12, 18, 24),
        "thresholds": rows,
        "groups": selectors.meter_groups_of(meter),
        "upcoming": selectors.upcoming_assignments(meter),
        "can_configure": can(user, Capability.CONFIGURE, site.pk)
        and meter.lifecycle != Lifecycle.RETIRED,
    }
