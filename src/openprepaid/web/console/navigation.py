"""The side navigation: areas, their pages, and the capability each page needs.

An entry whose capability the operator lacks is not shown. ``area`` ties an entry to the URL
names of its pages (``unit_list``, ``unit_edit`` … belong to the area ``unit``), which is how
the current page is highlighted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from openprepaid.domain.operators.permissions import can
from openprepaid.domain.operators.roles import Capability


@dataclass(frozen=True)
class NavEntry:
    key: str
    label: Promise
    icon: str
    url_name: str | None = None
    #: the capability the entry needs, or a tuple of which any one is enough
    capability: Capability | tuple[Capability, ...] | None = None
    areas: tuple[str, ...] = ()
    disabled_hint: Promise | None = None
    children: tuple[NavEntry, ...] = ()


@dataclass
class NavLink:
    key: str
    label: Promise
    icon: str
    url: str | None
    active: bool = False
    disabled_hint: Promise | None = None
    children: list[NavLink] = field(default_factory=list)


NAVIGATION: tuple[NavEntry, ...] = (
    NavEntry("home", _("Overview"), "speedometer2", "console:home", areas=("home",)),
    NavEntry("board", _("Meter board"), "grid-3x3-gap", "console:board", areas=("board",)),
    NavEntry(
        "batches",
        _("Batch commands"),
        "collection",
        "console:batch_list",
        Capability.CONTROL_METERS,
        ("batch",),
    ),
    NavEntry(
        "sales",
        _("Sales desk"),
        "cash-coin",
        "console:sales_desk",
        # who sells, and the auditor who reads the sales (the pages check the same)
        (Capability.SELL, Capability.VIEW_SYSTEM_LOG),
        ("sales",),
    ),
    NavEntry("tenants", _("Tenants"), "people", "console:tenant_list", areas=("tenant",)),
    NavEntry(
        "reports",
        _("Reports"),
        "bar-chart-line",
        children=(
            NavEntry(
                "report-system-log",
                _("System log"),
                "journal-text",
                "console:systemlog_list",
                Capability.VIEW_SYSTEM_LOG,
                ("systemlog",),
            ),
            NavEntry(
                "report-export",
                _("Configuration export"),
                "file-earmark-arrow-down",
                "console:export",
                Capability.EXPORT,
                ("export",),
            ),
        ),
    ),
    NavEntry(
        "billing",
        _("Billing"),
        "currency-yen",
        children=(
            NavEntry("tariffs", _("Tariffs"), "tags", "console:tariff_list", areas=("tariff",)),
            NavEntry(
                "meter-groups",
                _("Meter groups"),
                "collection",
                "console:metergroup_list",
                areas=("metergroup",),
            ),
            NavEntry(
                "billing-settings",
                _("Billing settings"),
                "sliders",
                "console:billingsettings",
                areas=("billingsettings",),
            ),
            NavEntry(
                "holidays",
                _("Holidays"),
                "calendar-event",
                "console:holiday_list",
                areas=("holiday",),
            ),
            NavEntry(
                "billing-alarms",
                _("Billing alarms"),
                "bell",
                "console:billingalarm_list",
                areas=("billingalarm",),
            ),
        ),
    ),
    NavEntry(
        "settings",
        _("Settings"),
        "gear",
        children=(
            NavEntry("sites", _("Sites"), "buildings", "console:site_list", areas=("site",)),
            NavEntry("units", _("Units"), "shop", "console:unit_list", areas=("unit",)),
            NavEntry(
                "gateways", _("Gateways"), "router", "console:gateway_list", areas=("gateway",)
            ),
            NavEntry("meters", _("Meters"), "speedometer", "console:meter_list", areas=("meter",)),
            NavEntry(
                "configio",
                _("Quick configuration"),
                "file-earmark-spreadsheet",
                "console:configio",
                Capability.CONFIGURE,
                ("configio",),
            ),
            NavEntry(
                "operators",
                _("Operators"),
                "person-badge",
                "console:operator_list",
                Capability.MANAGE_OPERATORS,
                ("operator",),
            ),
            NavEntry(
                "system-log",
                _("System log"),
                "journal-text",
                "console:systemlog_list",
                Capability.VIEW_SYSTEM_LOG,
            ),
        ),
    ),
)


def navigation_for(operator, area: str) -> list[NavLink]:
    """The entries ``operator`` may use, with the one for ``area`` marked active."""
    return [link for entry in NAVIGATION if (link := _link(entry, operator, area)) is not None]


def _link(entry: NavEntry, operator, area: str) -> NavLink | None:
    needed = entry.capability if isinstance(entry.capability, tuple) else (entry.capability,)
    if entry.capability is not None and not any(can(operator, c) for c in needed):
        return None
    children = [c for child in entry.children if (c := _link(child, operator, area))]
    if entry.children and not children:
        return None
    return NavLink(
        key=entry.key,
        label=entry.label,
        icon=entry.icon,
        url=reverse(entry.url_name) if entry.url_name else None,
        active=area in entry.areas or any(c.active for c in children),
        disabled_hint=entry.disabled_hint,
        children=children,
    )
