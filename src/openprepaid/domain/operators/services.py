"""Verbs that change operators. Passwords are hashed with Argon2 and never logged; API tokens
are stored as their SHA-256 and shown once."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable

from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from openprepaid.domain.audit.services import record
from openprepaid.domain.changes import create_record, update_record
from openprepaid.domain.errors import ConflictError, PermissionDeniedError, ServiceError
from openprepaid.domain.operators.models import ApiToken, Operator
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


# ------------------------------------------------------------------------------ API tokens

#: What every token starts with, so that one pasted in the wrong place is recognisable.
TOKEN_PREFIX = "opp_"  # noqa: S105 (a marker, not a secret)
#: ``last_used_at`` is written at most this often per token (not on every request).
TOKEN_USE_PRECISION = dt.timedelta(minutes=1)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_token_owner(acting_user, operator: Operator) -> None:
    """Operators manage their own tokens; an administrator manages those of the operators they
    manage; the command line (``acting_user=None``) any."""
    if acting_user is not None and getattr(acting_user, "pk", None) == operator.pk:
        if not acting_user.is_active:
            raise PermissionDeniedError(_("You are not allowed to do this."))
        return
    require(acting_user, Capability.MANAGE_OPERATORS)
    _check_site_scope(acting_user, None, operator)


@transaction.atomic
def create_api_token(*, acting_user, operator: Operator, name: str) -> tuple[ApiToken, str]:
    """A new API token for ``operator``: the row and the token itself, which is not stored and
    cannot be shown again."""
    _check_token_owner(acting_user, operator)
    name = (name or "").strip()
    if not name:
        raise ServiceError(field_errors={"name": [_("Give the token a name.")]}, code="name")
    if len(name) > 100:
        raise ServiceError(field_errors={"name": [_("At most 100 characters.")]}, code="name")
    if not operator.is_active:
        raise ConflictError(_("The operator is not active."), code="inactive_operator")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)  # 32 random bytes
    row = ApiToken.objects.create(
        operator=operator, name=name, key_hash=hash_token(token), prefix=token[:10]
    )
    record(
        acting_user=acting_user,
        action="api_token.create",
        obj=row,
        after={"operator": operator.pk, "name": name, "prefix": row.prefix},
    )
    return row, token


@transaction.atomic
def revoke_api_token(token: ApiToken, *, acting_user) -> ApiToken:
    """Revoke a token: requests carrying it are refused from now on."""
    token = ApiToken.objects.select_for_update().select_related("operator").get(pk=token.pk)
    _check_token_owner(acting_user, token.operator)
    if token.revoked_at is not None:
        raise ConflictError(_("The token is already revoked."), code="already_revoked")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    record(
        acting_user=acting_user,
        action="api_token.revoke",
        obj=token,
        after={"operator": token.operator_id, "name": token.name, "prefix": token.prefix},
    )
    return token


def authenticate_api_token(token: str, *, now: dt.datetime | None = None) -> ApiToken:
    """The active token ``token`` stands for, with its operator, noting when it was used.
    Raises :class:`PermissionDeniedError` (code ``invalid_token``) for an unknown or revoked
    token, or one of an inactive operator."""
    row = (
        ApiToken.objects.select_related("operator")
        .filter(key_hash=hash_token(token), revoked_at__isnull=True, operator__is_active=True)
        .first()
    )
    if row is None:
        raise PermissionDeniedError(_("The API token is not valid."), code="invalid_token")
    now = now or timezone.now()
    if row.last_used_at is None or now - row.last_used_at >= TOKEN_USE_PRECISION:
        # Bookkeeping, not an operator's action: no system-log row per request.
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        row.last_used_at = now
    return row
