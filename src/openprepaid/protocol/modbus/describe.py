"""Plain-data descriptions of Modbus frames for the ``openprepaid decode`` CLI."""

from __future__ import annotations

from typing import Any

from ..errors import RemoteProtocolError
from .common import Direction
from .pdu import (
    FUNCTION_NAMES,
    ExceptionResponse,
    ReadCoilsResponse,
    WriteMultipleRegistersRequest,
    WriteMultipleRegistersResponse,
    WriteSingleCoilRequest,
    WriteSingleCoilResponse,
    WriteSingleRegisterRequest,
    WriteSingleRegisterResponse,
    _ReadRegistersResponse,
    _ReadRequest,
)
from .rtu import RtuFrame, decode_frame
from .tcp import TcpFrame


def _hex(word: int) -> str:
    return f"0x{word:04X}"


def describe(frame: RtuFrame | TcpFrame) -> dict[str, Any]:
    """A JSON-ready dict: protocol, address (unit id), function, function_code, direction,
    abnormal, error (exception name, when abnormal) and the frame's fields; register values are
    given as decimal strings (``values``) and 4-digit hex (``registers``)."""
    pdu = frame.pdu
    out: dict[str, Any] = {
        "protocol": "modbus-tcp" if isinstance(frame, TcpFrame) else "modbus-rtu",
        "address": str(frame.unit_id),
    }
    if isinstance(frame, TcpFrame):
        out["transaction_id"] = frame.transaction_id
    if isinstance(pdu, ExceptionResponse):
        function = FUNCTION_NAMES.get(pdu.function, f"function_0x{pdu.function:02X}")
        out.update(
            function=function,
            function_code=f"0x{pdu.function_code:02X}",
            direction=Direction.RESPONSE.value,
            abnormal=True,
            error=pdu.exception.name.lower(),
            exception_code=f"0x{pdu.exception:02X}",
        )
        return out
    out.update(
        function=FUNCTION_NAMES[pdu.function_code],
        function_code=f"0x{pdu.function_code:02X}",
        direction=pdu.direction.value,
        abnormal=False,
    )
    if isinstance(pdu, _ReadRequest | WriteMultipleRegistersResponse):
        out.update(start=_hex(pdu.address), count=pdu.count)
    elif isinstance(pdu, WriteMultipleRegistersRequest):
        out.update(
            start=_hex(pdu.address),
            count=len(pdu.values),
            registers=[_hex(v) for v in pdu.values],
            values=[str(v) for v in pdu.values],
        )
    elif isinstance(pdu, WriteSingleRegisterRequest | WriteSingleRegisterResponse):
        out.update(start=_hex(pdu.address), registers=[_hex(pdu.value)], value=str(pdu.value))
    elif isinstance(pdu, WriteSingleCoilRequest | WriteSingleCoilResponse):
        out.update(start=_hex(pdu.address), value="1" if pdu.value else "0")
    elif isinstance(pdu, _ReadRegistersResponse):
        out.update(
            byte_count=2 * len(pdu.registers),
            registers=[_hex(v) for v in pdu.registers],
            values=[str(v) for v in pdu.registers],
        )
    elif isinstance(pdu, ReadCoilsResponse):
        out.update(byte_count=len(pdu.bits) // 8, values=["1" if b else "0" for b in pdu.bits])
    return out


def detect_and_decode(data: bytes) -> tuple[RtuFrame, Direction]:
    """Decode one RTU frame of unknown direction: as a request first, then as a response.

    FC05/FC06 *replies* are byte-identical echoes of their requests and so come back as
    requests. RemoteProtocolError if neither fits.
    """
    try:
        return decode_frame(data, Direction.REQUEST), Direction.REQUEST
    except RemoteProtocolError as as_request:
        try:
            return decode_frame(data, Direction.RESPONSE), Direction.RESPONSE
        except RemoteProtocolError as as_response:
            raise RemoteProtocolError(
                f"not a Modbus-RTU frame: as a request, {as_request}; as a response, {as_response}"
            ) from None
