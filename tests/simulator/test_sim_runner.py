"""The simulator runner: a site built from a spec, served over real sockets, faults, state."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import socket
import time
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from openprepaid.protocol.dlt645 import Decoder, Frame, ReadRequest, encode_request, parse_reply
from openprepaid.protocol.modbus.common import NEED_DATA, Direction
from openprepaid.protocol.modbus.pdu import (
    ReadHoldingRegistersRequest,
    ReadHoldingRegistersResponse,
)
from openprepaid.protocol.modbus.tcp import TcpDecoder, encode_tcp
from openprepaid.protocol.security.keys import DEMO_MASTER_KEY_HEX, MasterKey, MeterKey
from openprepaid.simulator.clock import ManualClock, SimClock
from openprepaid.simulator.control import SimulatorControl
from openprepaid.simulator.runner import Simulator, SimulatorError, SimulatorThread, meter_seed
from openprepaid.simulator.sitespec import SiteSpec, site_from_options
from openprepaid.simulator.state import StateFileError, load_state

ENERGY = 0x00000000  # combined active energy, total
MONDAY_MORNING = datetime(2026, 3, 2, 9, 0)  # noqa: DTZ001 - meters keep naive local time
DLT = "300001000001"  # first meter of GW001


def small_site(meters_per_gateway: int = 3) -> SiteSpec:
    """Two transparent gateways on ephemeral ports; the last meter of each bus is Modbus id 3."""
    spec = site_from_options(
        gateways=2, meters_per_gateway=meters_per_gateway, modbus_per_bus=1, seed=7
    )
    return SiteSpec(tuple(dataclasses.replace(g, port=0) for g in spec.gateways))


def read_energy(host: str, port: int, address: str, timeout: float = 2.0):
    """One DL/T 645 read over a fresh connection: the decoded reply, or None on no reply."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(encode_request(ReadRequest(address, ENERGY)))
        decoder = Decoder()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            event = decoder.next_event()
            if isinstance(event, Frame):
                return parse_reply(event)
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = sock.recv(256)
            except TimeoutError:
                return None
            if not data:
                return None
            decoder.receive_data(data)
    return None


def test_a_meter_answers_over_a_real_socket_and_inspect_agrees():
    clock = ManualClock(MONDAY_MORNING)
    with SimulatorThread(small_site(), clock=clock, control_port=0) as sim:
        clock.advance(timedelta(hours=6))
        host, port = sim.address("GW001")
        reply = read_energy(host, port, DLT)
        assert reply is not None
        assert reply.address == DLT
        state = sim.inspect(DLT)
        assert state["gateway"] == "GW001"
        assert reply.value == Decimal(state["registers"]["total"])
        assert reply.value > 0
        listing = sim.listing()
        ports = {g["name"]: g["port"] for g in listing["gateways"]}
        assert ports["GW001"] == port
        assert all(p > 0 for p in ports.values())
        assert listing["control"]["port"] == sim.control_port > 0
        assert listing["timing"] is True
        assert listing["meter_count"] == 6
        first = listing["gateways"][0]["meters"][0]
        assert first["turnaround_ms"] == round(sim.simulator.meter(DLT).turnaround * 1000)
        assert 20 <= first["turnaround_ms"] <= 80  # a DL/T 645 meter's answer delay


def test_a_modbus_tcp_gateway_answers_through_the_runner():
    spec = site_from_options(gateways=2, meters_per_gateway=2, modbus_tcp_gateways=1, seed=7)
    spec = SiteSpec(tuple(dataclasses.replace(g, port=0) for g in spec.gateways))
    with SimulatorThread(spec, timing=False) as sim:
        assert [g["transport"] for g in sim.listing()["gateways"]] == [
            "transparent_tcp",
            "modbus_tcp",
        ]
        with socket.create_connection(sim.address("GW002"), timeout=5) as sock:
            sock.sendall(encode_tcp(0x1234, 2, ReadHoldingRegistersRequest(0, 4)))
            decoder = TcpDecoder(Direction.RESPONSE)
            while (frame := decoder.next_event()) is NEED_DATA:
                decoder.receive_data(sock.recv(256))
        assert frame.transaction_id == 0x1234
        assert frame.unit_id == 2
        assert isinstance(frame.pdu, ReadHoldingRegistersResponse)
        assert sim.inspect("2", gateway="GW002")["protocol"] == "modbus_rtu"


