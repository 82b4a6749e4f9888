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
import signal
import sys
import time
from pathlib import Path

from openprepaid.cli.common import PROG, setup_django

STATUS_FILENAME = "headend-status.json"
ALIVE_WITHIN = 15.0  # seconds: a status file older than this means the headend is not running


def add_parsers(sub: argparse._SubParsersAction) -> None:
    headend = sub.add_parser(
        "headend",
        help="run the headend: read every meter, carry out commands, watch lost contact",
        description="Run the headend until Ctrl+C or SIGTERM: one worker per gateway line reads"
        " the meters on schedule, carries out the commands operators queue, reconciles relays"
        " and records lost contact. --status reports on a running headend instead.",
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
    headend.set_defaults(handler=_cmd_headend)


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
    full_every = None if args.full_every is None else dt.timedelta(minutes=args.full_every)
    options = HeadendOptions(
        lost_after=args.lost_after,
        full_reading_every=full_every,
        time_sync_daily=not args.no_time_sync,
        max_drift=dt.timedelta.max if args.no_time_sync else HeadendOptions().max_drift,
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
