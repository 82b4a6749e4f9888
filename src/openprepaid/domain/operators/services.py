"""Verbs that change operators. Passwords are hashed with Argon2 and never logged."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from openprepaid.domain.audit.services import record
from openprepaid.domain.changes import create_record, update_record
from openprepaid.domain.errors import ConflictError, PermissionDeniedError, ServiceError
from openprepaid.domain.operators.models import Operator
from openprepaid.domain.operators.permissions import require, visible_site_ids
from openprepaid.domain.operators.roles import Capability, Role

PROFILE_FIELDS = {"first_name", "last_name", "email", "mobile", "role", "is_active"}


def _check_password(password: str, operator: Operator | None = None) -> None:
    try:
        validate_password(password, user=operator)
    except ValidationError as error:
        raise ServiceError(field_errors={"password": list(error.messages)}) from None


def _check_site_scope(acting_user, sites: Iterable | None, operator: Operator | None = None):
    """An administrator limited to some sites manages only operators limited to sites among
    theirs, and cannot grant other sites or every site."""
    allowed = visible_site_ids(acting_user)
    if allowed is None:
        return
    if operator is not None:
        current = set(operator.sites.values_list("id", flat=True))
        if not current or not current <= allowed:
            raise PermissionDeniedError(_("You are not allowed to do this."))
    if sites is not None:
        chosen = {s.pk for s in sites}
        if not chosen or not chosen <= allowed:
            raise PermissionDeniedError(
                field_errors={"sites": [_("Choose one or more of your own sites.")]}
            )


def _set_sites(operator: Operator, sites: Iterable) -> list[int]:
    ids = sorted(s.pk for s in sites)
    operator.sites.set(ids)
    operator.__dict__.pop("_visible_site_ids", None)
    return ids


@transaction.atomic
def create_operator(
    *, acting_user, username: str, password: str, role: str, sites: Iterable = (), **profile
) -> Operator:
    require(acting_user, Capability.MANAGE_OPERATORS)
    sites = list(sites)
    _check_site_scope(acting_user, sites)
    if set(profile) - PROFILE_FIELDS:
        raise TypeError(f"unexpected fields: {sorted(set(profile) - PROFILE_FIELDS)}")
    candidate = Operator(username=username.strip(), role=role, **profile)
    _check_password(password, candidate)
    operator = create_record(
        Operator,
        acting_user=acting_user,
        action="operator.create",
        username=username.strip(),
        role=role,
        password=make_password(password),  # the hash only; the log never copies it
        **profile,
    )
    site_ids = _set_sites(operator, sites)
    if site_ids:
        record(
            acting_user=acting_user,
            action="operator.set_sites",
            obj=operator,
            after={"sites": site_ids},
        )
    return operator


@transaction.atomic
def update_operator(operator: Operator, *, acting_user, sites=None, **changes) -> Operator:
    require(acting_user, Capability.MANAGE_OPERATORS)
    sites = None if sites is None else list(sites)
    _check_site_scope(acting_user, sites, operator)
    if set(changes) - PROFILE_FIELDS:
        raise TypeError(f"unexpected fields: {sorted(set(changes) - PROFILE_FIELDS)}")
    if operator.pk == getattr(acting_user, "pk", None) and (
        changes.get("role", operator.role) != operator.role or changes.get("is_active") is False
    ):
        raise ConflictError(_("You cannot change your own role or deactivate yourself."))
    update_record(operator, acting_user=acting_user, action="operator.update", **changes)
    if sites is not None:
        before = sorted(operator.sites.values_list("id", flat=True))
        after = _set_sites(operator, sites)
        if before != after:
            record(
                acting_user=acting_user,
                action="operator.set_sites",
                obj=operator,
                before={"sites": before},
                after={"sites": after},
            )
    return operator


@transaction.atomic
def set_password(operator: Operator, *, acting_user, password: str) -> Operator:
    if getattr(acting_user, "pk", None) != operator.pk:
        require(acting_user, Capability.MANAGE_OPERATORS)
        _check_site_scope(acting_user, None, operator)
    _check_password(password, operator)
    operator.set_password(password)
    operator.save(update_fields=["password"])
    record(acting_user=acting_user, action="operator.set_password", obj=operator)
    return operator


@transaction.atomic
def unlock_operator(operator: Operator, *, acting_user) -> int:
    """Lift a lockout after repeated failed logins. Returns how many lock records were cleared."""
    from axes.utils import reset

    require(acting_user, Capability.MANAGE_OPERATORS)
    _check_site_scope(acting_user, None, operator)
    cleared = reset(username=operator.get_username())
    record(acting_user=acting_user, action="operator.unlock", obj=operator, note=f"{cleared}")
    return cleared


@transaction.atomic
def ensure_administrator(*, username: str, password: str) -> Operator:
    """Create an administrator or reset an existing one's password (command line only)."""
    operator = Operator.objects.filter(username=username).first()
    if operator is None:
        return create_operator(
            acting_user=None, username=username, password=password, role=Role.ADMINISTRATOR
        )
    update_operator(operator, acting_user=None, role=Role.ADMINISTRATOR, is_active=True)
    set_password(operator, acting_user=None, password=password)
    return operator
