"""Who may call the API: operators' API tokens (stored hashed), or the console's session with
CSRF."""

from __future__ import annotations

import hashlib

import pytest
from django.test import Client
from tests.web.api.conftest import token_client

from openprepaid.domain.audit.models import SystemLog
from openprepaid.domain.operators.models import ApiToken
from openprepaid.domain.operators.services import (
    create_api_token,
    revoke_api_token,
    update_operator,
)

METERS = "/api/v1/meters"


def test_no_credentials_is_401_with_a_bearer_challenge(db):
    response = token_client(None).get(METERS)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json() == {
        "code": "not_authenticated",
        "message": "Authentication credentials were not provided.",
        "fields": {},
    }


@pytest.mark.parametrize("header", ["Bearer nonsense", "Bearer", "Bearer a b", "Bearer ü"])
def test_an_invalid_token_is_401(db, header):
    client = token_client(None)
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(METERS)
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


def test_token_is_stored_hashed_and_shown_once(operations):
    row, token = create_api_token(acting_user=None, operator=operations, name="BMS link")
    assert token.startswith("opp_")
    assert len(token) >= 4 + 43  # 32 random bytes, URL-safe base64
    stored = ApiToken.objects.get(pk=row.pk)
    assert stored.key_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in (stored.key_hash, stored.prefix, stored.name)
    assert stored.prefix == token[:10]
    log = SystemLog.objects.get(action="api_token.create")
    assert token not in str(log.after)
    assert log.after == {"operator": operations.pk, "name": "BMS link", "prefix": token[:10]}
    assert stored.last_used_at is None
    assert token_client(token).get(METERS).status_code == 200
    stored.refresh_from_db()
    assert stored.last_used_at is not None


def test_revoked_token_and_inactive_operator_are_refused(operations, admin):
    row, token = create_api_token(acting_user=operations, operator=operations, name="mine")
    client = token_client(token)
    assert client.get(METERS).status_code == 200
    revoke_api_token(row, acting_user=admin)
    assert SystemLog.objects.filter(action="api_token.revoke", actor=admin).count() == 1
    response = client.get(METERS)
    assert (response.status_code, response.json()["code"]) == (401, "invalid_token")
    _row, other_token = create_api_token(acting_user=None, operator=operations, name="second")
    update_operator(operations, acting_user=admin, is_active=False)
    assert token_client(other_token).get(METERS).status_code == 401


def test_who_may_manage_whose_tokens(operations, cashier, admin, make_operator, site):
    from openprepaid.domain.errors import ConflictError, PermissionDeniedError

    with pytest.raises(PermissionDeniedError):
        create_api_token(acting_user=cashier, operator=operations, name="not yours")
    row, _token = create_api_token(acting_user=admin, operator=operations, name="by admin")
    with pytest.raises(PermissionDeniedError):
        revoke_api_token(row, acting_user=cashier)
    limited_admin = make_operator("administrator", sites=[site])
    with pytest.raises(PermissionDeniedError):  # operations has every site: not theirs
        create_api_token(acting_user=limited_admin, operator=operations, name="x")
    revoke_api_token(row, acting_user=operations)
    with pytest.raises(ConflictError) as again:
        revoke_api_token(row, acting_user=operations)
    assert again.value.code == "already_revoked"


def test_session_of_the_console_works_with_csrf(data, operations):
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(operations, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get(METERS).status_code == 200
    body = {"meter": data.meter.pk, "kind": "read_now"}
    refused = client.post("/api/v1/commands", body, content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"
    assert "CSRF" in refused.json()["message"]
    csrf = "k" * 32  # a CSRF secret as the console's pages set it in the cookie
    client.cookies["csrftoken"] = csrf
    accepted = client.post(
        "/api/v1/commands", body, content_type="application/json", headers={"X-CSRFToken": csrf}
    )
    assert accepted.status_code == 201
