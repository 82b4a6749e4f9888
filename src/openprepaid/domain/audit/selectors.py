"""Reads of the system log. An operator limited to some sites sees only those sites' rows (not
the rows that belong to no site, such as logins and operator changes); an operator with every
site sees every row."""

from __future__ import annotations

import datetime as dt

from django.db.models import Model, Q, QuerySet

from openprepaid.domain.audit.models import SystemLog
from openprepaid.domain.operators.permissions import limit_to_sites


def system_log_for(operator) -> QuerySet[SystemLog]:
    return limit_to_sites(SystemLog.objects.select_related("site"), operator)


def system_log_list(
    operator,
    *,
    actor=None,
    action: str = "",
    object_type: str = "",
    site=None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    q: str = "",
) -> QuerySet[SystemLog]:
    qs = system_log_for(operator)
    if actor is not None:
        qs = qs.filter(actor=actor)
    if action:
        qs = qs.filter(action=action)
    if object_type:
        qs = qs.filter(object_type=object_type)
    if site is not None:
        qs = qs.filter(site=site)
    if date_from is not None:
        qs = qs.filter(at__date__gte=date_from)
    if date_to is not None:
        qs = qs.filter(at__date__lte=date_to)
    text = (q or "").strip()
    if text:
        qs = qs.filter(
            Q(actor_name__icontains=text)
            | Q(object_repr__icontains=text)
            | Q(object_id=text)
            | Q(note__icontains=text)
            | Q(action__icontains=text)
            | Q(origin__icontains=text)
        )
    return qs


def history_of(operator, obj: Model) -> QuerySet[SystemLog]:
    """The log rows about one object, newest first."""
    return system_log_for(operator).filter(object_type=obj._meta.model_name, object_id=str(obj.pk))


def actions_in_log(operator) -> list[str]:
    return list(
        system_log_for(operator).order_by("action").values_list("action", flat=True).distinct()
    )


def object_types_in_log(operator) -> list[str]:
    return list(
        system_log_for(operator)
        .exclude(object_type="")
        .order_by("object_type")
        .values_list("object_type", flat=True)
        .distinct()
    )
