from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory
from tests.conftest import PASSWORD

from openprepaid.domain.audit.context import origin
from openprepaid.domain.audit.models import AppendOnlyError, SystemLog
from openprepaid.domain.audit.services import record
from openprepaid.domain.sites.services import create_site, update_site

pytestmark = pytest.mark.django_db


@pytest.fixture
def row(site):
    return SystemLog.objects.filter(action="site.create").get()


def test_a_change_writes_who_when_where_what_before_after(admin):
    with origin("192.0.2.10"):
        site = create_site(acting_user=admin, code="S1", name="One")
        update_site(site, acting_user=admin, name="Uno")
    created, updated = SystemLog.objects.filter(
        object_id=str(site.pk), object_type="site"
    ).order_by("id")
    assert (created.action, created.actor, created.actor_name) == ("site.create", admin, "admin")
    assert created.origin == "192.0.2.10"
    assert created.site == site
    assert created.after["name"] == "One"
    assert updated.before == {"name": "One"}
    assert updated.after == {"name": "Uno"}
    assert updated.changed_fields() == [("name", "One", "Uno")]


def test_system_actor_and_default_origin(row):
    assert (row.actor, row.actor_name, row.origin) == (None, "system", "system")


def test_model_refuses_update_and_delete(row):
    row.note = "tampered"
    with pytest.raises(AppendOnlyError):
        row.save()
    with pytest.raises(AppendOnlyError):
        row.delete()


def test_database_refuses_bulk_update_and_delete(row):
    with pytest.raises(DatabaseError), transaction.atomic():
        SystemLog.objects.filter(pk=row.pk).update(note="tampered")
    with pytest.raises(DatabaseError), transaction.atomic():
        SystemLog.objects.filter(pk=row.pk).delete()
    assert SystemLog.objects.get(pk=row.pk).note == ""


def test_database_refuses_raw_sql(row):
    for sql in (
        "UPDATE audit_systemlog SET action = 'x'",
        "DELETE FROM audit_systemlog",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert SystemLog.objects.filter(pk=row.pk, action="site.create").exists()


@pytest.mark.django_db(transaction=True)
def test_record_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError):
        record(acting_user=None, action="nothing")


def test_a_failed_change_leaves_no_log_row(admin, site):
    before = SystemLog.objects.count()

    def change_then_fail():
        with transaction.atomic():
            update_site(site, acting_user=admin, name="Renamed")
            raise RuntimeError("the caller's transaction fails later")

    with pytest.raises(RuntimeError):
        change_then_fail()
    assert SystemLog.objects.count() == before
    site.refresh_from_db()
    assert site.name != "Renamed"


def test_passwords_never_reach_the_log(make_operator):
    operator = make_operator("cashier")
    row = SystemLog.objects.get(action="operator.create", object_id=str(operator.pk))
    assert "password" not in row.after
    assert PASSWORD not in str(row.after)


def test_login_and_lockout_are_logged(cashier, settings):
    factory = RequestFactory()

    def attempt(password):
        request = factory.post("/login/", REMOTE_ADDR="198.51.100.7")
        return authenticate(request, username="cashier", password=password)

    assert attempt(PASSWORD) is not None  # authenticate alone does not log in
    for _ in range(settings.AXES_FAILURE_LIMIT):
        assert attempt("wrong password") is None
    locked = SystemLog.objects.get(action="operator.locked_out")
    assert locked.actor_name == "cashier"
    assert "198.51.100.7" in locked.note
    assert attempt(PASSWORD) is None  # locked out even with the right password