def test_fault_injected_through_the_control_port_silences_the_meter_once():
    with (
        SimulatorThread(small_site(), timing=False, control_port=0) as sim,
        SimulatorControl("127.0.0.1", sim.control_port) as control,
    ):
        host, port = sim.address("GW001")
        fault = control.inject("no_reply", meter=DLT, count=1)
        assert fault == {"kind": "no_reply", "gateway": "GW001", "meter": DLT, "count": 1}
        assert control.inspect(DLT)["faults"] == [fault]
        assert read_energy(host, port, DLT, timeout=0.5) is None
        assert read_energy(host, port, DLT) is not None  # the count is used up
        assert control.faults() == []


def test_offline_and_meter_conditions_act_on_the_meter_and_clear_undoes_them():
    clock = ManualClock(MONDAY_MORNING)
    with SimulatorThread(small_site(), clock=clock, timing=False) as sim:
        sim.inject("offline", meter=DLT)
        sim.inject("reverse_energy", meter="300001000002")
        sim.inject("clock_drift", meter="300002000001", seconds_per_day=60)
        sim.inject("cover_open", meter="300002000002")
        energy_before = sim.inspect(DLT)["registers"]["total"]
        clock.advance(timedelta(hours=4))
        offline = sim.inspect(DLT)
        assert offline["powered"] is False
        assert offline["registers"]["total"] == energy_before  # offline: no consumption
        assert read_energy(*sim.address("GW001"), DLT, timeout=0.3) is None
        assert sim.inspect("300001000002")["reverse_energy"] is True
        drifted = sim.inspect("300002000001")
        assert drifted["clock_drift"] == 60
        assert sim.inspect("300002000002")["cover_open_count"] == 1
        assert len(sim.faults()) == 4

        assert sim.clear_faults() == 4
        assert sim.faults() == []
        assert sim.inspect(DLT)["powered"] is True
        assert read_energy(*sim.address("GW001"), DLT) is not None
        assert sim.inspect("300001000002")["reverse_energy"] is False
        assert sim.inspect("300002000001")["clock_drift"] == 0
        cover = sim.inspect("300002000002")
        assert cover["cover_open"] is False
        assert cover["cover_open_count"] == 1  # the event record stays


def test_clear_filters_by_meter_and_kind():
    with SimulatorThread(small_site(), timing=False) as sim:
        sim.inject("garbled", meter=DLT)
        sim.inject("late_reply", meter=DLT, delay=0.2)
        sim.inject("no_reply", meter="3", gateway="GW002")
        assert sim.clear_faults(meter=DLT, kind="garbled") == 1
        kinds = sorted(f["kind"] for f in sim.faults())
        assert kinds == ["late_reply", "no_reply"]
        assert sim.clear_faults(gateway="GW002") == 1
        assert [f["kind"] for f in sim.faults()] == ["late_reply"]


def test_gateway_refuse_fault_closes_the_port_until_cleared():
    with SimulatorThread(small_site(), timing=False) as sim:
        host, port = sim.address("GW002")
        sim.inject("refuse", gateway="GW002")
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((host, port), timeout=1).close()
        sim.clear_faults(gateway="GW002")
        deadline = time.monotonic() + 5
        while True:  # the gateway listens again on the same port
            try:
                reply = read_energy(host, port, "300002000001")
                break
            except ConnectionRefusedError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert reply is not None


