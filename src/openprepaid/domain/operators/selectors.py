"""Reads of operators for the console.

An operator with every site sees every operator. An operator limited to some sites sees only
operators limited to sites among theirs, never an unlimited one.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from openprepaid.domain.operators.models import Operator
from openprepaid.domain.operators.permissions import visible_site_ids


def operators_for(operator) -> QuerySet[Operator]:
    qs = Operator.objects.prefetch_related("sites").order_by("username")
    ids = visible_site_ids(operator)
    if ids is None:
        return qs
    other_sites = Operator.sites.through.objects.filter(operator=OuterRef("pk")).exclude(
        site_id__in=ids
    )
    return qs.filter(sites__in=ids).exclude(Exists(other_sites)).distinct()


def operator_list(operator, *, role: str = "", active: str = "", q: str = "") -> QuerySet:
    qs = operators_for(operator)
    if role:
        qs = qs.filter(role=role)
    if active in ("yes", "no"):
        qs = qs.filter(is_active=active == "yes")
    text = (q or "").strip()
    if text:
        qs = qs.filter(
            Q(username__icontains=text)
            | Q(first_name__icontains=text)
            | Q(last_name__icontains=text)
            | Q(mobile__icontains=text)
        )
    return qs


def locked_usernames(usernames=None) -> set[str]:
    """User names locked out now after repeated failed logins."""
    from axes.models import AccessAttempt

    qs = AccessAttempt.objects.filter(failures_since_start__gte=settings.AXES_FAILURE_LIMIT)
    cool_off = getattr(settings, "AXES_COOLOFF_TIME", None)
    if cool_off:
        qs = qs.filter(attempt_time__gte=timezone.now() - cool_off)
    if usernames is not None:
        qs = qs.filter(username__in=list(usernames))
    return set(qs.values_list("username", flat=True))


def api_tokens_for(operator, *, owner: Operator | None = None) -> QuerySet:
    """API tokens of the operators ``operator`` may see (their own always), newest first."""
    from openprepaid.domain.operators.models import ApiToken

    visible = operators_for(operator).values("pk")
    qs = ApiToken.objects.select_related("operator")
    if operator is not None:
        qs = qs.filter(Q(operator__in=visible) | Q(operator=operator))
    if owner is not None:
        qs = qs.filter(operator=owner)
    return qs.order_by("operator__username", "-created_at", "-id")
