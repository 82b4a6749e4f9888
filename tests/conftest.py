"""Shared pytest fixtures for the whole suite.

pytest-django loads ``openprepaid.settings`` (see ``[tool.pytest.ini_options]``) before this file
runs; ``make test`` points ``OPENPREPAID_DATA_DIR`` at ``var/test`` so tests never touch a real
data folder. Keep fixtures here few and general; a fixture used by one area belongs in that
area's own ``conftest.py``.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

PASSWORD = "Correct-Horse-Battery-9"
_usernames = itertools.count(1)
APPEND_ONLY_TABLES = ("audit_systemlog", "billing_ledgerentry")


@pytest.fixture(autouse=True)
def _append_only_triggers(request):
    """Keep the append-only triggers in place for every database test, and lift them after a
    transactional test so pytest-django can empty the database between cases."""
    marker = request.node.get_closest_marker("django_db")
    names = request.fixturenames
    transactional = (
        "transactional_db" in names
        or "live_server" in names
        or bool(marker and marker.kwargs.get("transaction"))
    )
    if not (marker or "db" in names or transactional):
        yield
        return
    request.getfixturevalue("transactional_db" if transactional else "db")
    from django.db import connection

    from openprepaid.domain.audit import append_only

    for table in APPEND_ONLY_TABLES:
        append_only.install(connection, table)
    yield
    if transactional:
        for table in APPEND_ONLY_TABLES:
            append_only.uninstall(connection, table)


@pytest.fixture
def make_site(db):
    from openprepaid.domain.sites.services import create_site

    def make(code: str = "MALL", name: str | None = None):
        return create_site(acting_user=None, code=code, name=name or f"{code} Plaza")

    return make


@pytest.fixture
def site(make_site):
    return make_site("MALL", "星光购物中心")


@pytest.fixture
def other_site(make_site):
    return make_site("TOWER", "Other Tower")


@pytest.fixture
def make_operator(db):
    """``make_operator("cashier", sites=[site])`` → an active operator with password PASSWORD."""
    from openprepaid.domain.operators.services import create_operator

    def make(role: str, *, sites=(), username: str | None = None):
        return create_operator(
            acting_user=None,
            username=username or f"{role}{next(_usernames)}",
            password=PASSWORD,
            role=role,
            sites=sites,
        )

    return make


@pytest.fixture
def admin(make_operator):
    return make_operator("administrator", username="admin")


@pytest.fixture
def cashier(make_operator):
    return make_operator("cashier", username="cashier")


@pytest.fixture
def operations(make_operator):
    return make_operator("operations", username="ops")


@pytest.fixture
def auditor(make_operator):
    return make_operator("auditor", username="auditor")


def pytest_collection_modifyitems(items):
    """Every test under tests/browser/ is a browser test (``make test`` runs them apart)."""
    browser_dir = Path(__file__).parent / "browser"
    for item in items:
        if browser_dir in item.path.parents:
            item.add_marker(pytest.mark.browser)
