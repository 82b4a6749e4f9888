"""Logging in and out, lockout after repeated failures, and the language switch."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from tests.conftest import PASSWORD

from openprepaid.domain.audit.models import SystemLog

PAGES = [
    ("console:home", []),
    ("console:board", []),
    ("console:site_list", []),
    ("console:site_create", []),
    ("console:unit_list", []),
    ("console:unit_create", []),
    ("console:gateway_list", []),
    ("console:gateway_create", []),
    ("console:meter_list", []),
    ("console:meter_create", []),
    ("console:tenant_list", []),
    ("console:tenant_create", []),
    ("console:operator_list", []),
    ("console:operator_create", []),
    ("console:systemlog_list", []),
    ("console:configio", []),
    ("console:configio_template", []),
    ("console:export", []),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "args"), PAGES)
def test_every_page_requires_login(name, args):
    url = reverse(name, args=args)
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('console:login')}?next={url}"


@pytest.mark.parametrize(
    "name",
    [
        "console:site_detail",
        "console:site_edit",
        "console:unit_edit",
        "console:unit_retire",
        "console:gateway_edit",
        "console:meter_detail",
        "console:tenant_detail",
        "console:operator_edit",
        "console:systemlog_detail",
    ],
)
def test_object_pages_require_login_and_reveal_nothing(name, data):
    response = Client().post(reverse(name, args=[data.unit.pk]), {"name": "x"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("console:login"))


def test_login_page_has_stable_test_ids(db):
    response = Client().get(reverse("console:login"))
    html = response.content.decode()
    assert response.status_code == 200
    for test_id in ("login-form", "login-username", "login-password", "login-submit"):
        assert f'data-testid="{test_id}"' in html


def test_login_then_logout(admin):
    client = Client(REMOTE_ADDR="192.0.2.10")
    response = client.post(reverse("console:login"), {"username": "admin", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("console:home")
    assert client.get(reverse("console:home")).status_code == 200
    login_row = SystemLog.objects.get(action="operator.login")
    assert login_row.origin == "192.0.2.10"

    assert client.get(reverse("console:logout")).status_code == 405  # logging out is a POST
    response = client.post(reverse("console:logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("console:login")
    assert client.get(reverse("console:home")).status_code == 302
    assert SystemLog.objects.filter(action="operator.logout", actor=admin).count() == 1


def test_wrong_password_shows_an_error(admin):
    response = Client().post(reverse("console:login"), {"username": "admin", "password": "nope"})
    assert response.status_code == 200
    assert 'data-testid="login-error"' in response.content.decode()


def test_lockout_after_five_failures(admin):
    client = Client(REMOTE_ADDR="203.0.113.5")
    url = reverse("console:login")
    statuses = [
        client.post(url, {"username": "admin", "password": f"wrong-{i}"}).status_code
        for i in range(4)
    ]
    assert statuses == [200, 200, 200, 200]
    response = client.post(url, {"username": "admin", "password": "wrong-5"})
    html = response.content.decode()
    assert response.status_code == 429
    assert 'data-testid="locked-out"' in html
    assert "登录已锁定" in html
    # Locked: even the right password is refused now.
    response = client.post(url, {"username": "admin", "password": PASSWORD})
    assert response.status_code == 429
    assert 'data-testid="locked-out"' in response.content.decode()
    rows = SystemLog.objects.filter(action="operator.locked_out")
    assert rows.count() >= 1
    assert rows.first().actor_name == "admin"
    assert "203.0.113.5" in rows.first().note


def test_language_switch_changes_the_page_language(admin_client):
    home = reverse("console:home")
    html = admin_client.get(home).content.decode()
    assert '<html lang="zh-hans">' in html
    assert "总览" in html
    assert ">Overview<" not in html

    response = admin_client.post(reverse("set_language"), {"language": "en", "next": home})
    assert response.status_code == 302
    assert response["Location"] == home
    html = admin_client.get(home).content.decode()
    assert '<html lang="en">' in html
    assert "Overview" in html
    assert "总览" not in html

    admin_client.post(reverse("set_language"), {"language": "zh-hans", "next": home})
    assert "总览" in admin_client.get(home).content.decode()


def test_login_page_language_switch(db):
    client = Client()
    assert "登录" in client.get(reverse("console:login")).content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": reverse("console:login")})
    html = client.get(reverse("console:login")).content.decode()
    assert "Log in to the operator console" in html
