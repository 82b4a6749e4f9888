"""What every ``openprepaid`` command shares: the program name, Django setup, exit codes."""

from __future__ import annotations

import sys

PROG = "openprepaid"


def setup_django() -> None:
    """Set Django up once (``DJANGO_SETTINGS_MODULE`` is set by :func:`openprepaid.cli.main`)."""
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()


def exit_code(exc: SystemExit) -> int:
    """The exit status a ``SystemExit`` stands for; a message in it is printed to stderr."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1