def test_bad_fault_requests_are_clear_errors():
    sim = Simulator(small_site(), timing=False)
    with pytest.raises(SimulatorError, match="unknown fault kind 'sparks'"):
        sim.inject("sparks", meter=DLT)
    with pytest.raises(SimulatorError, match="does not take delay"):
        sim.inject("no_reply", meter=DLT, delay=1.0)
    with pytest.raises(SimulatorError, match="needs a gateway"):
        sim.inject("refuse")
    with pytest.raises(SimulatorError, match="name the meter"):
        sim.inject("garbled", gateway="GW001")
    with pytest.raises(SimulatorError, match="no meter '399999999999'"):
        sim.inject("garbled", meter="399999999999")
    with pytest.raises(SimulatorError, match="no gateway 'GW009'"):
        sim.inject("drop", gateway="GW009")
    with pytest.raises(SimulatorError, match="seconds_per_day"):
        sim.inject("clock_drift", meter=DLT)
    with pytest.raises(ValueError, match="delay"):
        sim.inject("late_reply", meter=DLT, delay=-1)
    assert sim.faults() == []


def test_modbus_unit_ids_need_their_gateway():
    sim = Simulator(small_site(), timing=False)
    with pytest.raises(SimulatorError, match="GW001, GW002: name the gateway"):
        sim.meter("3")
    assert sim.meter("3", gateway="GW002") is sim.meters["GW002"]["3"]
    assert sim.meter("300001000001") is sim.meters["GW001"][DLT]
    assert sim.meter("0300001000001"[1:]) is sim.meter(DLT)
    with pytest.raises(SimulatorError, match="no meter '300001000001' on gateway GW002"):
        sim.meter(DLT, gateway="GW002")


def test_meter_seeds_do_not_depend_on_the_other_meters():
    small = Simulator(small_site(3), timing=False)
    large = Simulator(small_site(5), timing=False)
    for address in (DLT, "300002000002"):
        assert small.meter(address).seed == large.meter(address).seed
    assert small.meter("3", "GW001").seed != small.meter("3", "GW002").seed
    assert meter_seed(1, "GW001", "dlt645_2007", DLT) != meter_seed(2, "GW001", "dlt645_2007", DLT)


def test_meters_are_keyed_from_the_master_key():
    master = MasterKey.from_hex("00112233445566778899AABBCCDDEEFF")
    sim = Simulator(small_site(), master_key=master, timing=False)
    meter = sim.meter(DLT)
    assert meter.meter_key.secret == MeterKey.derive(master, DLT).secret
    demo = Simulator(small_site(), timing=False).meter(DLT)
    expected = MeterKey.derive(MasterKey.from_hex(DEMO_MASTER_KEY_HEX), DLT)
    assert demo.meter_key.secret == expected.secret


def test_opening_balance_opens_accounts_with_whole_yuan_in_range():
    sim = Simulator(small_site(), opening_balance=(Decimal(100), Decimal(150)), timing=False)
    balances = []
    for gateway, spec in sim.spec.meters:
        state = sim.inspect(spec.address, gateway.name)
        assert state["account_opened"] is True
        balance = Decimal(state["balance"])
        assert 100 <= balance <= 150
        assert balance == balance.to_integral_value()
        balances.append(balance)
    assert len(set(balances)) > 1
    closed = Simulator(small_site(), timing=False).inspect(DLT)
    assert closed["account_opened"] is False


def test_restart_with_the_same_state_file_keeps_the_registers(tmp_path):
    path = tmp_path / "sim-state.json"
    clock = ManualClock(MONDAY_MORNING)
    with SimulatorThread(small_site(), clock=clock, state_path=path, timing=False) as sim:
        clock.advance(timedelta(hours=8))
        sim.inject("clock_drift", meter=DLT, seconds_per_day=30)
        before = sim.inspect(DLT)
        modbus_before = sim.inspect("3", "GW002")
    assert Decimal(before["registers"]["total"]) > 0
    saved = load_state(path)
    assert set(saved["meters"]) == {"GW001", "GW002"}
    assert saved["meters"]["GW001"][DLT]["billing"]

    with SimulatorThread(small_site(), clock=clock, state_path=path, timing=False) as again:
        assert again.simulator.restored == 6
        after = again.inspect(DLT)
        assert after["registers"] == before["registers"]
        assert after["clock_drift"] == 30
        assert again.inspect("3", "GW002")["registers"] == modbus_before["registers"]
        reply = read_energy(*again.address("GW001"), DLT)
        assert reply is not None
        assert reply.value == Decimal(before["registers"]["total"])
        clock.advance(timedelta(hours=1))
        later = again.inspect(DLT)["registers"]["total"]
        assert Decimal(later) >= Decimal(before["registers"]["total"])


