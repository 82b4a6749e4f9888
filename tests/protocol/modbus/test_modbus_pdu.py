"""PDU round trips for every function code, and the validation rules on both sides."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from modbus_strategies import requests, responses, unit_ids

from openprepaid.protocol.errors import (
    LocalProtocolError,
    MeterRefused,
    ProtocolError,
    RemoteProtocolError,
)
from openprepaid.protocol.modbus import (
    Direction,
    ExceptionCode,
    ExceptionResponse,
    ReadCoilsRequest,
    ReadCoilsResponse,
    ReadHoldingRegistersRequest,
    ReadHoldingRegistersResponse,
    ReadInputRegistersRequest,
    WriteMultipleRegistersRequest,
    WriteSingleCoilRequest,
    WriteSingleRegisterRequest,
    decode_frame,
    decode_request_pdu,
    decode_response_pdu,
    decode_tcp_frame,
    encode_rtu,
    encode_tcp,
    matches,
    raise_for_exception,
)


@given(requests)
def test_request_pdu_round_trip(pdu):
    assert decode_request_pdu(pdu.encode()) == pdu


@given(responses)
def test_response_pdu_round_trip(pdu):
    assert decode_response_pdu(pdu.encode()) == pdu


@given(unit_ids, requests)
def test_request_rtu_and_tcp_round_trip(unit_id, pdu):
    assert decode_frame(encode_rtu(unit_id, pdu), Direction.REQUEST).pdu == pdu
    frame = decode_tcp_frame(encode_tcp(0x1234, unit_id, pdu), "request")
    assert (frame.transaction_id, frame.unit_id, frame.pdu) == (0x1234, unit_id, pdu)


@given(unit_ids, responses)
def test_response_rtu_and_tcp_round_trip(unit_id, pdu):
    frame = decode_frame(encode_rtu(unit_id, pdu), "response")
    assert (frame.unit_id, frame.pdu) == (unit_id, pdu)
    assert decode_tcp_frame(encode_tcp(7, unit_id, pdu), "response").pdu == pdu


@given(st.binary(max_size=300), st.sampled_from(list(Direction)))
def test_arbitrary_pdu_bytes_raise_only_remote_errors(data, direction):
    for decode in (decode_request_pdu, decode_response_pdu):
        with contextlib.suppress(RemoteProtocolError):
            decode(data)
    with contextlib.suppress(RemoteProtocolError):
        decode_frame(data, direction)


@pytest.mark.parametrize(
    "build",
    [
        lambda: ReadHoldingRegistersRequest(0, 0),
        lambda: ReadHoldingRegistersRequest(0, 126),
        lambda: ReadInputRegistersRequest(0xFFFF, 2),
        lambda: ReadCoilsRequest(0, 2001),
        lambda: WriteMultipleRegistersRequest(0, ()),
        lambda: WriteMultipleRegistersRequest(0, (0,) * 124),
        lambda: WriteMultipleRegistersRequest(0, (0x10000,)),
        lambda: WriteMultipleRegistersRequest(0, [1]),
        lambda: WriteSingleRegisterRequest(0x10000, 0),
        lambda: WriteSingleRegisterRequest(0, -1),
        lambda: WriteSingleCoilRequest(0, 1),
        lambda: ReadHoldingRegistersResponse(()),
        lambda: ReadCoilsResponse(()),
        lambda: ExceptionResponse(0x80, ExceptionCode.ILLEGAL_FUNCTION),
        lambda: encode_rtu(248, ReadHoldingRegistersRequest(0, 1)),
        lambda: encode_rtu(0, ReadHoldingRegistersResponse((1,))),
        lambda: encode_tcp(0x10000, 1, ReadHoldingRegistersRequest(0, 1)),
    ],
)
def test_encode_refuses_what_modbus_cannot_express(build):
    with pytest.raises(LocalProtocolError):
        build()


@pytest.mark.parametrize(
    ("hex_pdu", "decode"),
    [
        ("03 00 00 00 00", decode_request_pdu),  # quantity 0
        ("03 00 00 00 7E", decode_request_pdu),  # 126 registers
        ("10 00 00 00 02 03 00 01 00", decode_request_pdu),  # byte count ≠ 2 × quantity
        ("10 00 00 00 7C F8" + " 00" * 248, decode_request_pdu),  # 124 registers
        ("05 00 00 12 34", decode_request_pdu),  # coil value neither FF00 nor 0000
        ("2B 0E 01 00", decode_request_pdu),  # unsupported function
        ("03 03 00 01 00", decode_response_pdu),  # odd byte count
        ("03 00", decode_response_pdu),  # zero registers
        ("03 04 00 01", decode_response_pdu),  # short
        ("83", decode_response_pdu),
        ("", decode_response_pdu),
    ],
)
def test_decode_blames_the_peer(hex_pdu, decode):
    with pytest.raises(RemoteProtocolError):
        decode(bytes.fromhex(hex_pdu))


def test_unknown_exception_code_is_kept_not_refused():
    pdu = decode_response_pdu(bytes.fromhex("83 42"))
    assert pdu.exception == 0x42
    assert pdu.exception.name == "UNKNOWN_42"
    assert decode_response_pdu(bytes.fromhex("83 0B")).exception is (
        ExceptionCode.GATEWAY_TARGET_FAILED_TO_RESPOND
    )


def test_raise_for_exception_and_matches():
    request = ReadHoldingRegistersRequest(0, 2)
    refusal = ExceptionResponse(3, ExceptionCode.ILLEGAL_DATA_ADDRESS)
    with pytest.raises(MeterRefused) as info:
        raise_for_exception(refusal)
    assert info.value.flags is ExceptionCode.ILLEGAL_DATA_ADDRESS
    assert isinstance(info.value, ProtocolError)
    ok = ReadHoldingRegistersResponse((1, 2))
    assert raise_for_exception(ok) is ok
    assert matches(request, ok)
    assert matches(request, refusal)
    assert not matches(request, ReadHoldingRegistersResponse((1,)))
    assert not matches(ReadInputRegistersRequest(0, 2), ok)
    assert matches(ReadCoilsRequest(0, 3), ReadCoilsResponse((False,) * 8))
    assert matches(
        WriteSingleRegisterRequest(5, 6), decode_response_pdu(bytes.fromhex("06 00 05 00 06"))
    )


def test_coils_are_packed_lsb_first():
    assert ReadCoilsResponse((False, True, False)).encode() == bytes.fromhex("01 01 02")
    assert WriteSingleCoilRequest(0x13, True).encode() == bytes.fromhex("05 00 13 FF 00")
