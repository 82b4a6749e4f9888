"""``openprepaid headend``: run the headend against the database, or report on a running one.

The headend (``openprepaid.headend``) knows the database only as a repository protocol; here the
domain's :class:`~openprepaid.domain.metering.repository.DjangoRepository` is plugged in.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
import signal
import sys
import time
from pathlib import Path

from openprepaid.cli.common import PROG, setup_django
from openprepaid.headend.model import CommandKind

STATUS_FILENAME = "headend-status.json"
ALIVE_WITHIN = 15.0  # seconds: a status file older than this means the headend is not running


def add_parsers(sub: argparse._SubParsersAction) -> None:
    headend = sub.add_parser(
        "headend",
        help="run the headend: read every meter, carry out commands, watch lost contact",
        description="Run the headend until Ctrl+C or SIGTERM: one worker per gateway line reads"
        " the meters on schedule, carries out the commands operators queue, reconciles relays"
        " and records lost contact. --status reports on a running headend instead. Open"
        " account and recharge are sealed with the site master key from"
        " OPENPREPAID_MASTER_KEY (hex; without it, the public demo key).",
    )
    headend.add_argument(
        "--status",
        action="store_true",
        help="print the running headend's status and the installation's health as JSON"
        " (exit status 1 when the headend is not running)",
    )
    headend.add_argument(
        "--status-file",
        type=Path,
        metavar="FILE",
        help=f"where the running headend writes its status (default: {STATUS_FILENAME} in the"
        " data folder)",
    )
    headend.add_argument(
        "--full-every",
        type=int,
        metavar="MINUTES",
        help="full reading interval in minutes for every line (default: each gateway's, else"
        " its site's, 30 unless configured)",
    )
    headend.add_argument(
        "--lost-after",
        type=int,
        default=3,
        metavar="N",
        help="a meter is lost after N consecutive failed polls (3)",
    )
    headend.add_argument(
        "--no-time-sync",
        action="store_true",
        help="never set the meters' clocks (the demo's accelerated meters run ahead on purpose)",
    )
    headend.add_argument(
        "--command-valid-for",
        type=int,
        default=None,
        metavar="MINUTES",
        help="deadline written into each control command, on the meter's clock (10); a meter"
        " refuses a command whose deadline has passed on its own clock, so clocks left running"
        " ahead (--no-time-sync, the demo's accelerated meters) need a longer one",
    )
    headend.set_defaults(handler=_cmd_headend)

    command = sub.add_parser(
        "command",
        help="queue a command for one meter or several (carried out by the running headend)",
        description="Queue a command as an operator would in the console (the operator's role"
        " and sites are checked, a system-log row is written); prints the queued commands.",
    )
    command.add_argument("kind", choices=[k.value for k in CommandKind], metavar="KIND",
                         help=", ".join(k.value for k in CommandKind))  # fmt: skip
    command.add_argument("meters", nargs="+", metavar="METER", help="meter bus addresses")
    command.add_argument("--gateway", help="the gateway's name (needed for Modbus unit ids)")
    command.add_argument("--user", required=True, help="the operator who asks (user name)")
    command.add_argument(
        "--price", action="append", default=[], metavar="YUAN", help="push_prices: one per tariff"
    )
    command.add_argument(
        "--setting", action="append", default=[], metavar="NAME=VALUE",
        help="push_settings: alarm_1, alarm_2, overdraft_limit, close_allowed_limit,"
        " overload_power_kw",
    )  # fmt: skip
    command.set_defaults(handler=_cmd_command)


def _status_path(args: argparse.Namespace) -> Path:
    from django.conf import settings

    return args.status_file or Path(settings.DATA_DIR) / STATUS_FILENAME


def _cmd_headend(args: argparse.Namespace) -> int:
    setup_django()
    if args.status:
        return _print_status(_status_path(args))
    if (args.full_every is not None and args.full_every < 1) or args.lost_after < 1:
        print(f"{PROG} headend: --full-every and --lost-after are at least 1", file=sys.stderr)
        return 2
    from openprepaid.domain.metering.repository import DjangoRepository
    from openprepaid.headend.options import HeadendOptions
    from openprepaid.headend.service import Headend

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        master_key = _headend_master_key()
    except ValueError as exc:
        print(f"{PROG} headend: OPENPREPAID_MASTER_KEY: {exc}", file=sys.stderr)
        return 2
    full_every = None if args.full_every is None else dt.timedelta(minutes=args.full_every)
    options = HeadendOptions(
        lost_after=args.lost_after,
        full_reading_every=full_every,
        time_sync_daily=not args.no_time_sync,
        max_drift=dt.timedelta.max if args.no_time_sync else HeadendOptions().max_drift,
        command_valid_for=(
            HeadendOptions().command_valid_for
            if args.command_valid_for is None
            else dt.timedelta(minutes=args.command_valid_for)
        ),
        master_key=master_key,
    )
    repo = DjangoRepository(full_reading_every=full_every)
    headend = Headend(repo, options=options, status_path=_status_path(args))

    async def run() -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows
                loop.add_signal_handler(signum, lambda: asyncio.ensure_future(headend.stop()))
        print(f"Headend running; status in {_status_path(args)}. Stop it with Ctrl+C.", flush=True)
        await headend.run()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
    print("Headend stopped.", flush=True)
    return 0


def _headend_master_key():
    """The site master key money commands are sealed with: ``OPENPREPAID_MASTER_KEY`` (hex),
    else the public demo key with a warning. The key itself is never printed."""
    from openprepaid.protocol.security.keys import DEMO_MASTER_KEY_HEX, MasterKey

    text = os.environ.get("OPENPREPAID_MASTER_KEY", "").strip()
    if not text:
        print(
            "WARNING: open account and recharge use the public demo master key; a real site"
            " sets its own in OPENPREPAID_MASTER_KEY.",
            file=sys.stderr,
            flush=True,
        )
        text = DEMO_MASTER_KEY_HEX
    return MasterKey.from_hex(text)


def _print_status(path: Path) -> int:
    from django.db import DatabaseError

    from openprepaid.domain.metering.selectors import health_summary
    from openprepaid.headend.service import read_status

    try:
        report: dict = {"health": health_summary()}
    except DatabaseError as exc:
        print(f"{PROG} headend: cannot read the database ({exc}); is it migrated?", file=sys.stderr)
        return 1
    running = False
    try:
        status = read_status(path)
    except (OSError, ValueError):
        report["headend"] = None
    else:
        age = time.time() - path.stat().st_mtime
        running = age <= ALIVE_WITHIN
        report["headend"] = {**status, "status_age_seconds": round(age, 1), "running": running}
    print(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    if not running:
        print(f"{PROG} headend: no running headend reports to {path}", file=sys.stderr)
        return 1
    return 0


def _cmd_command(args: argparse.Namespace) -> int:
    setup_django()
    from openprepaid.domain.errors import ServiceError
    from openprepaid.domain.metering.services import request_batch, request_command
    from openprepaid.domain.operators.models import Operator
    from openprepaid.domain.sites.models import Meter

    operator = Operator.objects.filter(username=args.user, is_active=True).first()
    if operator is None:
        print(f"{PROG} command: no active operator {args.user!r}", file=sys.stderr)
        return 2
    params: dict = {}
    if args.price:
        params["prices"] = args.price
    for item in args.setting:
        name, sep, value = item.partition("=")
        if not sep:
            print(f"{PROG} command: write --setting NAME=VALUE, not {item!r}", file=sys.stderr)
            return 2
        params[name.strip()] = value.strip()
    meters = Meter.objects.exclude(lifecycle="retired").select_related("gateway")
    if args.gateway:
        meters = meters.filter(gateway__name=args.gateway)
    found = {m.address: m for m in meters.filter(address__in=args.meters)}
    missing = [a for a in args.meters if a not in found]
    duplicates = meters.filter(address__in=args.meters).count() > len(found)
    if missing or duplicates:
        reason = f"no meter {', '.join(missing)}" if missing else "an address on several gateways"
        print(f"{PROG} command: {reason} (name the gateway with --gateway)", file=sys.stderr)
        return 2
    try:
        if len(found) == 1:
            (meter,) = found.values()
            queued = [
                request_command(acting_user=operator, meter=meter, kind=args.kind, params=params)
            ]
        else:
            batch = request_batch(
                acting_user=operator,
                meters=list(found.values()),
                kind=args.kind,
                params=params,
                description=f"{PROG} command",
            )
            queued = list(batch.commands.select_related("meter"))
    except ServiceError as exc:
        print(f"{PROG} command: {exc.message}", file=sys.stderr)
        return 2
    for row in queued:
        line = {"command": row.pk, "meter": row.meter.address, "kind": row.kind}
        print(json.dumps({**line, "state": row.state}, ensure_ascii=False))
    return 0
