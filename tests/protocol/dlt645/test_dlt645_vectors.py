"""Every DL/T 645 frame of ../shared/protocol/vectors.json decodes to the values given there, and
is reproduced byte for byte by our encoders (same preamble count)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from dlt645_helpers import VECTORS, preamble_count, vector_bytes

from openprepaid.protocol.describe import describe
from openprepaid.protocol.dlt645 import (
    AbnormalReply,
    ControlRequest,
    ReadAddressReply,
    ReadFollowUpRequest,
    ReadReply,
    SecurityAbnormalReply,
    WriteRequest,
    decode_frame,
    encode_reply,
    encode_request,
    parse_reply,
    parse_request,
)
from openprepaid.protocol.dlt645.formats import MeterDate

IDS = [f"{i:02d}-{v['direction']}-{v['decoded']['ctrl']}" for i, v in enumerate(VECTORS)]


def test_the_shared_file_has_the_dlt645_vectors():
    assert len(VECTORS) == 46


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_link_layer(vector):
    frame = decode_frame(vector_bytes(vector))
    expected = vector["decoded"]
    assert frame.address == expected["address"]
    assert f"0x{frame.control:02X}" == expected["ctrl"]
    assert len(frame.data) == vector["verified"]["L"]
    assert frame.data.hex(" ").upper() == vector["verified"]["data_minus_33"]
    assert frame.is_response == (vector["direction"] == "response")


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_reencoded_byte_for_byte(vector):
    data = vector_bytes(vector)
    frame = decode_frame(data)
    if vector["direction"] == "request":
        assert encode_request(parse_request(frame), preamble_count(data)) == data
    else:
        assert encode_reply(parse_reply(frame), preamble_count(data)) == data


def _number(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_typed_values(vector):
    expected = vector["decoded"]
    frame = decode_frame(vector_bytes(vector))
    message = parse_request(frame) if vector["direction"] == "request" else parse_reply(frame)
    if "di" in expected:
        assert f"{message.di:08X}" == expected["di"]
    value = message.value if isinstance(message, ReadReply) else None
    if isinstance(message, WriteRequest):
        value = message.decoded_value()
        assert f"{message.password.level:02X}" == expected.get("password_level", "02")
        assert message.password.code == expected.get("password", "123456")
        assert message.operator == expected.get("operator", "00000000")
    if "value" in expected:
        assert value == _number(expected["value"])
    if "values" in expected:
        assert list(value) == [_number(v) for v in expected["values"]]
    if "date" in expected:
        assert value == MeterDate(dt.date.fromisoformat(expected["date"]), expected["weekday"])
    if "time" in expected:
        assert value == dt.time.fromisoformat(expected["time"])
    if "datetime" in expected:
        moment = getattr(message, "time", value)
        assert moment == dt.datetime.fromisoformat(expected["datetime"])
    if "N1" in expected:
        assert isinstance(message, ControlRequest)
        assert f"{message.command:02X}" == expected["N1"]
        assert f"{message.password.level:02X}" == expected["password_level"]
        assert message.valid_until == dt.datetime.fromisoformat(expected["valid_until"])
    if "err" in expected:
        assert isinstance(message, AbnormalReply)
        assert message.error.value == int(expected["err"], 16)
    if "serr" in expected:
        assert isinstance(message, SecurityAbnormalReply)
        assert message.error.value == int(expected["serr"], 16)
    if "data_address" in expected:
        assert isinstance(message, ReadAddressReply)
        assert message.address == expected["data_address"]
    if "seq" in expected:
        assert isinstance(message, ReadFollowUpRequest)
        assert message.seq == expected["seq"]
    if "baud" in expected:
        assert message.baud.bps == expected["baud"]
        assert f"0x{message.baud:02X}" == expected["feature"]


@pytest.mark.parametrize("vector", VECTORS, ids=IDS)
def test_described_for_the_cli(vector):
    expected = vector["decoded"]
    described = describe(vector_bytes(vector))
    assert described["protocol"] == "dlt645"
    assert described["address"] == expected["address"]
    assert described["control"] == expected["ctrl"]
    assert described["direction"] == vector["direction"]
    for key in ("di", "unit", "date", "weekday", "time", "N1", "valid_until", "err", "serr"):
        if key in expected:
            assert described[key] == expected[key], key
    if "value" in expected:
        assert Decimal(described["value"]) == _number(expected["value"])
    if "values" in expected:
        assert [_number(v) for v in described["values"]] == [_number(v) for v in expected["values"]]
    if "err_bits" in expected:
        assert described["error"] == expected["err_bits"]
    if "datetime" in expected:
        assert described["datetime"].startswith(expected["datetime"])
