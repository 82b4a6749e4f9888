"""``openprepaid simulate`` and ``openprepaid simctl``: a real simulator process over TCP."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import time
from decimal import Decimal

import openpyxl
import pytest

from openprepaid import cli
from openprepaid.cli import main
from openprepaid.domain.sample.sitegen import sample_site_tables
from openprepaid.protocol.dlt645 import Decoder, Frame, ReadRequest, encode_request, parse_reply
from openprepaid.simulator.state import load_state

START_TIMEOUT = 30


def read_energy(port: int, address: str):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(encode_request(ReadRequest(address, 0x00000000)))
        decoder = Decoder()
        while True:
            event = decoder.next_event()
            if isinstance(event, Frame):
                return parse_reply(event)
            data = sock.recv(256)
            assert data, "the gateway closed the connection"
            decoder.receive_data(data)


@pytest.fixture
def simulator(tmp_path):
    """A ``simulate`` process on ephemeral ports; yields (process, listing, paths)."""
    listing_path = tmp_path / "listing.json"
    state_path = tmp_path / "state.json"
    env = {**os.environ, "OPENPREPAID_DATA_DIR": str(tmp_path / "data")}
    env.pop("OPENPREPAID_MASTER_KEY", None)
    command = [
        sys.executable, "-m", "openprepaid", "simulate",
        "--gateways", "2", "--meters-per-gateway", "2", "--modbus-per-bus", "1",
        "--first-port", "0", "--control-port", "0", "--speed", "60",
        "--state", str(state_path), "--json", str(listing_path), "--open-accounts", "50-60",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not listing_path.exists():
            if process.poll() is not None:
                pytest.fail(f"simulate exited early: {process.communicate()}")
            assert time.monotonic() < deadline, "simulate did not write its listing in time"
            time.sleep(0.05)
        listing = json.loads(listing_path.read_text(encoding="utf-8"))
        yield process, listing, state_path
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def test_simulate_serves_meters_and_saves_state_on_sigterm(simulator, capsys):
    process, listing, state_path = simulator
    assert listing["meter_count"] == 4
    assert listing["speed"] == 60
    gateway = listing["gateways"][0]
    address = gateway["meters"][0]["address"]
    reply = read_energy(gateway["port"], address)
    assert reply.address == address

    port = str(listing["control"]["port"])
    assert main(["simctl", "--port", port, "inspect", address]) == 0
    meter = json.loads(capsys.readouterr().out)["meter"]
    assert meter["address"] == address
    assert 50 <= Decimal(meter["balance"]) <= 60

    assert main(["simctl", "--port", port, "fault", "cover_open", "--meter", address]) == 0
    assert json.loads(capsys.readouterr().out)["fault"]["kind"] == "cover_open"
    assert main(["simctl", "--port", port, "faults"]) == 0
    assert len(json.loads(capsys.readouterr().out)["faults"]) == 1

    assert main(["simctl", "--port", port, "inspect", "999"]) == 1
    assert "no meter '999'" in capsys.readouterr().err
    assert main(["simctl", "--port", port, "fault", "late_reply", "--meter", address]) == 1
    assert "delay" in capsys.readouterr().err

    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=START_TIMEOUT)
    assert process.returncode == 0, err
    assert "Simulating site SIM: 2 gateways, 4 meters" in out
    assert f"127.0.0.1:{gateway['port']}" in out
    assert "state saved to" in out
    assert "public demo master key" in err
    saved = load_state(state_path)
    assert saved["meters"]["GW001"][address]["tamper"]["cover_open_count"] == 1


def test_simctl_without_a_simulator_fails_with_a_message(capsys):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert main(["simctl", "--port", str(port), "listing"]) == 1
    assert "cannot reach the simulator" in capsys.readouterr().err


def test_simctl_needs_an_operation(capsys):
    assert main(["simctl"]) == 2
    assert "name an operation" in capsys.readouterr().err


def test_simulate_rejects_bad_options(capsys, tmp_path):
    assert main(["simulate", "--gateways", "1", "--open-accounts", "9-3", "--no-state"]) == 2
    assert "LOW is more than HIGH" in capsys.readouterr().err
    assert main(["simulate", "--gateways", "1", "--meters-per-gateway", "40"]) == 2
    assert "meters per gateway" in capsys.readouterr().err
    bad_key = ["simulate", "--gateways", "1", "--master-key", "00" * 16, "--no-state"]
    assert main(bad_key) == 2
    assert "master key" in capsys.readouterr().err
    corrupt = tmp_path / "state.json"
    corrupt.write_text("{", encoding="utf-8")
    assert main(["simulate", "--gateways", "1", "--state", str(corrupt)]) == 2
    assert f"{corrupt} is corrupt" in capsys.readouterr().err


def test_sample_site_is_the_default():
    args = cli.build_parser().parse_args(["simulate"])
    spec = cli.simulator._simulated_site(args)
    assert spec.code == "DEMO"
    assert len(spec.gateways) == 22
    assert spec.gateways[0].port == 10001


def test_options_with_first_port_zero_use_ephemeral_ports():
    args = cli.build_parser().parse_args(
        ["simulate", "--gateways", "3", "--meters-per-gateway", "4", "--first-port", "0",
         "--modbus-tcp-gateways", "1"]
    )  # fmt: skip
    spec = cli.simulator._simulated_site(args)
    assert [g.port for g in spec.gateways] == [0, 0, 0]
    assert spec.gateways[2].transport == "modbus_tcp"
    assert spec.meter_count == 12


def test_site_file_is_read_like_the_console_import(tmp_path):
    tables = sample_site_tables()
    gateway = tables["gateways"][0]
    meters = [m for m in tables["meters"] if m["gateway"] == gateway["name"]][:3]
    units = [u for u in tables["units"] if u["code"] in {m["unit"] for m in meters}]
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in (("gateways", [{**gateway, "port": "0"}]), ("units", units),
                       ("meters", meters)):  # fmt: skip
        sheet = workbook.create_sheet(name)
        sheet.append(list(rows[0]))
        for row in rows:
            sheet.append(list(row.values()))
    path = tmp_path / "site.xlsx"
    workbook.save(path)

    args = cli.build_parser().parse_args(["simulate", "--site-file", str(path)])
    spec = cli.simulator._simulated_site(args)
    assert spec.code == "DEMO"
    assert [g.name for g in spec.gateways] == [gateway["name"]]
    assert [m.address for m in spec.gateways[0].meters] == [m["address"] for m in meters]
    assert spec.gateways[0].port == 0


def test_site_file_errors_are_reported(tmp_path, capsys):
    path = tmp_path / "site.xls"
    path.write_bytes(b"old excel")
    assert main(["simulate", "--site-file", str(path), "--no-state"]) == 2
    assert f"{path}: site.xls" in capsys.readouterr().err  # the reader's message follows
    missing = tmp_path / "none.xlsx"
    assert main(["simulate", "--site-file", str(missing), "--no-state"]) == 2
    assert "none.xlsx" in capsys.readouterr().err


def test_default_state_path_follows_the_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("OPENPREPAID_DATA_DIR", str(tmp_path))
    assert cli.simulator._default_state_path() == tmp_path / "simulator-state.json"


@pytest.mark.django_db
def test_the_consoles_own_export_simulates_the_configured_site(tmp_path, admin):
    """What ``openprepaid demo`` does: export the console's configuration (labels in Chinese,
    as a site manager sees them) and simulate that file — meter for meter the sample site."""
    from django.utils import translation

    from openprepaid.domain.configio.export import export_configuration
    from openprepaid.domain.sample.services import load_sample_site
    from openprepaid.simulator.sitespec import site_from_tables

    load_sample_site(acting_user=admin)
    path = tmp_path / "demo-site.xlsx"
    with translation.override("zh-hans"):
        path.write_bytes(export_configuration(acting_user=admin))
    args = cli.build_parser().parse_args(["simulate", "--site-file", str(path)])
    simulated = cli.simulator._simulated_site(args)
    expected = site_from_tables(sample_site_tables())

    def by_name(site):  # the export lists a bus's meters by address text: order aside
        return {
            g.name: dataclasses.replace(g, meters=tuple(sorted(g.meters, key=repr)))
            for g in site.gateways
        }

    assert by_name(simulated) == by_name(expected)
    assert simulated.meter_count == 695
