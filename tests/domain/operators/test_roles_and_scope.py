from __future__ import annotations

import pytest
from django.contrib.auth.hashers import identify_hasher

from openprepaid.domain.errors import ConflictError, PermissionDeniedError, ServiceError
from openprepaid.domain.operators import services
from openprepaid.domain.operators.models import Operator
from openprepaid.domain.operators.permissions import can, limit_to_sites, visible_site_ids
from openprepaid.domain.operators.roles import Capability
from openprepaid.domain.sites.models import Site

pytestmark = pytest.mark.django_db

EXPECTED = {
    "administrator": set(Capability),
    "operations": {Capability.CONFIGURE, Capability.CONTROL_METERS, Capability.EXPORT},
    "cashier": {Capability.MANAGE_TENANTS, Capability.SELL, Capability.EXPORT},
    "auditor": {Capability.VIEW_SYSTEM_LOG, Capability.EXPORT},
}


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_role_capabilities(make_operator, site, role):
    user = make_operator(role)
    allowed = {c for c in Capability if can(user, c, site.pk)}
    assert allowed == EXPECTED[role]


def test_auditor_changes_nothing(auditor):
    assert not any(
        can(auditor, c)
        for c in Capability
        if c not in (Capability.VIEW_SYSTEM_LOG, Capability.EXPORT)
    )


def test_inactive_operator_can_do_nothing(make_operator, site):
    user = make_operator("administrator")
    user.is_active = False
    assert not any(can(user, c, site.pk) for c in Capability)


def test_site_limited_operator_sees_only_its_sites(make_operator, site, other_site):
    limited = make_operator("operations", sites=[site])
    assert visible_site_ids(limited) == {site.pk}
    assert list(limit_to_sites(Site.objects.all(), limited, "id")) == [site]
    assert can(limited, Capability.CONFIGURE, site.pk)
    assert not can(limited, Capability.CONFIGURE, other_site.pk)
    unlimited = make_operator("operations")
    assert visible_site_ids(unlimited) is None
    assert set(limit_to_sites(Site.objects.all(), unlimited, "id")) == {site, other_site}


def test_passwords_are_hashed_with_argon2_and_validated(admin):
    assert identify_hasher(admin.password).algorithm == "argon2"
    with pytest.raises(ServiceError) as error:
        services.create_operator(acting_user=admin, username="weak", password="123", role="cashier")
    assert "password" in error.value.field_errors
    assert not Operator.objects.filter(username="weak").exists()


def test_only_administrators_manage_operators(make_operator, admin):
    ops = make_operator("operations")
    with pytest.raises(PermissionDeniedError):
        services.create_operator(
            acting_user=ops, username="x", password="Another-Strong-Pass-1", role="administrator"
        )
    with pytest.raises(PermissionDeniedError):
        services.update_operator(ops, acting_user=ops, role="administrator")
    ops.refresh_from_db()
    assert ops.role == "operations"


def test_administrator_cannot_lock_themselves_out(admin):
    with pytest.raises(ConflictError):
        services.update_operator(admin, acting_user=admin, is_active=False)
    with pytest.raises(ConflictError):
        services.update_operator(admin, acting_user=admin, role="auditor")


def test_ensure_administrator_creates_then_resets(db):
    first = services.ensure_administrator(username="boss", password="First-Strong-Pass-1")
    second = services.ensure_administrator(username="boss", password="Second-Strong-Pass-2")
    assert first.pk == second.pk
    second.refresh_from_db()
    assert second.check_password("Second-Strong-Pass-2")
    assert second.role == "administrator"
