"""The one place that decides whether an operator may do something, and in which sites.

Services call :func:`require` before they change anything; views call :func:`can` to decide
what to show. ``acting_user=None`` is the system itself (command line, headend, sample loader).
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from openprepaid.domain.errors import PermissionDeniedError
from openprepaid.domain.operators.roles import Capability


def visible_site_ids(operator) -> set[int] | None:
    """The ids of the sites an operator may see, or ``None`` for every site."""
    if operator is None:
        return None
    if not operator.is_authenticated or not operator.is_active:
        return set()
    cached = getattr(operator, "_visible_site_ids", False)
    if cached is not False:
        return cached
    ids = set(operator.sites.values_list("id", flat=True)) or None
    operator._visible_site_ids = ids
    return ids


def limit_to_sites(queryset: QuerySet, operator, site_field: str = "site") -> QuerySet:
    """Filter a queryset to the operator's sites. ``site_field`` is the lookup path to the site
    (``"site"``, ``"gateway__site"``, ``"id"`` for the Site model itself)."""
    ids = visible_site_ids(operator)
    if ids is None:
        return queryset
    return queryset.filter(**{f"{site_field}__in": ids})


def can_see_site(operator, site_id: int | None) -> bool:
    ids = visible_site_ids(operator)
    return ids is None or site_id in ids


def can(operator, capability: Capability, site_id: int | None = None) -> bool:
    if operator is None:
        return True
    if not getattr(operator, "is_authenticated", False):
        return False
    if not operator.has_capability(capability):
        return False
    if site_id is not None and not can_see_site(operator, site_id):
        return False
    if site_id is None and capability is Capability.MANAGE_SITES:
        # Creating a site is for administrators who are not limited to some sites.
        return visible_site_ids(operator) is None
    return True


def require(operator, capability: Capability, site_id: int | None = None) -> None:
    if not can(operator, capability, site_id):
        raise PermissionDeniedError(_("You are not allowed to do this."))
