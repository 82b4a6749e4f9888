"""Fixtures for the REST API tests: clients that carry an operator's API token."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient
from tests.web.conftest import CLIENT_ADDRESS

from openprepaid.domain.operators.services import create_api_token


def token_client(token: str | None) -> APIClient:
    client = APIClient(REMOTE_ADDR=CLIENT_ADDRESS, HTTP_ACCEPT_LANGUAGE="en")
    if token is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def api_for():
    """``api_for(operator)`` → an API client acting as ``operator`` with a fresh token."""

    def make(operator) -> APIClient:
        _row, token = create_api_token(acting_user=None, operator=operator, name="tests")
        return token_client(token)

    return make
