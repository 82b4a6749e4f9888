"""Cross-check with pymodbus 3.16 as an independent peer, without a network: pymodbus's own
framers and PDU decoder parse the frames we build, and we parse the frames pymodbus builds —
every function code, requests and responses, RTU and TCP (pymodbus's "socket" framer)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from modbus_strategies import requests, responses, unit_ids
from pymodbus.framer import FramerRTU, FramerSocket
from pymodbus.pdu import DecodePDU
from pymodbus.pdu import ExceptionResponse as PmException
from pymodbus.pdu.bit_message import (
    ReadCoilsRequest as PmReadCoilsRequest,
)
from pymodbus.pdu.bit_message import (
    ReadCoilsResponse as PmReadCoilsResponse,
)
from pymodbus.pdu.bit_message import (
    WriteSingleCoilRequest as PmWriteSingleCoilRequest,
)
from pymodbus.pdu.bit_message import (
    WriteSingleCoilResponse as PmWriteSingleCoilResponse,
)
from pymodbus.pdu.register_message import (
    ReadHoldingRegistersRequest as PmReadHoldingRequest,
)
from pymodbus.pdu.register_message import (
    ReadHoldingRegistersResponse as PmReadHoldingResponse,
)
from pymodbus.pdu.register_message import (
    ReadInputRegistersRequest as PmReadInputRequest,
)
from pymodbus.pdu.register_message import (
    ReadInputRegistersResponse as PmReadInputResponse,
)
from pymodbus.pdu.register_message import (
    WriteMultipleRegistersRequest as PmWriteMultipleRequest,
)
from pymodbus.pdu.register_message import (
    WriteMultipleRegistersResponse as PmWriteMultipleResponse,
)
from pymodbus.pdu.register_message import (
    WriteSingleRegisterRequest as PmWriteSingleRegisterRequest,
)
from pymodbus.pdu.register_message import (
    WriteSingleRegisterResponse as PmWriteSingleRegisterResponse,
)

from openprepaid.protocol.modbus import (
    NEED_DATA,
    Direction,
    ExceptionResponse,
    ReadCoilsRequest,
    ReadCoilsResponse,
    ReadHoldingRegistersRequest,
    ReadHoldingRegistersResponse,
    ReadInputRegistersRequest,
    ReadInputRegistersResponse,
    RtuDecoder,
    TcpDecoder,
    WriteMultipleRegistersRequest,
    WriteMultipleRegistersResponse,
    WriteSingleCoilRequest,
    WriteSingleCoilResponse,
    WriteSingleRegisterRequest,
    WriteSingleRegisterResponse,
    encode_rtu,
    encode_tcp,
)
from openprepaid.protocol.modbus.acrel import trip_request


def _fields(pm) -> tuple:
    """The fields of a pymodbus PDU in the shape of ours."""
    fc = pm.function_code
    if fc & 0x80:
        return (fc, pm.exception_code)
    if isinstance(pm, PmReadCoilsResponse):
        return (fc, tuple(pm.bits))
    return (fc, pm.address, pm.count, tuple(pm.registers), tuple(pm.bits))


def _ours(pdu) -> tuple:
    fc = pdu.function_code
    match pdu:
        case ExceptionResponse():
            return (fc, int(pdu.exception))
        case ReadCoilsResponse():
            return (fc, pdu.bits)
        case ReadCoilsRequest() | ReadHoldingRegistersRequest() | ReadInputRegistersRequest():
            return (fc, pdu.address, pdu.count, (), ())
        case WriteMultipleRegistersResponse():
            return (fc, pdu.address, pdu.count, (), ())
        case ReadHoldingRegistersResponse() | ReadInputRegistersResponse():
            return (fc, 0, len(pdu.registers), pdu.registers, ())
        case WriteSingleCoilRequest() | WriteSingleCoilResponse():
            return (fc, pdu.address, 0, (), (pdu.value,))
        case WriteSingleRegisterRequest() | WriteSingleRegisterResponse():
            return (fc, pdu.address, 1, (pdu.value,), ())
        case WriteMultipleRegistersRequest():
            return (fc, pdu.address, len(pdu.values), pdu.values, ())
    raise AssertionError(pdu)


def _to_pymodbus(pdu, unit_id: int, tid: int = 0):
    kw = {"dev_id": unit_id, "transaction_id": tid}
    match pdu:
        case ExceptionResponse():
            return PmException(pdu.function, int(pdu.exception), device_id=unit_id, transaction=tid)
        case ReadCoilsRequest():
            return PmReadCoilsRequest(address=pdu.address, count=pdu.count, **kw)
        case ReadHoldingRegistersRequest():
            return PmReadHoldingRequest(address=pdu.address, count=pdu.count, **kw)
        case ReadInputRegistersRequest():
            return PmReadInputRequest(address=pdu.address, count=pdu.count, **kw)
        case WriteSingleCoilRequest():
            return PmWriteSingleCoilRequest(address=pdu.address, bits=[pdu.value], **kw)
        case WriteSingleRegisterRequest():
            return PmWriteSingleRegisterRequest(address=pdu.address, registers=[pdu.value], **kw)
        case WriteMultipleRegistersRequest():
            return PmWriteMultipleRequest(address=pdu.address, registers=list(pdu.values), **kw)
        case ReadCoilsResponse():
            return PmReadCoilsResponse(bits=list(pdu.bits), **kw)
        case ReadHoldingRegistersResponse():
            return PmReadHoldingResponse(registers=list(pdu.registers), **kw)
        case ReadInputRegistersResponse():
            return PmReadInputResponse(registers=list(pdu.registers), **kw)
        case WriteSingleCoilResponse():
            return PmWriteSingleCoilResponse(address=pdu.address, bits=[pdu.value], **kw)
        case WriteSingleRegisterResponse():
            return PmWriteSingleRegisterResponse(address=pdu.address, registers=[pdu.value], **kw)
        case WriteMultipleRegistersResponse():
            return PmWriteMultipleResponse(address=pdu.address, count=pdu.count, **kw)
    raise AssertionError(pdu)


def _pm_decode(framer_cls, frame: bytes, direction: Direction):
    framer = framer_cls(DecodePDU(is_server=direction is Direction.REQUEST))
    used, pm = framer.handleFrame(frame, 0, 0)
    assert used == len(frame)
    assert pm is not None
    return pm


def _comparable(pm, pdu) -> tuple:
    """pymodbus leaves count/address unset on some responses; compare what both carry."""
    theirs, ours = _fields(pm), _ours(pdu)
    if isinstance(pdu, ReadHoldingRegistersResponse | ReadInputRegistersResponse):
        return theirs[0], theirs[3], ours[0], ours[3]
    if isinstance(pdu, WriteSingleCoilRequest | WriteSingleCoilResponse):
        return theirs[0], theirs[1], theirs[4], ours[0], ours[1], ours[4]
    if isinstance(pdu, WriteSingleRegisterRequest | WriteSingleRegisterResponse):
        return theirs[0], theirs[1], theirs[3], ours[0], ours[1], ours[3]
    if isinstance(pdu, WriteMultipleRegistersRequest):
        return theirs[:4], ours[:4]
    return theirs, ours


def _same(pm, pdu) -> None:
    pair = _comparable(pm, pdu)
    half = len(pair) // 2
    assert pair[:half] == pair[half:]


@settings(max_examples=150)
@given(unit_ids, requests)
def test_pymodbus_parses_our_requests_rtu_and_tcp(unit_id, pdu):
    pm = _pm_decode(FramerRTU, encode_rtu(unit_id, pdu), Direction.REQUEST)
    assert pm.dev_id == unit_id
    _same(pm, pdu)
    pm = _pm_decode(FramerSocket, encode_tcp(0x4242, unit_id, pdu), Direction.REQUEST)
    assert (pm.dev_id, pm.transaction_id) == (unit_id, 0x4242)
    _same(pm, pdu)


@settings(max_examples=150)
@given(unit_ids, responses)
def test_pymodbus_parses_our_responses_rtu_and_tcp(unit_id, pdu):
    for framer, frame in (
        (FramerRTU, encode_rtu(unit_id, pdu)),
        (FramerSocket, encode_tcp(9, unit_id, pdu)),
    ):
        pm = _pm_decode(framer, frame, Direction.RESPONSE)
        assert pm.dev_id == unit_id
        _same(pm, pdu)


def _ours_decode(frame: bytes, direction: Direction, tcp: bool):
    decoder = (TcpDecoder if tcp else RtuDecoder)(direction)
    decoder.receive_data(frame)
    event = decoder.next_event()
    assert event is not NEED_DATA
    assert decoder.next_event() is NEED_DATA
    return event


@settings(max_examples=150)
@given(unit_ids, requests | responses)
def test_we_parse_what_pymodbus_builds_rtu_and_tcp(unit_id, pdu):
    pm = _to_pymodbus(pdu, unit_id, tid=77)
    for framer_cls, tcp in ((FramerRTU, False), (FramerSocket, True)):
        frame = framer_cls(DecodePDU(is_server=False)).buildFrame(pm)
        event = _ours_decode(frame, pdu.direction, tcp)
        assert (event.unit_id, event.pdu) == (unit_id, pdu)
        if tcp:
            assert event.transaction_id == 77


@pytest.mark.parametrize("tcp", [False, True])
def test_relay_trip_frame_matches_pymodbus_byte_for_byte(tcp):
    pm = PmWriteMultipleRequest(address=0x0057, registers=[1, 1], dev_id=1, transaction_id=3)
    framer = (FramerSocket if tcp else FramerRTU)(DecodePDU(is_server=False))
    ours = encode_tcp(3, 1, trip_request()) if tcp else encode_rtu(1, trip_request())
    assert framer.buildFrame(pm) == ours
