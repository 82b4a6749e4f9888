"""Business errors shared by every domain service.

A service never returns ``None`` to mean "failed": it raises a :class:`ServiceError` with a
stable ``code`` (for programs and tests) and a translatable ``message`` (for people). One place
in each interface maps them to an answer (a form error, a message, an HTTP status).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


class ServiceError(Exception):
    """A business rule refused the request. ``field_errors`` maps field names to messages."""

    code = "invalid"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        field_errors: dict[str, list[str]] | None = None,
    ) -> None:
        self.code = code or self.code
        self.field_errors = field_errors or {}
        if message is None:
            message = "; ".join(
                f"{field}: {' '.join(msgs)}" if field != "__all__" else " ".join(msgs)
                for field, msgs in self.field_errors.items()
            ) or str(_("The request is not valid."))
        self.message = str(message)
        super().__init__(self.message)

    @classmethod
    def from_validation_error(cls, error: ValidationError) -> ServiceError:
        if hasattr(error, "error_dict"):
            fields = {
                field: [str(m) for e in errs for m in e.messages]
                for field, errs in error.error_dict.items()
            }
        else:
            fields = {"__all__": [str(m) for m in error.messages]}
        return cls(field_errors=fields)


class PermissionDeniedError(ServiceError):
    """The acting operator's role or site scope does not allow this."""

    code = "permission_denied"


class ConflictError(ServiceError):
    """The request clashes with the current state (in use, already exists, retired …)."""

    code = "conflict"
