"""The REST API (``/api/v1/``): meters, commands and command batches for programs.

Every request acts as an operator — with an API token (``Authorization: Bearer <token>``,
``openprepaid api-token create``) or the console's session (CSRF enforced) — and goes through
the same services and selectors as the console: the same role and site checks, the same
system-log rows. Business errors reach clients through one exception handler
(:mod:`openprepaid.web.api.errors`); the OpenAPI schema is served at ``/api/v1/schema`` and
browsed at ``/api/v1/docs`` (Swagger UI from the project's own static files).
"""
