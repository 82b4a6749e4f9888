"""Every Modbus frame of ../shared/protocol/vectors.json (beside the repository, as in CI)
decodes to its given values, and every request is reproduced byte for byte."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from openprepaid.protocol.modbus import (
    Direction,
    ExceptionCode,
    ExceptionResponse,
    ReadCoilsResponse,
    ReadHoldingRegistersRequest,
    ReadHoldingRegistersResponse,
    WriteMultipleRegistersRequest,
    WriteMultipleRegistersResponse,
    WriteSingleCoilRequest,
    WriteSingleRegisterRequest,
    crc16_modbus,
    decode_frame,
    encode_rtu,
)
from openprepaid.protocol.modbus.acrel import DDSY1352

VECTORS_PATH = Path(__file__).resolve().parents[3].parent / "shared" / "protocol" / "vectors.json"
VECTORS = [v for v in json.loads(VECTORS_PATH.read_text("utf-8")) if v["proto"] == "modbus-rtu"]


def _id(v):
    return v["hex"]


def test_vector_file_holds_fifteen_modbus_frames():
    assert len(VECTORS) == 15


@pytest.mark.parametrize("vector", VECTORS, ids=_id)
def test_crc_matches_the_verified_value(vector):
    raw = bytes.fromhex(vector["hex"])
    assert f"{crc16_modbus(raw[:-2]):04X}" == vector["verified"]["crc16_modbus"]
    assert crc16_modbus(raw) == 0  # the CRC-16/MODBUS residue of a sound frame


def _words(values):
    return tuple(int(v, 16) if isinstance(v, str) else v for v in values)


@pytest.mark.parametrize("vector", VECTORS, ids=_id)
def test_vector_decodes_to_its_values(vector):
    raw = bytes.fromhex(vector["hex"])
    want = vector["decoded"]
    frame = decode_frame(raw, vector["direction"])
    assert frame.unit_id == want["slave"]
    assert frame.direction == vector["direction"]
    pdu = frame.pdu
    assert pdu.function_code == want["fc"]
    if "start" in want or "addr" in want:
        assert pdu.address == int(want.get("start", want.get("addr")), 16)
    if "count" in want:
        assert pdu.count == want["count"]
    if "registers" in want:
        assert pdu.registers == _words(want["registers"])
    if "values" in want:
        assert pdu.values == tuple(want["values"])
    if "byte_count" in want:
        assert raw[2] == want["byte_count"]
    if "bits" in want:
        assert isinstance(pdu, ReadCoilsResponse)
        assert "".join("1" if b else "0" for b in reversed(pdu.bits)) == want["bits"]
    if "coil" in want:
        assert (pdu.address, pdu.value) == (want["coil"], want["value"] == "FF00")
    elif "value" in want:
        assert pdu.value == want["value"]
    if "exception" in want:
        assert pdu == ExceptionResponse(want["fc"] & 0x7F, ExceptionCode(want["exception"]))
    if "uint32" in want:
        values = DDSY1352.decode_block(0x0000, pdu.registers)
        assert values["energy_total"] == Decimal(str(want["kwh"]))
        assert (pdu.registers[0] << 16 | pdu.registers[1]) == want["uint32"]
    if "values_kwh" in want:
        regs = pdu.registers
        kwh = [Decimal(regs[i] << 16 | regs[i + 1]) / 100 for i in range(0, len(regs), 2)]
        assert kwh == [Decimal(str(v)) for v in want["values_kwh"]]


def _build(vector):
    want = vector["decoded"]
    fc = want["fc"]
    if fc == 3:
        pdu = ReadHoldingRegistersRequest(int(want["start"], 16), want["count"])
    elif fc == 5:
        pdu = WriteSingleCoilRequest(want["coil"], want["value"] == "FF00")
    elif fc == 6:
        pdu = WriteSingleRegisterRequest(int(want["addr"], 16), want["value"])
    else:
        pdu = WriteMultipleRegistersRequest(int(want["addr"], 16), tuple(want["values"]))
    return encode_rtu(want["slave"], pdu)


@pytest.mark.parametrize("vector", [v for v in VECTORS if v["direction"] == "request"], ids=_id)
def test_request_reproduced_byte_for_byte(vector):
    assert _build(vector) == bytes.fromhex(vector["hex"])


def _rebuild_response(frame):
    return encode_rtu(frame.unit_id, frame.pdu)


@pytest.mark.parametrize("vector", [v for v in VECTORS if v["direction"] == "response"], ids=_id)
def test_response_reencodes_byte_for_byte(vector):
    raw = bytes.fromhex(vector["hex"])
    assert _rebuild_response(decode_frame(raw, Direction.RESPONSE)) == raw


def test_write_multiple_reply_vector_is_the_relay_ack():
    frame = decode_frame(bytes.fromhex("01 10 00 57 00 02 F0 18"), "response")
    assert frame.pdu == WriteMultipleRegistersResponse(0x0057, 2)
    assert isinstance(
        decode_frame(bytes.fromhex("01 03 04 00 00 00 00 FA 33"), "response").pdu,
        ReadHoldingRegistersResponse,
    )
