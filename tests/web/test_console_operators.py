"""Operators in the console: locked logins, unlocking, passwords."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse
from tests.conftest import PASSWORD


def fail_logins(username: str, times: int = 5) -> Client:
    client = Client(REMOTE_ADDR="203.0.113.9")
    for n in range(times):
        client.post(reverse("console:login"), {"username": username, "password": f"bad-{n}"})
    return client


def test_a_locked_operator_is_shown_and_can_be_unlocked(cashier, admin_client, log):
    victim = fail_logins("cashier")
    assert (
        victim.post(
            reverse("console:login"), {"username": "cashier", "password": PASSWORD}
        ).status_code
        == 429
    )
    html = admin_client.get(reverse("console:operator_list")).content.decode()
    assert 'data-testid="locked"' in html
    unlock = reverse("console:operator_unlock", args=[cashier.pk])
    assert unlock in html
    assert 'data-testid="confirm-form"' in admin_client.get(unlock).content.decode()
    counter = log()
    assert admin_client.post(unlock).status_code == 302
    assert [r.action for r in counter.rows()] == ["operator.unlock"]
    assert (
        'data-testid="locked"'
        not in admin_client.get(reverse("console:operator_list")).content.decode()
    )
    response = victim.post(reverse("console:login"), {"username": "cashier", "password": PASSWORD})
    assert response.status_code == 302


def test_set_password_then_log_in_with_it(cashier, admin_client):
    response = admin_client.post(
        reverse("console:operator_password", args=[cashier.pk]),
        {"password": "Fresh-Password-2025", "password_confirm": "Fresh-Password-2025"},
    )
    assert response.status_code == 302
    client = Client()
    assert (
        client.post(
            reverse("console:login"), {"username": "cashier", "password": PASSWORD}
        ).status_code
        == 200
    )  # the old one no longer works
    assert (
        client.post(
            reverse("console:login"), {"username": "cashier", "password": "Fresh-Password-2025"}
        ).status_code
        == 302
    )


def test_new_operator_limited_to_a_site(site, admin_client):
    response = admin_client.post(
        reverse("console:operator_create"),
        {
            "username": "wang.wu",
            "first_name": "五",
            "last_name": "王",
            "role": "cashier",
            "sites": [site.pk],
            "password": "Another-Strong-Pass-1",
            "password_confirm": "Another-Strong-Pass-1",
        },
    )
    assert response.status_code == 302
    html = admin_client.get(reverse("console:operator_list") + "?q=wang").content.decode()
    assert "wang.wu" in html
    assert site.name in html
