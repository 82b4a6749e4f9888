"""The Acrel-style register map, its write requests and the Modbus profiles."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openprepaid.protocol.errors import LocalProtocolError, RemoteProtocolError
from openprepaid.protocol.modbus import (
    WriteMultipleRegistersRequest,
    WriteSingleRegisterRequest,
    encode_rtu,
)
from openprepaid.protocol.modbus.acrel import (
    DDSY1352,
    DTSY1352,
    SIM_PREPAID_BASE,
    RegisterType,
    RelayStatus,
    close_request,
    decode_values,
    keep_power_request,
    prices_request,
    recharge_request,
    thresholds_request,
    trip_request,
)
from openprepaid.protocol.modbus.profile import MODBUS_PROFILES, modbus_profile
from openprepaid.protocol.profiles import PROFILES, Protocol

D = Decimal


def test_trip_and_close_are_the_ems4j_control_writes():
    assert encode_rtu(1, trip_request()) == bytes.fromhex("01 10 00 57 00 02 04 00 01 00 01 27 75")
    assert close_request() == WriteMultipleRegistersRequest(0x0057, (1, 0))


def test_decode_energy_block_with_signed_values():
    words = [
        0x0001,
        0xE240,
        0,
        1,
        0,
        2,
        0,
        3,
        0xFFFF,
        0xFFFF,
        7,
        2205,
        512,
        0xFC18,
        0,
        1000,
        0xFC19,
    ]
    values = DDSY1352.decode_block(0x0000, words)
    assert values == {
        "energy_total": D("1234.56"),
        "energy_sharp": D("0.01"),
        "energy_peak": D("0.02"),
        "energy_flat": D("0.03"),
        "energy_valley": D("42949672.95"),
        "code": D("7"),
        "voltage": D("220.5"),
        "current": D("5.12"),
        "active_power": D("-1.000"),
        "apparent_power": D("1.000"),
        "power_factor": D("-0.999"),
    }
    assert all(isinstance(v, Decimal) for v in values.values())


def test_partial_block_decodes_only_whole_registers():
    assert DDSY1352.decode_block(0x0001, [0xE240, 0]) == {}
    assert DDSY1352.decode_block(0x0002, [0, 5, 0]) == {"energy_sharp": D("0.05")}


def test_prepaid_block_reading_and_relay_status():
    words = [0, 12345, 0, 0, 0, 3, RelayStatus.TRIPPED | RelayStatus.ARREARS, 0, 1]
    values = decode_values(DDSY1352, {SIM_PREPAID_BASE: words})
    assert values["remaining_money"] == D("123.45")
    assert values["purchase_count"] == D("3")
    assert RelayStatus(int(values["relay_status"])) == RelayStatus.TRIPPED | RelayStatus.ARREARS
    assert values["cost_control_mode"] == D("1")
    assert all(not r.vendor for r in DDSY1352.registers if r.address >= SIM_PREPAID_BASE)
    assert all(r.vendor for r in DDSY1352.registers if r.address < SIM_PREPAID_BASE)


def test_prices_thresholds_recharge_and_keep_power_requests():
    assert prices_request(D("1.2345"), D("0.9"), D("0.6512"), D("0.3")) == (
        WriteMultipleRegistersRequest(0x1020, (0, 12345, 0, 9000, 0, 6512, 0, 3000))
    )
    assert thresholds_request(D("50"), D("20.00"), D("100"), D("0.01")) == (
        WriteMultipleRegistersRequest(0x1010, (0, 5000, 0, 2000, 0, 10000, 0, 1))
    )
    assert recharge_request(D("100.00"), 4, b"\x12\x34\x56\x78") == (
        WriteMultipleRegistersRequest(0x1030, (0, 10000, 0, 4, 0x1234, 0x5678))
    )
    assert keep_power_request(True) == WriteSingleRegisterRequest(0x1007, 1)
    assert keep_power_request(False) == WriteSingleRegisterRequest(0x1007, 0)


@pytest.mark.parametrize(
    "build",
    [
        lambda: prices_request(D("1.23456"), D(0), D(0), D(0)),  # 5 decimals: refused, not rounded
        lambda: prices_request(1.5, D(0), D(0), D(0)),  # float
        lambda: thresholds_request(D("-1"), D(0), D(0), D(0)),
        lambda: thresholds_request(D("42949672.96"), D(0), D(0), D(0)),
        lambda: recharge_request(D("1"), 1, b"\x00"),
        lambda: recharge_request(D("NaN"), 1, b"\x00" * 4),
        lambda: DDSY1352.by_name("no_such_register"),
    ],
)
def test_write_values_are_checked(build):
    with pytest.raises(LocalProtocolError):
        build()


@given(st.sampled_from(DDSY1352.registers), st.data())
def test_every_register_round_trips(register, data):
    bits = 16 * register.count
    if register.type in (RegisterType.INT16, RegisterType.INT32):
        raw = data.draw(st.integers(-(1 << (bits - 1)), (1 << (bits - 1)) - 1))
    else:
        raw = data.draw(st.integers(0, (1 << bits) - 1))
    value = raw * register.scale
    words = register.encode(value)
    assert len(words) == register.count
    assert register.decode(words) == value


def test_wrong_word_count_is_the_peers_fault():
    with pytest.raises(RemoteProtocolError):
        DDSY1352.by_name("energy_total").decode([1])


def test_modbus_profiles_extend_the_registered_profiles():
    for code, modbus in MODBUS_PROFILES.items():
        assert modbus.profile is PROFILES[code]
        assert modbus.profile.protocol is Protocol.MODBUS_RTU
        reads = modbus.reading_requests()
        assert [r.function_code for r in reads] == [3, 3]
        assert modbus.trip() == trip_request()
    assert modbus_profile("acrel-ddsy1352").register_map is DDSY1352
    assert modbus_profile("acrel-dtsy1352").register_map is DTSY1352
    assert "voltage" not in {r.name for r in DTSY1352.registers}
    with pytest.raises(LocalProtocolError):
        modbus_profile("dlt645-prepaid-1p")
