"""The one place that turns errors into HTTP answers for the API.

Every error answer has the same body: ``{"code": ..., "message": ..., "fields": {...}}`` —
``code`` stable for programs, ``message`` translated for people, ``fields`` the messages per
input field (dotted paths for nested input, ``__all__`` for the request as a whole).

| error                                        | status |
|----------------------------------------------|--------|
| ``ServiceError`` (a business rule refused)   | 400    |
| invalid input (serializer validation, JSON)  | 400    |
| not authenticated, bad or revoked token      | 401    |
| ``PermissionDeniedError`` (role, site scope) | 403    |
| not found (or in a site the operator cannot see) | 404 |
| ``ConflictError`` (state clash, retired …)   | 409    |
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from openprepaid.domain.errors import ConflictError, PermissionDeniedError, ServiceError

#: Most specific first.
SERVICE_STATUS: tuple[tuple[type[ServiceError], int], ...] = (
    (PermissionDeniedError, status.HTTP_403_FORBIDDEN),
    (ConflictError, status.HTTP_409_CONFLICT),
    (ServiceError, status.HTTP_400_BAD_REQUEST),
)
ALL = "__all__"


class ErrorSerializer(serializers.Serializer):
    """The body of every error answer (for the OpenAPI schema)."""

    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict:
    return {"code": code, "message": str(message), "fields": fields or {}}


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's ``EXCEPTION_HANDLER``. Anything else (a bug) is left to Django: a 500."""
    if isinstance(exc, ServiceError):
        code = next(code for kind, code in SERVICE_STATUS if isinstance(exc, kind))
        set_rollback()
        return Response(error_body(exc.code, exc.message, exc.field_errors), status=code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    if isinstance(exc, exceptions.ValidationError):
        fields = field_errors(exc.detail)
        body = error_body("invalid", ServiceError(field_errors=fields).message, fields)
    else:
        code = getattr(exc.detail, "code", None) or exc.default_code
        if exc.status_code == status.HTTP_403_FORBIDDEN and code in (
            "not_authenticated",
            "authentication_failed",
        ):
            code = "permission_denied"  # no authenticator could ask for credentials
        body = error_body(code, _message(exc.detail))
    set_rollback()
    return Response(body, status=exc.status_code, headers=headers)


def field_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as flat ``{"path": [messages]}``."""
    if isinstance(detail, dict):
        result: dict[str, list[str]] = {}
        for name, value in detail.items():
            name = ALL if name == "non_field_errors" else str(name)
            # a nested field is "parent.field"; the nested object as a whole is "parent"
            path = name if not prefix else prefix if name == ALL else f"{prefix}.{name}"
            for key, messages in field_errors(value, path).items():
                result.setdefault(key, []).extend(messages)
        return result
    if isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        result = {}
        for index, item in enumerate(detail):
            if item:
                result.update(field_errors(item, f"{prefix}.{index}" if prefix else str(index)))
        return result
    messages = detail if isinstance(detail, list) else [detail]
    return {prefix or ALL: [str(m) for m in messages]}


def _message(detail: Any) -> str:
    if isinstance(detail, list | dict):
        values = list(detail.values()) if isinstance(detail, dict) else detail
        return " ".join(_message(v) for v in values)
    return str(detail)