def test_restored_simulated_time_does_not_go_back(tmp_path):
    path = tmp_path / "state.json"
    future = datetime(2040, 1, 1, 12, 0)  # noqa: DTZ001 - naive local time
    Simulator(small_site(), clock=ManualClock(future), state_path=path).save()
    restarted = Simulator(small_site(), state_path=path, speed=60)
    assert isinstance(restarted.clock, SimClock)
    assert restarted.clock.now() >= future
    assert restarted.clock.speed == 60


def test_meters_unknown_to_the_site_are_ignored_and_new_ones_start_fresh(tmp_path, caplog):
    path = tmp_path / "state.json"
    clock = ManualClock(MONDAY_MORNING)
    big = Simulator(small_site(4), clock=clock, state_path=path)
    clock.advance(timedelta(hours=5))
    big.save()
    with caplog.at_level(logging.WARNING, logger="openprepaid.simulator.runner"):
        small = Simulator(small_site(2), clock=clock, state_path=path)
    assert small.restored == 2  # meters 1 on both gateways; 2 is Modbus here, 4 was
    assert "not in this site" in caplog.text
    assert small.inspect(DLT)["registers"] == big.inspect(DLT)["registers"]
    grown = Simulator(small_site(5), clock=clock, state_path=path)
    assert grown.restored == 6  # DL/T 645 meters 1-3 of each bus
    fresh = grown.inspect("300001000004")  # Modbus id 4 before, a DL/T 645 meter now
    assert fresh["registers"]["total"] == "0.00"


def test_a_corrupt_state_file_stops_the_start(tmp_path):
    path = tmp_path / "state.json"
    path.write_text('{"format": "openprepaid-simulator-state", "version": 1, "met', "utf-8")
    with pytest.raises(StateFileError, match="corrupt") as error:
        Simulator(small_site(), state_path=path)
    assert str(path) in str(error.value)
    with (
        pytest.raises(StateFileError, match=str(path)),
        SimulatorThread(small_site(), state_path=path),
    ):
        pass
    path.write_text(
        json.dumps(
            {"format": "openprepaid-simulator-state", "version": 1,
             "meters": {"GW001": {DLT: {"version": 1, "address": DLT}}}}
        ),
        "utf-8",
    )  # fmt: skip
    with pytest.raises(StateFileError, match=f"meter GW001/{DLT} cannot be restored"):
        Simulator(small_site(), state_path=path)


def test_run_forever_stops_on_request_and_saves(tmp_path):
    path = tmp_path / "state.json"

    async def scenario() -> list[int]:
        sim = Simulator(small_site(), timing=False, state_path=path, save_every=0.05)
        task = asyncio.create_task(sim.run_forever())
        while not sim.running:
            await asyncio.sleep(0.01)
        ports = [g.port for g in sim.gateways.values()]
        await asyncio.sleep(0.2)  # the periodic save writes the file meanwhile
        assert path.exists()
        sim.request_stop()
        await asyncio.wait_for(task, 5)
        assert not sim.running
        return ports

    ports = asyncio.run(scenario())
    assert load_state(path)["meters"]["GW001"][DLT]["address"] == DLT
    for port in ports:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()


def test_simulator_thread_starts_and_stops_cleanly():
    sim = SimulatorThread(small_site(), timing=False)
    sim.start()
    host, port = sim.address("GW001")
    assert read_energy(host, port, DLT) is not None
    assert sim.call(lambda: sim.simulator.running) is True
    snapshot = sim.snapshot(DLT)
    assert snapshot["address"] == DLT
    assert sim.with_meter(DLT, lambda meter: meter.address) == DLT
    sim.stop()
    assert not sim._thread.is_alive()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((host, port), timeout=0.5).close()
    sim.stop()  # a second stop does nothing


def test_simulator_thread_reports_a_port_in_use():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        spec = small_site()
        busy = SiteSpec((dataclasses.replace(spec.gateways[0], port=port), spec.gateways[1]))
        with pytest.raises(OSError, match="ddress already in use"), SimulatorThread(busy):
            pass
