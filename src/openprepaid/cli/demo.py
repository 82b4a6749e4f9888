"""The demo's moving parts beside the console: the simulated building and the headend, each in
its own process, started before the console serves and stopped (SIGTERM) after it.

The simulated building is the console's own configuration exported as a site file, in
accelerated time. Before it starts, the sample site's accounts are opened through the billing
services (``openprepaid.domain.sample.billing.open_sample_accounts``: a time-of-use tariff,
thresholds, a small opening purchase each): the headend writes the local meters' purchases to
them (``open_account`` commands) and the billing engine prices the remote meters' readings, so
that within a minute or two the board shows meters read, balances falling, alarm levels rising
and relays tripping at arrears — the meters' own trips in local cost control, the headend's
trips on the accounts' intent in remote cost control.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from openprepaid.cli.common import PROG
from openprepaid.cli.headend import STATUS_FILENAME
from openprepaid.cli.simulator import DEFAULT_CONTROL_PORT

DEMO_SPEED = 3600  # one simulated hour per real second
DEMO_FULL_EVERY = 1  # minutes between full readings: the remote meters are priced from them
START_TIMEOUT = 120.0
# The meters' clocks run DEMO_SPEED times faster than ours: a day of demo is ten years on them,
# so the headend's command deadlines (on the meter's clock) must reach that far.
DEMO_COMMAND_VALID_FOR = 10 * 365 * 24 * 60  # minutes  # seconds for a child process to be ready


def add_demo_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-simulator",
        action="store_true",
        help="do not start the simulated building (real gateways, or none)",
    )
    parser.add_argument("--no-headend", action="store_true", help="do not start the headend")
    parser.add_argument(
        "--sim-speed",
        type=int,
        default=DEMO_SPEED,
        metavar="N",
        help=f"simulated seconds per real second in the simulated building ({DEMO_SPEED})",
    )


@contextlib.contextmanager
def demo_services(args: argparse.Namespace, data_dir: Path, site_file: Path) -> Iterator[list[str]]:
    """Open the sample accounts, start the simulated building and the headend; yields one
    description line each.

    SIGTERM (a service manager, ``kill``) stops the demo as Ctrl+C does: the console's server
    re-raises the signal once it has shut down, and this handler turns it into ``SystemExit``, so
    the children are stopped too instead of being left running."""
    lines: list[str] = [_open_accounts()]
    with contextlib.ExitStack() as stack:
        stack.enter_context(_exit_on_sigterm())
        if args.no_simulator:
            lines.append("simulated building: not started (--no-simulator)")
        else:
            listing = stack.enter_context(_simulator(args, data_dir, site_file))
            ports = sorted(g["port"] for g in listing["gateways"])
            where = f"{ports[0]}–{ports[-1]}" if ports else "no ports"
            lines.append(
                f"simulated building: {len(listing['gateways'])} gateways,"
                f" {listing['meter_count']} meters on 127.0.0.1:{where}, {args.sim_speed}× time"
                f" ({PROG} simctl)"
            )
        if args.no_headend:
            lines.append("headend: not started (--no-headend)")
        else:
            stack.enter_context(_headend(args, data_dir))
            lines.append(f"headend: reading every meter ({PROG} headend --status)")
        lines.append(f"logs: {data_dir / 'simulator.log'}, {data_dir / 'headend.log'}")
        yield lines


def _open_accounts() -> str:
    """Open the sample site's registered accounts (none left: nothing to do); one line."""
    from openprepaid.domain.sample.billing import open_sample_accounts
    from openprepaid.domain.sample.sitegen import SITE_CODE
    from openprepaid.domain.sites.models import Site

    if not Site.objects.filter(code=SITE_CODE).exists():
        return f"billing: the sample site {SITE_CODE} is not loaded; no accounts opened"
    done = open_sample_accounts(acting_user=None)
    if not done.opened:
        return "billing: the sample accounts are open (sales desk: 售电)"
    return (
        f"billing: {done.opened} sample accounts opened ({done.amount} yuan); the headend writes"
        f" {done.local_meters} local meters' purchases, {done.remote_meters} remote meters are"
        " priced from their readings"
    )


@contextlib.contextmanager
def _exit_on_sigterm() -> Iterator[None]:
    def _exit(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, _exit)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _simulator(args: argparse.Namespace, data_dir: Path, site_file: Path) -> Iterator[dict]:
    listing_path = data_dir / "simulator.json"
    listing_path.unlink(missing_ok=True)
    command = [
        *(sys.executable, "-m", "openprepaid", "simulate", "--site-file", str(site_file)),
        *("--speed", str(args.sim_speed), "--json", str(listing_path)),
        *("--state", str(data_dir / "simulator-state.json")),
        *("--control-port", str(DEFAULT_CONTROL_PORT)),
    ]
    with _child("the simulated building", command, data_dir / "simulator.log", listing_path.exists):
        yield json.loads(listing_path.read_text(encoding="utf-8"))


@contextlib.contextmanager
def _headend(args: argparse.Namespace, data_dir: Path) -> Iterator[None]:
    status_path = data_dir / STATUS_FILENAME
    status_path.unlink(missing_ok=True)
    command = [
        *(sys.executable, "-m", "openprepaid", "headend", "--no-time-sync"),
        *("--command-valid-for", str(DEMO_COMMAND_VALID_FOR)),
        *("--status-file", str(status_path), "--full-every", str(DEMO_FULL_EVERY)),
    ]
    with _child("the headend", command, data_dir / "headend.log", status_path.exists):
        yield


@contextlib.contextmanager
def _child(
    what: str, command: list[str], log_path: Path, ready: Callable[[], bool]
) -> Iterator[subprocess.Popen]:
    """Run ``command`` with its output in ``log_path`` until the block ends (SIGTERM, then
    SIGKILL after 30 s); the block starts once ``ready()``; a child that dies first stops the
    demo with the end of its log."""
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not ready():
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-5:]
                raise SystemExit(
                    f"{PROG} demo: {what} did not start (see {log_path}):\n  " + "\n  ".join(tail)
                )
            time.sleep(0.1)
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
