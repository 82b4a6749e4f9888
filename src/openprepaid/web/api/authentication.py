"""Who is calling: an operator's API token (``Authorization: Bearer <token>``), or the console's
session for the console's own use (DRF's session authentication, which enforces CSRF)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from openprepaid.domain.errors import PermissionDeniedError
from openprepaid.domain.operators.services import authenticate_api_token

KEYWORD = "Bearer"


class BearerTokenAuthentication(BaseAuthentication):
    """``request.user`` is the token's operator and ``request.auth`` the token's row."""

    def authenticate(self, request):
        words = get_authorization_header(request).split()
        if not words or words[0].lower() != KEYWORD.lower().encode():
            return None  # not ours: maybe a session, else "not authenticated"
        if len(words) != 2:
            raise AuthenticationFailed(
                _("Write the header as: Authorization: Bearer <token>."), code="invalid_token"
            )
        try:
            token = words[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed(
                _("The API token is not valid."), code="invalid_token"
            ) from None
        try:
            row = authenticate_api_token(token)
        except PermissionDeniedError as refused:
            raise AuthenticationFailed(refused.message, code=refused.code) from None
        return row.operator, row

    def authenticate_header(self, request) -> str:
        # Present, so that a request without credentials is answered 401, not 403.
        return f'{KEYWORD} realm="api"'
