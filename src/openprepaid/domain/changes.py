"""The create / update steps every configuration service shares.

Each one validates the instance against its fields and database constraints, saves it and
writes the system-log row with the before and after values, inside the caller's transaction.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from openprepaid.domain.audit.services import record, snapshot
from openprepaid.domain.errors import ConflictError, ServiceError

M = TypeVar("M", bound=models.Model)


def validate(instance: models.Model, *, exclude: list[str] | None = None) -> None:
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as error:
        raise ServiceError.from_validation_error(error) from None


def _save(instance: models.Model, **kwargs: Any) -> None:
    try:
        with transaction.atomic():
            instance.save(**kwargs)
    except IntegrityError as error:
        # A concurrent change won the race past validation: report it as a conflict.
        raise ConflictError(str(error)) from None


def create_record(model: type[M], *, acting_user, action: str, **fields: Any) -> M:
    instance = model(**fields)
    validate(instance)
    _save(instance)
    record(acting_user=acting_user, action=action, obj=instance, after=snapshot(instance))
    return instance


def update_record(instance: M, *, acting_user, action: str, **changes: Any) -> M:
    """Apply ``changes`` to ``instance``. Writes nothing (and no log row) when nothing differs."""
    before = snapshot(instance)
    for name, value in changes.items():
        setattr(instance, name, value)
    validate(instance)
    after = snapshot(instance)
    changed = [name for name in after if after[name] != before[name]]
    if not changed:
        return instance
    _save(instance, update_fields=[instance._meta.get_field(n).name for n in changed])
    record(
        acting_user=acting_user,
        action=action,
        obj=instance,
        before={k: before[k] for k in changed},
        after={k: after[k] for k in changed},
    )
    return instance
