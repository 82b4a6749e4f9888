"""The OpenAPI schema and its Swagger UI, served from the project's own static files."""

from __future__ import annotations

import re

import pytest
import yaml
from django.core.management import call_command
from django.test import Client

PATHS = {
    "/api/v1/meters": {"get"},
    "/api/v1/meters/{id}": {"get"},
    "/api/v1/commands": {"get", "post"},
    "/api/v1/commands/{id}": {"get"},
    "/api/v1/command-batches": {"get", "post"},
    "/api/v1/command-batches/{id}": {"get"},
}


@pytest.mark.django_db
def test_schema_lists_the_endpoints():
    response = Client().get("/api/v1/schema", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert {p: set(ops) & {"get", "post"} for p, ops in schema["paths"].items()} == PATHS
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    kinds = schema["components"]["schemas"]["OperatorCommandKindEnum"]["enum"]
    assert "trip" in kinds
    assert "recharge" not in kinds
    as_yaml = yaml.safe_load(Client().get("/api/v1/schema").content)
    assert set(as_yaml["paths"]) == set(PATHS)


@pytest.mark.django_db
def test_schema_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert "/api/v1/command-batches" in out.read_text()


@pytest.mark.django_db
def test_swagger_ui_uses_local_assets_only():
    client = Client()
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui-bundle.js" in html
    assert not re.search(r"(src|href)=[\"']?(https?:)?//", html)
    assert "cdn" not in html.lower()
    assets = re.findall(r"(?:src|href)=\"(/static/[^\"]+)\"", html)
    assert len(assets) >= 3
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200, asset
        if hasattr(served, "close"):
            served.close()
