"""The control interface: JSON lines over TCP in front of a running simulator."""

from __future__ import annotations

import dataclasses
import json
import socket
from datetime import datetime

import pytest

from openprepaid.simulator.clock import ManualClock
from openprepaid.simulator.control import ControlError, SimulatorControl, dispatch
from openprepaid.simulator.runner import Simulator, SimulatorThread
from openprepaid.simulator.sitespec import SiteSpec, site_from_options

DLT = "300001000001"


def small_site() -> SiteSpec:
    spec = site_from_options(gateways=2, meters_per_gateway=2, modbus_per_bus=1, seed=3)
    return SiteSpec(tuple(dataclasses.replace(g, port=0) for g in spec.gateways))


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    path = tmp_path_factory.mktemp("control") / "state.json"
    clock = ManualClock(datetime(2026, 3, 2, 10, 0))  # noqa: DTZ001 - naive local time
    with SimulatorThread(
        small_site(), clock=clock, timing=False, control_port=0, state_path=path
    ) as sim:
        yield sim


@pytest.fixture
def control(running):
    with SimulatorControl("127.0.0.1", running.control_port, timeout=5) as client:
        yield client
    running.clear_faults()


def raw_exchange(port: int, payload: bytes) -> list[dict]:
    """Send raw bytes, half-close, and read every reply line until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return [json.loads(line) for line in data.splitlines()]


def test_listing_shows_real_ports_and_the_control_port(control, running):
    listing = control.listing()
    assert [g["name"] for g in listing["gateways"]] == ["GW001", "GW002"]
    assert listing["gateways"][0]["port"] == running.address("GW001")[1]
    assert listing["control"]["port"] == running.control_port
    assert listing["meter_count"] == 4


def test_inspect_a_meter(control):
    meter = control.inspect(DLT)
    assert meter["address"] == DLT
    assert meter["gateway"] == "GW001"
    assert "registers" in meter
    assert control.inspect("2", gateway="GW002")["protocol"] == "modbus_rtu"


def test_inject_list_and_clear(control):
    fault = control.inject("late_reply", meter=DLT, delay=0.5, count=3)
    assert fault == {"kind": "late_reply", "gateway": "GW001", "meter": DLT, "delay": 0.5,
                     "count": 3}  # fmt: skip
    drift = control.inject("clock_drift", meter="300002000001", seconds_per_day=-20)
    assert drift["seconds_per_day"] == -20
    assert control.inspect("300002000001")["clock_drift"] == -20
    assert sorted(f["kind"] for f in control.faults()) == ["clock_drift", "late_reply"]
    assert control.clear(kind="late_reply") == 1
    assert control.clear() == 1
    assert control.faults() == []
    assert control.inspect("300002000001")["clock_drift"] == 0


def test_errors_are_replies_with_clear_messages(control):
    with pytest.raises(ControlError, match="no meter '123'"):
        control.inspect("123")
    with pytest.raises(ControlError, match="unknown fault kind 'fire'"):
        control.inject("fire", meter=DLT)
    with pytest.raises(ControlError, match="does not take fe"):
        control.inject("garbled", meter=DLT, fe=3)
    with pytest.raises(ControlError, match="name the gateway"):
        control.inspect("2")
    with pytest.raises(ControlError, match="unknown operation 'explode'"):
        control.call("explode")
    with pytest.raises(ControlError, match="inspect needs 'meter'"):
        control.call("inspect")
    # the same connection still works after every refusal
    assert control.inspect(DLT)["address"] == DLT


def test_malformed_input_never_stops_the_server(running):
    lines = [
        b"this is not json\n",
        b"[1, 2, 3]\n",
        b'{"op": "inspect", "meter": {"nested": true}}\n',
        b"\n",
        b'{"op": "inject", "kind": "no_reply", "meter": "' + DLT.encode() + b'", "count": "x"}\n',
        b'{"op": "now"}',  # the last line may come without its newline
    ]
    replies = raw_exchange(running.control_port, b"".join(lines))
    assert len(replies) == 5
    assert replies[0]["ok"] is False
    assert "malformed JSON" in replies[0]["error"]
    assert replies[1] == {"ok": False, "error": "a request is a JSON object with an 'op' field"}
    assert "'meter' must be a string" in replies[2]["error"]
    assert replies[3]["ok"] is False
    assert "count" in replies[3]["error"]
    assert replies[4] == {"ok": True, "now": "2026-03-02T10:00:00"}
    with SimulatorControl("127.0.0.1", running.control_port) as client:
        assert client.now() == "2026-03-02T10:00:00"


def test_an_overlong_line_is_refused(running):
    replies = raw_exchange(running.control_port, b"x" * (3 << 20) + b'\n{"op": "now"}\n')
    assert replies == [
        {"ok": False, "error": "request line too long"},
        {"ok": True, "now": "2026-03-02T10:00:00"},
    ]
    with SimulatorControl("127.0.0.1", running.control_port) as client:
        assert client.listing()["site"] == "SIM"


def test_save_writes_the_state_file(control, running):
    path = control.save()
    assert path == str(running.simulator.state_path)
    assert running.simulator.state_path.exists()


def test_unreachable_simulator_is_a_control_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ControlError, match=f"cannot reach .*:{port}"):
        SimulatorControl("127.0.0.1", port, timeout=1).listing()


def test_dispatch_turns_unexpected_failures_into_replies():
    sim = Simulator(small_site(), timing=False)
    assert dispatch(sim, {"op": "save"}) == {"ok": True, "path": None}

    class Broken:
        def listing(self):
            raise RuntimeError("boom")

    reply = dispatch(Broken(), {"op": "listing"})  # type: ignore[arg-type]
    assert reply == {"ok": False, "error": "internal error: RuntimeError: boom"}
