"""``describe`` and ``detect_and_decode`` for the decode CLI."""

from __future__ import annotations

import json

import pytest

from openprepaid.protocol.errors import RemoteProtocolError
from openprepaid.protocol.modbus import Direction, ReadCoilsRequest, decode_tcp_frame, encode_tcp
from openprepaid.protocol.modbus.describe import describe, detect_and_decode


def _describe(hex_frame: str):
    frame, direction = detect_and_decode(bytes.fromhex(hex_frame))
    out = describe(frame)
    assert out["direction"] == direction.value
    json.dumps(out)  # JSON-ready
    return out


def test_read_request():
    assert _describe("01 03 00 00 00 02 C4 0B") == {
        "protocol": "modbus-rtu",
        "address": "1",
        "function": "read_holding_registers",
        "function_code": "0x03",
        "direction": "request",
        "abnormal": False,
        "start": "0x0000",
        "count": 2,
    }


def test_read_response():
    out = _describe("01 03 04 00 01 E2 40 E2 A3")
    assert out["direction"] == "response"
    assert out["registers"] == ["0x0001", "0xE240"]
    assert out["values"] == ["1", "57920"]
    assert out["byte_count"] == 4


def test_exception_response():
    out = _describe("01 83 02 C0 F1")
    assert out["abnormal"] is True
    assert out["error"] == "illegal_data_address"
    assert (out["function"], out["function_code"]) == ("read_holding_registers", "0x83")


def test_writes_and_coils():
    assert _describe("01 10 00 57 00 02 04 00 01 00 01 27 75")["values"] == ["1", "1"]
    ack = _describe("01 10 00 57 00 02 F0 18")
    assert (ack["direction"], ack["start"], ack["count"]) == ("response", "0x0057", 2)
    assert _describe("01 06 00 0A 00 07 E8 0A")["value"] == "7"  # echo: reads as a request
    assert _describe("11 05 00 00 FF 00 8E AA")["value"] == "1"
    coils = _describe("11 01 01 02 D4 89")
    assert coils["values"][:2] == ["0", "1"]


def test_tcp_frame():
    frame = decode_tcp_frame(encode_tcp(5, 3, ReadCoilsRequest(0, 10)), Direction.REQUEST)
    out = describe(frame)
    assert (out["protocol"], out["transaction_id"], out["address"]) == ("modbus-tcp", 5, "3")


@pytest.mark.parametrize("hex_frame", ["", "01 03 00 00 00 02 C4 0C", "01 03 04 00 01 E2 40"])
def test_not_a_frame(hex_frame):
    with pytest.raises(RemoteProtocolError, match="not a Modbus-RTU frame"):
        detect_and_decode(bytes.fromhex(hex_frame))
