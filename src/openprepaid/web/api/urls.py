"""``/api/v1/``: meters, commands, command batches, the OpenAPI schema and its Swagger UI."""

from __future__ import annotations

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from openprepaid.web.api import schema  # noqa: F401 (registers the token scheme)
from openprepaid.web.api.views import commands, meters, misc

app_name = "api"

urlpatterns = [
    path("meters", meters.MeterListView.as_view(), name="meter-list"),
    path("meters/<int:pk>", meters.MeterDetailView.as_view(), name="meter-detail"),
    path("commands", commands.CommandListView.as_view(), name="command-list"),
    path("commands/<int:pk>", commands.CommandDetailView.as_view(), name="command-detail"),
    path("command-batches", commands.BatchListView.as_view(), name="command-batch-list"),
    path(
        "command-batches/<int:pk>",
        commands.BatchDetailView.as_view(),
        name="command-batch-detail",
    ),
    path("schema", SpectacularAPIView.as_view(), name="schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    re_path(r"^.*$", misc.NotFoundView.as_view(), name="not-found"),
]
