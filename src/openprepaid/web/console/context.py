"""Template context for every console page: the navigation the operator may use."""

from __future__ import annotations

from django.http import HttpRequest

from openprepaid.web.console.navigation import navigation_for


def current_area(request: HttpRequest) -> str:
    """``unit`` for the URL names ``console:unit_list``, ``console:unit_edit`` …"""
    match = getattr(request, "resolver_match", None)
    if match is None or match.namespace != "console" or not match.url_name:
        return ""
    return match.url_name.split("_", 1)[0]


def console(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"navigation": navigation_for(user, current_area(request))}
