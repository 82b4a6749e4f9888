"""How the OpenAPI schema describes what drf-spectacular cannot see by itself (imported by
``urls.py``, which registers the extension before any schema is generated)."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "openprepaid.web.api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An operator's API token (openprepaid api-token create).",
        }
