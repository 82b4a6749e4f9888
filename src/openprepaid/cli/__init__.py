"""The ``openprepaid`` command.

    openprepaid web [--host H] [--port P] [--no-migrate]   serve the operator console
    openprepaid demo [--host H] [--port P]                  sample site + admin login, then serve
    openprepaid load-sample [--force]                       load the sample site
    openprepaid create-admin --username U [--password P]    create or reset an administrator
    openprepaid manage ARGS...                              any Django management command
    openprepaid decode HEX... | -                           decode DL/T 645 / Modbus-RTU frames
    openprepaid simulate [--gateways N | --site-file F]     run the site simulator
    openprepaid simctl listing|inspect|fault|clear|...      drive a running simulator
    openprepaid headend [--status]                          read the meters, carry out commands
    openprepaid api-token create|list|revoke                operators' REST API tokens
    openprepaid check-ledger [--site CODE]                  re-add every ledger; 0 = no difference

This module only parses arguments and calls domain services; it holds no business rules.
Django is set up lazily inside each handler, and domain modules are imported after that.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import string
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from openprepaid.cli import api as api_commands
from openprepaid.cli import billing as billing_commands
from openprepaid.cli import demo as demo_commands
from openprepaid.cli import headend as headend_commands
from openprepaid.cli import simulator as simulator_commands
from openprepaid.cli.common import PROG
from openprepaid.cli.common import exit_code as _exit_code
from openprepaid.cli.common import setup_django as _setup_django

ASGI_APP = "openprepaid.web.asgi:application"
DEMO_ADMIN = "admin"
DEMO_LOGIN_FILENAME = "demo-admin-password"
# No look-alike characters (0/O, 1/l/I), so a password read off the screen types correctly.
_PASSWORD_ALPHABET = "".join(c for c in string.ascii_letters + string.digits if c not in "0O1lI")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openprepaid.settings")
    if args_list[:1] == ["manage"]:
        # Everything after "manage" belongs to Django, including --help.
        return _manage(args_list[1:])
    parser = build_parser()
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # --help, or a usage error (argparse already printed why)
        return _exit_code(exc)
    if args.handler is None:
        parser.print_help(sys.stderr)
        return 2
    return args.handler(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="OpenPrepaid: remote prepaid electricity management for commercial buildings.",
    )
    parser.set_defaults(handler=None)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    web = sub.add_parser("web", help="serve the operator console (ASGI, uvicorn)")
    _add_server_options(web)
    web.add_argument(
        "--no-migrate", action="store_true", help="do not apply database migrations first"
    )
    web.set_defaults(handler=_cmd_web)

    demo = sub.add_parser(
        "demo",
        help="migrate, load the sample site, ensure the 'admin' login, start the simulated"
        " building, then serve",
    )
    _add_server_options(demo)
    demo_commands.add_demo_options(demo)
    demo.set_defaults(handler=_cmd_demo)

    sample = sub.add_parser("load-sample", help="load the sample site into the database")
    sample.add_argument(
        "--force", action="store_true", help="load it even though the database already has sites"
    )
    sample.set_defaults(handler=_cmd_load_sample)

    admin = sub.add_parser(
        "create-admin", help="create an administrator, or reset the password of an existing one"
    )
    admin.add_argument("--username", required=True, help="the administrator's user name")
    admin.add_argument(
        "--password", help="the password to set (default: generate a strong one and print it)"
    )
    admin.set_defaults(handler=_cmd_create_admin)

    manage = sub.add_parser(
        "manage", add_help=False, help="run a Django management command (manage --help lists them)"
    )
    manage.add_argument("django_args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    manage.set_defaults(handler=lambda args: _manage(args.django_args))

    decode = sub.add_parser(
        "decode",
        help="decode DL/T 645-2007 or Modbus-RTU frames given as hex, one JSON object per frame",
    )
    decode.add_argument(
        "frames",
        nargs="+",
        metavar="HEX",
        help="one frame per argument (spaces optional); - reads one frame per line from stdin",
    )
    decode.set_defaults(handler=_cmd_decode)
    simulator_commands.add_parsers(sub)
    headend_commands.add_parsers(sub)
    api_commands.add_parsers(sub)
    billing_commands.add_parsers(sub)
    return parser


def _add_server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (8000)")


# --- handlers -------------------------------------------------------------------------------


def _manage(django_args: Sequence[str]) -> int:
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line([f"{PROG} manage", *django_args])
    except SystemExit as exc:
        return _exit_code(exc)
    return 0


def _cmd_web(args: argparse.Namespace) -> int:
    _setup_django()
    if not args.no_migrate:
        _migrate()
    return serve(args.host, args.port)


def _cmd_decode(args: argparse.Namespace) -> int:
    """Print one JSON line per frame; a bad frame is reported on stderr and gives status 2."""
    from openprepaid.protocol.describe import describe
    from openprepaid.protocol.errors import ProtocolError

    texts: list[str] = []
    for arg in args.frames:
        if arg == "-":
            texts.extend(line for line in sys.stdin.read().splitlines() if line.strip())
        else:
            texts.append(arg)
    status = 0
    for text in texts:
        try:
            description = describe(parse_hex(text))
        except (ValueError, ProtocolError) as exc:
            print(f"{PROG} decode: {text.strip()!r}: {exc}", file=sys.stderr)
            status = 2
            continue
        print(json.dumps(description, ensure_ascii=False), flush=True)
    return status


def _cmd_load_sample(args: argparse.Namespace) -> int:
    _setup_django()
    from openprepaid.domain.sites.models import Site

    if Site.objects.exists() and not args.force:
        print(
            "The database already has sites: the sample was not loaded (--force loads it anyway)."
        )
        return 0
    return _report_service_errors(_load_sample)


def _cmd_create_admin(args: argparse.Namespace) -> int:
    _setup_django()
    password = args.password or generate_password()

    def create() -> int:
        from openprepaid.domain.operators.services import ensure_administrator

        operator = ensure_administrator(username=args.username, password=password)
        print(f"Administrator {operator.get_username()} is ready.")
        if not args.password:
            print(f"Password: {password}")
        return 0

    return _report_service_errors(create)


def _cmd_demo(args: argparse.Namespace) -> int:
    _setup_django()
    _migrate()
    status = _report_service_errors(_prepare_demo_data)
    if status:
        return status
    from django.conf import settings

    password = _demo_admin_password(Path(settings.DATA_DIR))
    status = _report_service_errors(lambda: _ensure_admin(DEMO_ADMIN, password))
    if status:
        return status
    data_dir = Path(settings.DATA_DIR)
    site_file = _export_site_file(DEMO_ADMIN, data_dir / "demo-site.xlsx")
    try:
        with demo_commands.demo_services(args, data_dir, site_file) as services:
            return _serve_demo(args, password, services)
    except SystemExit as exc:
        return _exit_code(exc)


def _serve_demo(args: argparse.Namespace, password: str, services: list[str]) -> int:
    from django.conf import settings

    _print_banner(
        [
            f"OpenPrepaid demo: open {console_url(args.host, args.port, _console_path())}",
            f"  user name: {DEMO_ADMIN}",
            f"  password:  {password}",
            f"  data:      {settings.DATA_DIR}",
            *(f"  {line}" for line in services),
            "Stop it with Ctrl+C.",
        ]
    )
    return serve(args.host, args.port)


def _export_site_file(username: str, path: Path) -> Path:
    """The console's configuration exported as a site file (what the simulator simulates)."""
    from openprepaid.domain.configio.export import export_configuration
    from openprepaid.domain.operators.models import Operator

    acting_user = Operator.objects.get(username=username)
    path.write_bytes(export_configuration(acting_user=acting_user))
    return path


