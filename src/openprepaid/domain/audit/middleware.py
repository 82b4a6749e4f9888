from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from openprepaid.domain.audit.context import origin


def client_address(request: HttpRequest) -> str:
    """The peer address of the request. Behind a reverse proxy, configure the proxy to set
    REMOTE_ADDR (e.g. uvicorn --proxy-headers with --forwarded-allow-ips); a client-supplied
    X-Forwarded-For is not trusted here."""
    return request.META.get("REMOTE_ADDR") or "unknown"


class AuditOriginMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with origin(client_address(request)):
            return self.get_response(request)
