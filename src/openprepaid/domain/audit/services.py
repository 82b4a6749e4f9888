"""Writing the system log. Called by every state-changing service, inside its transaction."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

from django.db import connection, models

from openprepaid.domain.audit.context import current_origin
from openprepaid.domain.audit.models import SystemLog

# Never copied into the log, whatever the model.
SECRET_FIELDS = frozenset({"password"})


def snapshot(instance: models.Model, *, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """The concrete fields of a model instance as JSON-safe values (foreign keys by id),
    without secrets."""
    data: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if field.name in exclude or field.name in SECRET_FIELDS:
            continue
        data[field.name] = _json_safe(getattr(instance, field.attname))
    return data


def _json_safe(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def record(
    *,
    acting_user,
    action: str,
    obj: models.Model | None = None,
    site=None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str = "",
    actor_name: str | None = None,
) -> SystemLog:
    """Append one system-log row. Must run inside the caller's transaction, so the row and the
    change it describes are committed together or not at all."""
    if not connection.in_atomic_block:
        raise RuntimeError("audit.record() must be called inside the service's transaction")
    if site is None and obj is not None:
        site = _site_of(obj)
    return SystemLog.objects.create(
        actor=acting_user if getattr(acting_user, "pk", None) else None,
        actor_name=actor_name
        or (acting_user.get_username() if acting_user is not None else "system"),
        origin=current_origin(),
        action=action,
        object_type=obj._meta.model_name if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        site=site,
        before=before,
        after=after,
        note=note,
    )


def _site_of(obj: models.Model):
    site_of = getattr(obj, "audit_site", None)
    if site_of is not None:
        return site_of() if callable(site_of) else site_of
    if obj._meta.model_name == "site":
        return obj
    return None
