"""``openprepaid simulate`` and ``openprepaid simctl``: run the site simulator and drive it.

The simulator itself (``openprepaid.simulator``) knows nothing of Django; only reading a site
file in the console's spreadsheet format sets Django up, for the import's reader.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path
from zoneinfo import ZoneInfoNotFoundError

from openprepaid.cli.common import PROG, exit_code, setup_django

DEFAULT_CONTROL_PORT = 9700  # the simulator's control interface (openprepaid.simulator.control)


def add_parsers(sub: argparse._SubParsersAction) -> None:
    _add_simulate_parser(sub)
    _add_simctl_parser(sub)


def _add_simulate_parser(sub: argparse._SubParsersAction) -> None:
    simulate = sub.add_parser(
        "simulate",
        help="run the site simulator: virtual gateways and meters on 127.0.0.1",
        description=(
            "Run simulated gateways and meters until Ctrl+C or SIGTERM, then save the meters'"
            " state. The site is the sample site (default), a site file in the console's"
            " spreadsheet format (--site-file), or so many gateways of so many meters"
            " (--gateways)."
        ),
    )
    site = simulate.add_mutually_exclusive_group()
    site.add_argument(
        "--sample", action="store_true", help="simulate the sample site DEMO (the default)"
    )
    site.add_argument(
        "--site-file", type=Path, metavar="PATH", help="an .xlsx or .csv site file to simulate"
    )
    site.add_argument("--gateways", type=int, metavar="N", help="simulate N gateways")
    simulate.add_argument(
        "--meters-per-gateway", type=int, default=32, metavar="M", help="with --gateways (32)"
    )
    simulate.add_argument(
        "--modbus-tcp-gateways",
        type=int,
        default=0,
        metavar="K",
        help="with --gateways: the last K are Modbus-TCP gateways of Acrel meters (0)",
    )
    simulate.add_argument(
        "--modbus-per-bus",
        type=int,
        default=0,
        metavar="J",
        help="with --gateways: Modbus-RTU meters at the end of each transparent bus (0)",
    )
    simulate.add_argument(
        "--first-port",
        type=int,
        default=10001,
        metavar="P",
        help="with --gateways: the first gateway's port, the next ones follow (10001;"
        " 0 lets the system pick a free port for each)",
    )
    simulate.add_argument(
        "--local-percent",
        type=int,
        default=25,
        metavar="L",
        help="with --gateways: percentage of meters in local cost control (25)",
    )
    simulate.add_argument(
        "--host", default="127.0.0.1", help="with --gateways: address to listen on (127.0.0.1)"
    )
    simulate.add_argument(
        "--speed",
        type=int,
        default=1,
        metavar="N",
        help="simulated seconds per real second (1; 3600 = one hour a second)",
    )
    simulate.add_argument(
        "--time-zone",
        default=os.environ.get("OPENPREPAID_TIME_ZONE", "Asia/Shanghai"),
        metavar="ZONE",
        help="the site's time zone: the meters' clocks show its wall time"
        " ($OPENPREPAID_TIME_ZONE, else Asia/Shanghai, as the console)",
    )
    simulate.add_argument(
        "--no-timing", action="store_true", help="answer at once, without RS-485 bus timing"
    )
    simulate.add_argument(
        "--seed", type=int, default=2026, help="seed of the site layout and the meters (2026)"
    )
    state = simulate.add_mutually_exclusive_group()
    state.add_argument(
        "--state",
        type=Path,
        metavar="FILE",
        help="where the meters' state is kept across runs"
        " (default: simulator-state.json in the data folder)",
    )
    state.add_argument(
        "--no-state", action="store_true", help="keep no state: every run starts afresh"
    )
    simulate.add_argument(
        "--json",
        metavar="FILE",
        help="write the listing (gateways, ports, meters) as JSON to FILE; - prints it",
    )
    simulate.add_argument(
        "--control-port",
        type=int,
        default=DEFAULT_CONTROL_PORT,
        metavar="PORT",
        help=f"port of the control interface on 127.0.0.1 ({DEFAULT_CONTROL_PORT}; 0 picks one)",
    )
    simulate.add_argument(
        "--no-control", action="store_true", help="do not open the control interface"
    )
    simulate.add_argument(
        "--open-accounts",
        metavar="LOW-HIGH",
        help="open every new meter's account with a balance of LOW to HIGH whole yuan",
    )
    simulate.add_argument(
        "--master-key",
        metavar="HEX",
        help="the site master key (default: $OPENPREPAID_MASTER_KEY, else the public demo key)",
    )
    simulate.set_defaults(handler=_cmd_simulate)


def _add_simctl_parser(sub: argparse._SubParsersAction) -> None:
    simctl = sub.add_parser(
        "simctl",
        help="inspect a running simulator's meters and inject or clear faults",
        description="Talk to the control interface of a running 'openprepaid simulate';"
        " prints the answer as JSON (exit status 1 when the simulator refuses).",
    )
    simctl.add_argument("--host", default="127.0.0.1", help="the simulator's host (127.0.0.1)")
    simctl.add_argument(
        "--port",
        type=int,
        default=DEFAULT_CONTROL_PORT,
        help=f"its control port ({DEFAULT_CONTROL_PORT})",
    )
    simctl.set_defaults(handler=_cmd_simctl, simctl_op=None)
    ops = simctl.add_subparsers(title="operations", metavar="OPERATION")
    ops.add_parser("listing", help="gateways, ports and meters").set_defaults(simctl_op="listing")
    inspect = ops.add_parser("inspect", help="what a meter holds: registers, wallet, relay, …")
    inspect.add_argument("meter", metavar="METER", help="the meter's bus address")
    inspect.add_argument("--gateway", help="its gateway (needed for a Modbus unit id)")
    inspect.set_defaults(simctl_op="inspect")
    fault = ops.add_parser("fault", help="inject a fault")
    fault.add_argument(
        "kind",
        metavar="KIND",
        help="no_reply, late_reply, garbled, bad_checksum, extra_fe, offline, lost_reply,"
        " refuse, drop, clock_drift, cover_open or reverse_energy",
    )
    fault.add_argument("--gateway", help="the gateway (needed for refuse and drop)")
    fault.add_argument("--meter", help="the meter's bus address (meter faults)")
    fault.add_argument("--delay", type=float, help="late_reply: seconds more before the reply")
    fault.add_argument("--count", type=int, help="apply to the next N requests (connections)")
    fault.add_argument("--fe", type=int, help="extra_fe: how many FE bytes")
    fault.add_argument("--after", type=int, help="drop: requests a connection may still carry")
    fault.add_argument(
        "--seconds-per-day", type=int, help="clock_drift: seconds the clock gains a day"
    )
    fault.set_defaults(simctl_op="fault")
    clear = ops.add_parser("clear", help="clear faults (all, or those matching the filters)")
    clear.add_argument("--gateway")
    clear.add_argument("--meter")
    clear.add_argument("--kind")
    clear.set_defaults(simctl_op="clear")
    ops.add_parser("faults", help="the active faults").set_defaults(simctl_op="faults")
    ops.add_parser("save", help="save the meters' state now").set_defaults(simctl_op="save")
    ops.add_parser("now", help="the simulated time").set_defaults(simctl_op="now")


def _cmd_simulate(args: argparse.Namespace) -> int:
    """Build the site, run the simulator until SIGINT/SIGTERM, save its state, exit 0."""
    import asyncio
    import logging

    from openprepaid.protocol.errors import LocalProtocolError
    from openprepaid.simulator.runner import Simulator
    from openprepaid.simulator.state import StateFileError

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        spec = _simulated_site(args)
        opening = _balance_range(args.open_accounts) if args.open_accounts else None
        master_key = _simulator_master_key(args.master_key)
        if args.speed < 1:
            raise ValueError("--speed must be at least 1")
        simulator = Simulator(
            spec,
            speed=args.speed,
            timing=not args.no_timing,
            seed=args.seed,
            master_key=master_key,
            state_path=None if args.no_state else (args.state or _default_state_path()),
            opening_balance=opening,
            control_port=None if args.no_control else args.control_port,
            time_zone=args.time_zone,
        )
    except ZoneInfoNotFoundError:
        print(f"{PROG} simulate: no time zone {args.time_zone!r}", file=sys.stderr)
        return 2
    except (ValueError, LocalProtocolError, StateFileError, OSError) as exc:
        print(f"{PROG} simulate: {exc}", file=sys.stderr)
        return 2

    async def run() -> None:
        import signal

        try:
            await simulator.start()
        except OSError as exc:
            raise SystemExit(f"{PROG} simulate: cannot listen: {exc}") from None
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows
                loop.add_signal_handler(signum, simulator.request_stop)
        _announce_simulator(simulator.listing(), args.json)
        await simulator.run_forever()

    try:
        asyncio.run(run())
    except SystemExit as exc:
        return exit_code(exc)
    except KeyboardInterrupt:
        pass
    if simulator.state_path is not None:
        print(f"Simulator stopped; meters' state saved to {simulator.state_path}", flush=True)
    else:
        print("Simulator stopped.", flush=True)
    return 0


def _cmd_simctl(args: argparse.Namespace) -> int:
    from openprepaid.simulator.control import ControlError, SimulatorControl

    if args.simctl_op is None:
        print(f"{PROG} simctl: name an operation (see {PROG} simctl --help)", file=sys.stderr)
        return 2
    fields: dict = {}
    op = args.simctl_op
    if op == "inspect":
        fields = {"meter": args.meter, "gateway": args.gateway}
    elif op == "fault":
        op = "inject"
        fields = {
            "kind": args.kind,
            "gateway": args.gateway,
            "meter": args.meter,
            "delay": args.delay,
            "count": args.count,
            "fe": args.fe,
            "after": args.after,
            "seconds_per_day": args.seconds_per_day,
        }
    elif op == "clear":
        fields = {"gateway": args.gateway, "meter": args.meter, "kind": args.kind}
    try:
        with SimulatorControl(args.host, args.port) as control:
            reply = control.call(op, **fields)
    except ControlError as exc:
        print(f"{PROG} simctl: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(reply, ensure_ascii=False, indent=2))
    return 0


def _simulated_site(args: argparse.Namespace):
    """The :class:`SiteSpec` the ``simulate`` options describe."""
    from openprepaid.simulator.sitespec import site_from_options, site_from_tables

    if args.gateways is not None:
        return site_from_options(
            gateways=args.gateways,
            meters_per_gateway=args.meters_per_gateway,
            modbus_tcp_gateways=args.modbus_tcp_gateways,
            modbus_per_bus=args.modbus_per_bus,
            local_percent=args.local_percent,
            first_port=args.first_port,
            host=args.host,
            seed=args.seed,
        )
    if args.site_file is not None:
        return site_from_tables(_site_file_tables(args.site_file))
    from openprepaid.domain.sample.sitegen import sample_site_tables

    return site_from_tables(sample_site_tables(args.seed))


def _site_file_tables(path: Path) -> dict[str, list[dict[str, str]]]:
    """The tables of a console site file as plain dicts (the reader needs Django's settings)."""
    setup_django()
    from openprepaid.domain.configio.readers import read_upload
    from openprepaid.domain.errors import ServiceError

    try:
        tables = read_upload(path.name, path.read_bytes())
    except ServiceError as exc:
        raise ValueError(f"{path}: {exc.message}") from None
    from openprepaid.domain.configio.choices import match_choice
    from openprepaid.domain.configio.spec import TABLES, Kind

    site: dict[str, list[dict[str, str]]] = {}
    for kind in Kind:
        columns = TABLES[kind].by_key
        rows = site[kind.value] = []
        for _, cells in tables.rows(kind):
            row = dict(cells)
            for key, text in cells.items():
                column = columns.get(key)
                found = match_choice(column.choices, text) if column and column.choices else None
                if found is not None:  # "DL/T 645-2007", "TCP透传" … → the stored code
                    row[key] = found.code
            rows.append(row)
    return site


def _balance_range(text: str) -> tuple:
    """``"100-500"`` → ``(Decimal(100), Decimal(500))``: whole yuan, low ≤ high."""
    from decimal import Decimal

    low, sep, high = text.partition("-")
    if not sep or not low.strip().isdigit() or not high.strip().isdigit():
        raise ValueError(f"--open-accounts {text!r}: write LOW-HIGH in whole yuan, e.g. 100-500")
    if int(low) > int(high):
        raise ValueError(f"--open-accounts {text!r}: LOW is more than HIGH")
    return Decimal(int(low)), Decimal(int(high))


def _simulator_master_key(text: str | None):
    """The master key of the simulated meters: given, from the environment, or the demo key."""
    from openprepaid.protocol.security.keys import DEMO_MASTER_KEY_HEX, MasterKey

    text = text or os.environ.get("OPENPREPAID_MASTER_KEY", "")
    if not text:
        print(
            "WARNING: the simulated meters use the public demo master key; a real site sets"
            " its own (--master-key or OPENPREPAID_MASTER_KEY).",
            file=sys.stderr,
            flush=True,
        )
        text = DEMO_MASTER_KEY_HEX
    return MasterKey.from_hex(text)


def _default_state_path() -> Path:
    """``simulator-state.json`` in the data folder (``OPENPREPAID_DATA_DIR``, else the
    platform's user data folder, as the settings compute it), without loading Django."""
    import platformdirs

    data_dir = os.environ.get("OPENPREPAID_DATA_DIR") or platformdirs.user_data_dir(PROG)
    return Path(data_dir).expanduser() / "simulator-state.json"


def _announce_simulator(listing: dict, json_target: str | None) -> None:
    """The short summary of a started simulator, and its JSON listing where asked for."""
    out = sys.stdout
    if json_target == "-":
        print(json.dumps(listing, ensure_ascii=False, indent=2), flush=True)
        out = sys.stderr
    elif json_target:
        target = Path(json_target)
        temporary = target.with_name(f".{target.name}.tmp")
        temporary.write_text(json.dumps(listing, ensure_ascii=False, indent=2), encoding="utf-8")
        temporary.replace(target)  # whoever waits for the file sees it whole
    gateways = listing["gateways"]
    timing = "on" if listing["timing"] else "off"
    lines = [
        f"Simulating site {listing['site']}: {len(gateways)} gateways,"
        f" {listing['meter_count']} meters (speed {listing['speed']}, bus timing {timing})"
    ]
    shown = 40
    for gateway in gateways[:shown]:
        lines.append(
            f"  {gateway['name']:<14} {gateway['transport']:<16}"
            f" {gateway['host']}:{gateway['port']:<6} {len(gateway['meters'])} meters"
        )
    if len(gateways) > shown:
        lines.append(f"  … and {len(gateways) - shown} more gateways (--json lists them all)")
    lines.extend(f"  not simulated: {reason}" for reason in listing["skipped"])
    control = listing["control"]
    if control:
        lines.append(f"Control: {control['host']}:{control['port']} ({PROG} simctl)")
    if listing["state_file"]:
        lines.append(f"State: {listing['state_file']}")
    lines.append("Stop it with Ctrl+C.")
    print("\n".join(lines), file=out, flush=True)
