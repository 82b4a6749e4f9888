"""Requests that may safely be sent twice: the answer to a request carrying an idempotency key
is kept, and the same key from the same operator gets that answer again instead of a second
action (a client that lost the answer to "trip this meter" retries without tripping twice).

The action and the key are stored in one transaction: either both are kept or neither is, so a
request that failed may be retried with the same key and is then carried out. Two requests with
the same key at the same moment: the second one's insert of the key fails on the unique
constraint, its transaction (with its action) is rolled back, and it answers with the first
one's stored answer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from openprepaid.domain.errors import ConflictError, ServiceError
from openprepaid.domain.operators.models import ApiIdempotencyKey, Operator

#: How long a key is remembered; a key older than this is free to be used again.
IDEMPOTENCY_WINDOW = dt.timedelta(hours=24)
MAX_KEY_LENGTH = 100


@dataclass(frozen=True, slots=True)
class Answer:
    status_code: int
    body: Any
    replayed: bool = False


def fingerprint(method: str, path: str, payload: Any) -> str:
    """What identifies a request's content: the same key with other content is a client error."""
    text = json.dumps([method.upper(), path, payload], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def check_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ServiceError(
            field_errors={
                "Idempotency-Key": [
                    _("At most %(n)d printable characters.") % {"n": MAX_KEY_LENGTH}
                ]
            },
            code="idempotency_key",
        )
    return key


def run_once(
    *, operator: Operator, key: str, fingerprint: str, action: Callable[[], tuple[int, Any]]
) -> Answer:
    """``action()`` (which returns the status code and the JSON body of the answer) unless the
    operator sent ``key`` before; then the stored answer, marked ``replayed``."""
    key = check_key(key)
    try:
        with transaction.atomic():
            stored = _stored(operator, key, fingerprint)
            if stored is not None:
                return stored
            status_code, body = action()
            ApiIdempotencyKey.objects.create(
                operator=operator,
                key=key,
                fingerprint=fingerprint,
                status_code=status_code,
                body=body,
            )
            return Answer(status_code, body)
    except IntegrityError:
        # Another request with this key got there first (see the module's docstring).
        stored = _stored(operator, key, fingerprint)
        if stored is None:
            raise
        return stored


def _stored(operator: Operator, key: str, fingerprint: str) -> Answer | None:
    ApiIdempotencyKey.objects.filter(
        operator=operator, created_at__lt=timezone.now() - IDEMPOTENCY_WINDOW
    ).delete()
    row = ApiIdempotencyKey.objects.filter(operator=operator, key=key).first()
    if row is None:
        return None
    if row.fingerprint != fingerprint:
        raise ConflictError(
            _("This idempotency key was used for another request."), code="idempotency_key_reused"
        )
    return Answer(row.status_code, row.body, replayed=True)
