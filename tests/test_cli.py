"""The ``openprepaid`` command: argument parsing and its calls into Django and the services."""

from __future__ import annotations

import stat

import pytest
from django.contrib.auth import authenticate
from django.test import RequestFactory

from openprepaid import cli
from openprepaid.cli import main

SUBCOMMANDS = ("web", "demo", "load-sample", "create-admin", "manage")


def _authenticate(username: str, password: str):
    # django-axes refuses to authenticate without a request.
    request = RequestFactory().post("/login/", REMOTE_ADDR="127.0.0.1")
    return authenticate(request, username=username, password=password)


def test_help_lists_every_subcommand(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in SUBCOMMANDS:
        assert name in out


def test_no_subcommand_prints_usage_and_fails(capsys):
    assert main([]) == 2
    assert "usage: openprepaid" in capsys.readouterr().err


def test_unknown_subcommand_is_a_usage_error(capsys):
    assert main(["no-such-command"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_manage_check_passes(capsys):
    assert main(["manage", "check"]) == 0
    assert "no issues" in capsys.readouterr().out


def test_manage_passes_django_errors_through_as_exit_status(capsys):
    assert main(["manage", "no-such-django-command"]) == 1
    assert "Unknown command" in capsys.readouterr().err


@pytest.mark.django_db
def test_create_admin_with_given_password_can_log_in(capsys):
    assert main(["create-admin", "--username", "chief", "--password", "Meter-Reader-2741"]) == 0

    out = capsys.readouterr().out
    assert "chief" in out
    assert "Meter-Reader-2741" not in out  # a password the user typed is not echoed
    user = _authenticate("chief", "Meter-Reader-2741")
    assert user is not None
    assert user.get_username() == "chief"
    assert user.is_active


@pytest.mark.django_db
def test_create_admin_without_password_prints_a_generated_one_that_works(capsys):
    assert main(["create-admin", "--username", "chief"]) == 0

    lines = capsys.readouterr().out.splitlines()
    password = next(line.split(":", 1)[1].strip() for line in lines if line.startswith("Password:"))
    assert len(password) >= 16
    assert _authenticate("chief", password) is not None


@pytest.mark.django_db
def test_create_admin_again_resets_the_password(capsys):
    assert main(["create-admin", "--username", "chief", "--password", "First-Secret-5813"]) == 0
    assert main(["create-admin", "--username", "chief", "--password", "Second-Secret-9027"]) == 0

    assert _authenticate("chief", "Second-Secret-9027") is not None
    assert _authenticate("chief", "First-Secret-5813") is None


def test_generated_passwords_are_long_mixed_and_different():
    passwords = {cli.generate_password() for _ in range(20)}
    assert len(passwords) == 20
    for password in passwords:
        assert len(password) == 16
        assert any(c.isdigit() for c in password)
        assert any(c.isalpha() for c in password)
        assert not set(password) & set("0O1lI")


def test_demo_password_is_generated_once_and_kept_private(tmp_path):
    first = cli._demo_admin_password(tmp_path)
    again = cli._demo_admin_password(tmp_path)

    assert first == again
    stored = tmp_path / cli.DEMO_LOGIN_FILENAME
    assert stored.read_text().strip() == first
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8000/"),
        ("0.0.0.0", "http://127.0.0.1:8000/"),  # noqa: S104
        ("::", "http://[::1]:8000/"),
        ("::1", "http://[::1]:8000/"),
    ],
)
def test_console_url_shows_an_address_a_browser_can_open(host, url):
    assert cli.console_url(host, 8000) == url
