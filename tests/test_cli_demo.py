"""``openprepaid demo`` end to end, as the README's run command starts it: console and the
simulated building on SQLite in a fresh data folder, with real billing: the sample accounts
opened through the billing services, the local meters' opening purchases written by the headend,
consumption entering the ledger."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

from openprepaid.protocol.dlt645 import Decoder, Frame
from openprepaid.protocol.dlt645.replies import parse_reply
from openprepaid.protocol.dlt645.requests import ReadRequest, encode_request
from openprepaid.simulator.control import SimulatorControl

FIRST_METER = "202619101001"  # A座 B1, first bus (port 10001), first meter of the sample


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _read_energy(port: int) -> Frame:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as link:
        link.sendall(encode_request(ReadRequest(FIRST_METER, 0x0001FF00)))
        decoder = Decoder()
        while True:
            decoder.receive_data(link.recv(256))
            event = decoder.next_event()
            if isinstance(event, Frame):
                return event


def _processes_using(data_dir) -> list[str]:
    """Command lines of running processes that name ``data_dir`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(data_dir) in command:
            found.append(command)
    return found


def _count(database, sql: str) -> int:
    """One number from the demo's database, read-only (it runs in WAL mode)."""
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        return db.execute(sql).fetchone()[0]


def _wait_for_billing(database) -> dict[str, int]:
    queries = {
        "opening sales": "SELECT count(*) FROM billing_sale WHERE kind = 'opening'",
        "open-account commands confirmed": "SELECT count(*) FROM metering_command"
        " WHERE kind = 'open_account' AND state = 'confirmed'",
        "consumption entries": "SELECT count(*) FROM billing_ledgerentry"
        " WHERE kind = 'consumption'",
    }
    deadline = time.monotonic() + 150
    while True:
        counts = {what: _count(database, sql) for what, sql in queries.items()}
        if all(counts.values()) or time.monotonic() > deadline:
            return counts
        time.sleep(1)


def test_demo_serves_the_console_beside_the_simulated_building(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}  # the demo is SQLite
    env["OPENPREPAID_DATA_DIR"] = str(tmp_path)
    demo = subprocess.Popen(
        [sys.executable, "-m", "openprepaid", "demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            line = demo.stdout.readline()
            assert line, "the demo stopped:\n" + "".join(lines)
            lines.append(line)
            if "Uvicorn running on" in line:  # listening (startup completes before the bind)
                break
        output = "".join(lines)
        assert "simulated building: 22 gateways, 695 meters on 127.0.0.1:10001–10022" in output
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/") as page:
            assert page.status == 200
        reply = parse_reply(_read_energy(10001))
        assert reply.address == FIRST_METER
        assert len(reply.value) == 5  # total + sharp, peak, flat, valley
        with SimulatorControl("127.0.0.1", 9700) as control:
            truth = control.inspect(FIRST_METER)
        # The registers only move forward: what the meter holds now is at least what it sent.
        assert Decimal(truth["registers"]["total"]) >= reply.value[0]
        assert truth["protocol"] == "dlt645_2007"
        assert "sample accounts opened" in output
        # Billing runs for real: opening sales, the local meters' purchases confirmed on the
        # meters by the headend, consumption priced or mirrored into the ledger.
        counts = _wait_for_billing(tmp_path / "openprepaid.sqlite3")
        assert all(counts.values()), counts
    finally:
        # SIGTERM, as a service manager stops it: the demo must stop its children too.
        demo.send_signal(signal.SIGTERM)
        demo.wait(timeout=90)
    state = tmp_path / "simulator-state.json"
    assert state.exists()  # the simulated building kept its meters' registers
    assert _processes_using(tmp_path) == []  # neither the simulator nor the headend left behind
    assert (tmp_path / "demo-site.xlsx").exists()
