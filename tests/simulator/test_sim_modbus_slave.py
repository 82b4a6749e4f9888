"""The simulated Acrel-profile meter, driven by real RTU frames (encoded as a master encodes
them, decoded as the bus decodes them, answered, encoded and decoded back)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from openprepaid.protocol.modbus import acrel
from openprepaid.protocol.modbus.common import Direction
from openprepaid.protocol.modbus.pdu import (
    ExceptionCode,
    ExceptionResponse,
    ReadCoilsRequest,
    ReadHoldingRegistersRequest,
    ReadHoldingRegistersResponse,
    ReadInputRegistersRequest,
    ReadInputRegistersResponse,
    WriteMultipleRegistersRequest,
    WriteMultipleRegistersResponse,
    WriteSingleRegisterRequest,
    WriteSingleRegisterResponse,
)
from openprepaid.protocol.modbus.profile import modbus_profile
from openprepaid.protocol.modbus.rtu import decode_frame, encode_rtu
from openprepaid.protocol.security import (
    MasterKey,
    MasterSecurity,
    modbus_recharge_mac,
    modbus_recharge_request,
)
from openprepaid.simulator.clock import ManualClock
from openprepaid.simulator.meter import SimMeter
from openprepaid.simulator.sitespec import MeterSpec


def at(*parts: int) -> datetime:
    """A naive moment: meters keep local wall-clock time without a zone."""
    return datetime(*parts)  # noqa: DTZ001


MASTER = MasterSecurity(
    MasterKey.from_hex("0123456789ABCDEF FEDCBA9876543210 89ABCDEF01234567"),
    rng=random.Random(4).randbytes,
)
MONDAY_9 = at(2026, 11, 23, 9, 0)
NUMBER = "910001000007"


def make(*, phases=1, balance=None, cost_control="local", kind="restaurant", unit="7"):
    spec = MeterSpec(
        unit,
        protocol="modbus_rtu",
        profile="acrel-dtsy1352" if phases == 3 else "acrel-ddsy1352",
        phases=phases,
        cost_control=cost_control,
        unit_kind=kind,
        meter_number=NUMBER,
    )
    return SimMeter(
        spec,
        seed=5,
        now=MONDAY_9,
        meter_key=MASTER.meter_key(NUMBER),
        opening_balance=None if balance is None else Decimal(balance),
    )


def exchange(meter: SimMeter, pdu, now: datetime):
    request = decode_frame(encode_rtu(meter.unit_id, pdu), Direction.REQUEST)
    reply = meter.handle_modbus(request.pdu, now)
    answer = decode_frame(encode_rtu(meter.unit_id, reply), Direction.RESPONSE)
    assert answer.unit_id == meter.unit_id
    return answer.pdu


def reading(meter: SimMeter, now: datetime) -> dict[str, Decimal]:
    profile = modbus_profile(meter.spec.profile)
    blocks = {}
    for request in profile.reading_requests():
        reply = exchange(meter, request, now)
        assert isinstance(reply, ReadHoldingRegistersResponse)
        blocks[request.address] = reply.registers
    for start, count in ((0x1010, 8), (0x1020, 8), (0x1040, 7)):
        blocks[start] = exchange(meter, ReadHoldingRegistersRequest(start, count), now).registers
    if meter.spec.phases == 1:
        blocks[0x0038] = exchange(meter, ReadHoldingRegistersRequest(0x0038, 1), now).registers
    return acrel.decode_values(profile.register_map, blocks)


def test_a_reading_decodes_to_what_inspect_reports():
    meter = make(balance="80.00")
    now = MONDAY_9 + timedelta(hours=1, minutes=3)
    values = reading(meter, now)
    state = meter.inspect(now)
    regs = state["registers"]
    for name in ("total", "sharp", "peak", "flat", "valley"):
        assert values[f"energy_{name}"] == Decimal(regs[name])
    assert values["voltage"] == Decimal(state["voltage"])
    assert values["current"] == Decimal(state["current"]).quantize(Decimal("0.01"), "ROUND_DOWN")
    assert values["active_power"] == Decimal(state["power_w"]) / 1000
    assert values["power_factor"] == Decimal("0.950")
    assert values["remaining_money"] == Decimal(state["balance"])
    assert values["overdraft_money"] == 0
    assert values["purchase_count"] == state["purchase_count"] == 1
    assert values["cost_control_mode"] == acrel.CostControlMode.LOCAL
    assert values["keep_power"] == 0
    assert values["energy_reverse"] == 0
    assert acrel.meter_number_from_values(values) == NUMBER
    assert values["code"] == 7


def test_three_phase_meter_has_no_instantaneous_registers():
    meter = make(phases=3)
    values = reading(meter, MONDAY_9 + timedelta(hours=1))
    assert "voltage" not in values
    assert values["energy_total"] > 0
    reply = exchange(meter, ReadHoldingRegistersRequest(0x000B, 1), MONDAY_9)
    assert reply == ExceptionResponse(0x03, ExceptionCode.ILLEGAL_DATA_ADDRESS)


def test_fc04_reads_the_same_registers():
    meter = make()
    holding = exchange(meter, ReadHoldingRegistersRequest(0x0000, 0x11), MONDAY_9)
    inputs = exchange(meter, ReadInputRegistersRequest(0x0000, 0x11), MONDAY_9)
    assert isinstance(inputs, ReadInputRegistersResponse)
    assert inputs.registers == holding.registers


def test_spans_with_unmapped_words_inside_read_zero_and_unmapped_ends_are_refused():
    meter = make(balance="10.00")
    reply = exchange(meter, ReadHoldingRegistersRequest(0x1000, 0x17), MONDAY_9)
    assert isinstance(reply, ReadHoldingRegistersResponse)
    assert reply.registers[0x09:0x10] == (0,) * 7  # 1009H..100FH are not mapped
    for start, count in ((0x0011, 1), (0x1009, 2), (0x0000, 0x12), (0x2000, 4)):
        reply = exchange(meter, ReadHoldingRegistersRequest(start, count), MONDAY_9)
        assert reply == ExceptionResponse(0x03, ExceptionCode.ILLEGAL_DATA_ADDRESS)


def test_unsupported_function_is_illegal_function():
    reply = exchange(make(), ReadCoilsRequest(0, 8), MONDAY_9)
    assert reply == ExceptionResponse(0x01, ExceptionCode.ILLEGAL_FUNCTION)


def test_trip_close_and_keep_power_writes():
    meter = make(cost_control="remote")
    assert exchange(meter, acrel.trip_request(), MONDAY_9) == WriteMultipleRegistersResponse(
        0x0057, 2
    )
    assert reading(meter, MONDAY_9)["relay_status"] == acrel.RelayStatus.TRIPPED
    assert meter.inspect(MONDAY_9)["relay_commanded_trip"] is True
    exchange(meter, acrel.close_request(), MONDAY_9)
    assert meter.inspect(MONDAY_9)["relay"] == "closed"
    reply = exchange(meter, acrel.keep_power_request(True), MONDAY_9)
    assert reply == WriteSingleRegisterResponse(0x1007, 1)
    exchange(meter, acrel.trip_request(), MONDAY_9)
    assert meter.inspect(MONDAY_9)["relay"] == "closed"
    assert reading(meter, MONDAY_9)["relay_status"] == acrel.RelayStatus.KEEP_POWER
    bad = WriteMultipleRegistersRequest(0x0057, (0x0002, 0x0001))
    assert exchange(meter, bad, MONDAY_9) == ExceptionResponse(
        0x10, ExceptionCode.ILLEGAL_DATA_VALUE
    )


def test_prices_thresholds_mode_code_and_ct_ratio_are_writable():
    meter = make(cost_control="remote")
    prices = (Decimal("1.3"), Decimal("1.1"), Decimal("0.75"), Decimal("0.35"))
    reply = exchange(meter, acrel.prices_request(*prices), MONDAY_9)
    assert reply == WriteMultipleRegistersResponse(0x1020, 8)
    thresholds = (Decimal("40"), Decimal("15"), Decimal("10"), Decimal("5"))
    exchange(meter, acrel.thresholds_request(*thresholds), MONDAY_9)
    exchange(meter, WriteSingleRegisterRequest(0x1008, 1), MONDAY_9)
    exchange(meter, WriteSingleRegisterRequest(0x000A, 42), MONDAY_9)
    exchange(meter, WriteSingleRegisterRequest(0x0038, 20), MONDAY_9)
    values = reading(meter, MONDAY_9)
    assert (values["price_sharp"], values["price_valley"]) == (Decimal("1.3"), Decimal("0.35"))
    assert values["alarm_threshold_1"] == 40
    assert values["close_allowed_limit"] == 5
    assert values["cost_control_mode"] == acrel.CostControlMode.LOCAL
    assert values["code"] == 42
    assert values["ct_ratio"] == 20
    assert meter.inspect(MONDAY_9)["cost_control"] == "local"
    assert meter.inspect(MONDAY_9)["ct_ratio"] == 20
    assert meter.prices == [13000, 11000, 7500, 3500]


@pytest.mark.parametrize(
    "request_",
    [
        WriteSingleRegisterRequest(0x0000, 1),  # energy: read-only
        WriteSingleRegisterRequest(0x1010, 1),  # half of a 32-bit register
        WriteSingleRegisterRequest(0x1040, 1),  # meter number: read-only
        WriteSingleRegisterRequest(0x2000, 1),  # unmapped
        WriteMultipleRegistersRequest(0x1030, (0, 1, 0, 2)),  # part of the recharge block
        WriteMultipleRegistersRequest(0x1011, (0, 1)),  # starts inside a register
    ],
)
def test_writes_to_read_only_or_unmapped_words_are_illegal_address(request_):
    reply = exchange(make(), request_, MONDAY_9)
    assert isinstance(reply, ExceptionResponse)
    assert reply.exception is ExceptionCode.ILLEGAL_DATA_ADDRESS


def test_bad_values_are_illegal_value_and_change_nothing():
    meter = make()
    for request in (
        WriteSingleRegisterRequest(0x1007, 2),
        WriteSingleRegisterRequest(0x1008, 7),
        WriteSingleRegisterRequest(0x0038, 0),
        WriteSingleRegisterRequest(0x000A, 10000),
    ):
        reply = exchange(meter, request, MONDAY_9)
        assert reply == ExceptionResponse(request.function_code, ExceptionCode.ILLEGAL_DATA_VALUE)
    assert meter.snapshot() == make().snapshot()


def test_recharge_with_the_right_mac_credits_once_and_a_replay_is_refused():
    clock = ManualClock(MONDAY_9)
    meter = make(balance="0.50")
    while meter.inspect(clock.now())["relay"] == "closed":
        clock.advance(timedelta(minutes=1))
    assert int(reading(meter, clock.now())["relay_status"]) & acrel.RelayStatus.ARREARS
    overdraft = reading(meter, clock.now())["overdraft_money"]
    count = int(reading(meter, clock.now())["purchase_count"]) + 1
    request = modbus_recharge_request(
        MASTER, meter_number=NUMBER, amount=Decimal("30.00"), purchase_count=count
    )
    assert exchange(meter, request, clock.now()) == WriteMultipleRegistersResponse(0x1030, 6)
    values = reading(meter, clock.now())
    assert values["remaining_money"] == Decimal("30.00") - overdraft
    assert values["purchase_count"] == 2
    assert meter.inspect(clock.now())["relay"] == "closed"
    before = meter.snapshot()
    replay = exchange(meter, request, clock.now())
    assert replay == ExceptionResponse(0x10, ExceptionCode.ILLEGAL_DATA_VALUE)
    assert meter.snapshot() == before


def test_recharge_with_a_wrong_mac_or_count_is_refused():
    meter = make(balance="10.00")
    before = meter.snapshot()
    key = MASTER.meter_key(NUMBER)
    mac = modbus_recharge_mac(key, amount_fen=1000, purchase_count=2)
    forged = acrel.recharge_request(Decimal("20.00"), 2, mac)  # amount changed
    assert exchange(meter, forged, MONDAY_9).exception is ExceptionCode.ILLEGAL_DATA_VALUE
    other_key = MASTER.meter_key("910001000008")
    foreign = modbus_recharge_request(other_key, amount=Decimal("10.00"), purchase_count=2)
    assert exchange(meter, foreign, MONDAY_9).exception is ExceptionCode.ILLEGAL_DATA_VALUE
    skipped = modbus_recharge_request(key, amount=Decimal("10.00"), purchase_count=3)
    assert exchange(meter, skipped, MONDAY_9).exception is ExceptionCode.ILLEGAL_DATA_VALUE
    assert meter.snapshot() == before


def test_recharge_respects_the_hoarding_limit():
    meter = make(balance="10.00")
    meter.set_threshold("hoarding_limit", 2000, MONDAY_9)
    key = MASTER.meter_key(NUMBER)
    request = modbus_recharge_request(key, amount=Decimal("10.01"), purchase_count=2)
    assert exchange(meter, request, MONDAY_9).exception is ExceptionCode.ILLEGAL_DATA_VALUE
    request = modbus_recharge_request(key, amount=Decimal("10.00"), purchase_count=2)
    assert isinstance(exchange(meter, request, MONDAY_9), WriteMultipleRegistersResponse)


def test_a_first_recharge_opens_the_account():
    meter = make()
    request = modbus_recharge_request(
        MASTER.meter_key(NUMBER), amount=Decimal("5.00"), purchase_count=1
    )
    assert isinstance(exchange(meter, request, MONDAY_9), WriteMultipleRegistersResponse)
    state = meter.inspect(MONDAY_9)
    assert (state["account_opened"], state["customer_number"]) == (True, NUMBER)


def test_reverse_energy_and_cover_show_in_the_simulator_block():
    clock = ManualClock(MONDAY_9)
    meter = make(cost_control="remote")
    clock.advance(timedelta(hours=1))
    forward = reading(meter, clock.now())["energy_total"]
    meter.set_reverse_energy(True, clock.now())
    meter.open_cover(clock.now())
    clock.advance(timedelta(minutes=20))
    values = reading(meter, clock.now())
    assert values["energy_total"] < forward
    assert values["energy_total"] == max(0, forward - values["energy_reverse"])
    assert values["energy_reverse"] > 0
    assert values["active_power"] < 0
    assert values["power_factor"] < 0
    assert values["cover_open_count"] == 1