# --- steps the handlers share ---------------------------------------------------------------


def serve(host: str, port: int) -> int:
    """Serve the ASGI application until interrupted.

    The demo runs the simulated building and the headend beside it, each in its own process
    (:func:`openprepaid.cli.demo.demo_services`).
    """
    import uvicorn

    print(f"Serving the operator console at {console_url(host, port)}", flush=True)
    uvicorn.run(ASGI_APP, host=host, port=port, log_level="info")
    return 0


def console_url(host: str, port: int, path: str = "/") -> str:
    """The address to open in a browser (a wildcard listen address becomes the loopback one)."""
    shown = {"0.0.0.0": "127.0.0.1", "::": "[::1]"}.get(host, host)  # noqa: S104 (display only)
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}{path}"


def parse_hex(text: str) -> bytes:
    """``"68 AA AA"`` or ``"68aaaa"`` → bytes; ``ValueError`` saying what is wrong."""
    digits = "".join(text.split())
    if not digits:
        raise ValueError("no hex digits")
    if len(digits) % 2:
        raise ValueError(f"odd number of hex digits ({len(digits)})")
    try:
        return bytes.fromhex(digits)
    except ValueError:
        raise ValueError("not hexadecimal (expected pairs of 0-9 A-F)") from None


def generate_password(length: int = 16) -> str:
    """A random password with letters and digits, free of look-alike characters."""
    while True:
        password = "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(length))
        if any(c.isdigit() for c in password) and any(c.isalpha() for c in password):
            return password


def _console_path() -> str:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("console:home")
    except NoReverseMatch:
        return "/"


def _migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=1)


def _load_sample() -> int:
    from openprepaid.domain.sample.services import load_sample_site

    print(str(load_sample_site(acting_user=None)))
    return 0


def _prepare_demo_data() -> int:
    from openprepaid.domain.sites.models import Site

    if not Site.objects.exists():
        return _load_sample()
    return 0


def _ensure_admin(username: str, password: str) -> int:
    from openprepaid.domain.operators.services import ensure_administrator

    ensure_administrator(username=username, password=password)
    return 0


def _demo_admin_password(data_dir: Path) -> str:
    """The demo login's password: generated the first time, then read from the data dir."""
    path = data_dir / DEMO_LOGIN_FILENAME
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        password = path.read_text(encoding="utf-8").strip()
        if password:
            return password
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    password = generate_password()
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(password + "\n")
    path.chmod(0o600)
    return password


def _report_service_errors(step: Callable[[], int]) -> int:
    """Run ``step``; a business error is printed to stderr and becomes exit status 2."""
    from openprepaid.domain.errors import ServiceError

    try:
        return step()
    except ServiceError as exc:
        print(f"{PROG}: {exc.message}", file=sys.stderr)
        return 2


def _print_banner(lines: Sequence[str]) -> None:
    rule = "=" * max(len(line) for line in lines)
    print("\n".join([rule, *lines, rule]), flush=True)
