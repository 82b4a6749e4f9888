"""Error pages in the console's look (used when DEBUG is off)."""

from __future__ import annotations

from django.views import defaults


def permission_denied(request, exception):
    return defaults.permission_denied(request, exception, template_name="console/403.html")


def page_not_found(request, exception):
    return defaults.page_not_found(request, exception, template_name="console/404.html")
