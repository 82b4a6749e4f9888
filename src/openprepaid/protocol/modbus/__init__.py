"""Modbus-RTU and Modbus-TCP, sans-IO: CRC, PDUs, RTU and TCP framing with streaming decoders,
the Acrel-style prepaid register map and frame descriptions.

Typical master use::

    decoder = RtuDecoder(Direction.RESPONSE)
    request = ReadHoldingRegistersRequest(0x0000, 0x11)
    send(encode_rtu(1, request))
    decoder.expect(1, request)
    decoder.receive_data(chunk)           # as bytes arrive
    event = decoder.next_event()          # RtuFrame or NEED_DATA
"""

from __future__ import annotations

from .common import NEED_DATA, Direction, NeedData, TraceKind
from .crc import crc16_modbus, crc_bytes
from .pdu import (
    ExceptionCode,
    ExceptionResponse,
    FunctionCode,
    Pdu,
    ReadCoilsRequest,
    ReadCoilsResponse,
    ReadHoldingRegistersRequest,
    ReadHoldingRegistersResponse,
    ReadInputRegistersRequest,
    ReadInputRegistersResponse,
    Request,
    Response,
    WriteMultipleRegistersRequest,
    WriteMultipleRegistersResponse,
    WriteSingleCoilRequest,
    WriteSingleCoilResponse,
    WriteSingleRegisterRequest,
    WriteSingleRegisterResponse,
    decode_pdu,
    decode_request_pdu,
    decode_response_pdu,
    matches,
    raise_for_exception,
)
from .rtu import RtuDecoder, RtuFrame, decode_frame, encode_rtu
from .tcp import TcpDecoder, TcpFrame, decode_tcp_frame, encode_tcp

__all__ = [
    "NEED_DATA",
    "Direction",
    "ExceptionCode",
    "ExceptionResponse",
    "FunctionCode",
    "NeedData",
    "Pdu",
    "ReadCoilsRequest",
    "ReadCoilsResponse",
    "ReadHoldingRegistersRequest",
    "ReadHoldingRegistersResponse",
    "ReadInputRegistersRequest",
    "ReadInputRegistersResponse",
    "Request",
    "Response",
    "RtuDecoder",
    "RtuFrame",
    "TcpDecoder",
    "TcpFrame",
    "TraceKind",
    "WriteMultipleRegistersRequest",
    "WriteMultipleRegistersResponse",
    "WriteSingleCoilRequest",
    "WriteSingleCoilResponse",
    "WriteSingleRegisterRequest",
    "WriteSingleRegisterResponse",
    "crc16_modbus",
    "crc_bytes",
    "decode_frame",
    "decode_pdu",
    "decode_request_pdu",
    "decode_response_pdu",
    "decode_tcp_frame",
    "encode_rtu",
    "encode_tcp",
    "matches",
    "raise_for_exception",
]
