"""Modbus PDUs (function code + data) for function codes 01, 03, 04, 05, 06 and 16 (0x10),
requests and responses, plus exception responses.

Every PDU is a small frozen dataclass that validates itself on construction and raises
:class:`LocalProtocolError` when it cannot be expressed; the decoders turn the same checks into
:class:`RemoteProtocolError`, because then the peer sent it. Both master and slave sides are here:
a master encodes requests and decodes responses, the simulator decodes requests and encodes
responses.

Register values are unsigned 16-bit integers as on the wire; typed values (INT32, scales) belong
to a register map such as :mod:`openprepaid.protocol.modbus.acrel`.
"""

from __future__ import annotations

import struct
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, ClassVar

from ..errors import LocalProtocolError, MeterRefused, ProtocolError, RemoteProtocolError
from .common import Direction


class FunctionCode(IntEnum):
    READ_COILS = 0x01
    READ_HOLDING_REGISTERS = 0x03
    READ_INPUT_REGISTERS = 0x04
    WRITE_SINGLE_COIL = 0x05
    WRITE_SINGLE_REGISTER = 0x06
    WRITE_MULTIPLE_REGISTERS = 0x10


class ExceptionCode(IntEnum):
    """The exception code of an exception response (function code | 0x80).

    A code outside the standard list decodes to an ``UNKNOWN_XX`` pseudo-member rather than
    failing: a vendor may use its own codes and the reply is still a valid "no".
    """

    ILLEGAL_FUNCTION = 0x01
    ILLEGAL_DATA_ADDRESS = 0x02
    ILLEGAL_DATA_VALUE = 0x03
    SERVER_DEVICE_FAILURE = 0x04
    ACKNOWLEDGE = 0x05
    SERVER_DEVICE_BUSY = 0x06
    NEGATIVE_ACKNOWLEDGE = 0x07
    MEMORY_PARITY_ERROR = 0x08
    GATEWAY_PATH_UNAVAILABLE = 0x0A
    GATEWAY_TARGET_FAILED_TO_RESPOND = 0x0B

    @classmethod
    def _missing_(cls, value: object) -> ExceptionCode | None:
        if isinstance(value, int) and 0 <= value <= 0xFF:
            member = int.__new__(cls, value)
            member._name_ = f"UNKNOWN_{value:02X}"
            member._value_ = value
            return member
        return None


MAX_COILS = 2000  # FC01 quantity
MAX_READ_REGISTERS = 125  # FC03 / FC04 quantity
MAX_WRITE_REGISTERS = 123  # FC16 quantity
COIL_ON = 0xFF00
COIL_OFF = 0x0000

_Err = type[ProtocolError]


def _check(cond: bool, err: _Err, message: str) -> None:
    if not cond:
        raise err(message)


def _check_range(address: int, count: int, limit: int, err: _Err, what: str) -> None:
    _check(isinstance(count, int) and 1 <= count <= limit, err, f"{what} must be 1..{limit}")
    _check(
        isinstance(address, int) and 0 <= address <= 0xFFFF and address + count <= 0x10000,
        err,
        f"address {address!r} with {count} {what} is outside 0x0000..0xFFFF",
    )


def _check_word(value: int, err: _Err, what: str = "register value") -> None:
    _check(isinstance(value, int) and 0 <= value <= 0xFFFF, err, f"{what} must be 0..65535")


def _pack_words(values: Sequence[int]) -> bytes:
    return struct.pack(f">{len(values)}H", *values)


def _check_words(values: Sequence[int], err: _Err) -> None:
    try:
        _pack_words(values)
    except struct.error:
        raise err("register values must be integers 0..65535") from None


class _Pdu(ABC):
    """Base of every PDU: ``function_code``, ``direction``, ``encode()``."""

    __slots__ = ()
    function_code: ClassVar[int]
    direction: ClassVar[Direction]

    def __post_init__(self) -> None:
        self._validate(LocalProtocolError)

    @abstractmethod
    def _validate(self, err: _Err) -> None: ...

    @abstractmethod
    def _data(self) -> bytes: ...

    def encode(self) -> bytes:
        """The PDU bytes: function code then data."""
        return bytes((self.function_code,)) + self._data()


# --- requests ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _ReadRequest(_Pdu):
    address: int
    count: int
    direction: ClassVar[Direction] = Direction.REQUEST
    limit: ClassVar[int] = MAX_READ_REGISTERS

    def _validate(self, err: _Err) -> None:
        _check_range(self.address, self.count, self.limit, err, "quantity")

    def _data(self) -> bytes:
        return self.address.to_bytes(2, "big") + self.count.to_bytes(2, "big")


@dataclass(frozen=True, slots=True)
class ReadCoilsRequest(_ReadRequest):
    function_code: ClassVar[int] = FunctionCode.READ_COILS
    limit: ClassVar[int] = MAX_COILS


@dataclass(frozen=True, slots=True)
class ReadHoldingRegistersRequest(_ReadRequest):
    function_code: ClassVar[int] = FunctionCode.READ_HOLDING_REGISTERS


@dataclass(frozen=True, slots=True)
class ReadInputRegistersRequest(_ReadRequest):
    function_code: ClassVar[int] = FunctionCode.READ_INPUT_REGISTERS


@dataclass(frozen=True, slots=True)
class _WriteSingleCoil(_Pdu):
    address: int
    value: bool
    function_code: ClassVar[int] = FunctionCode.WRITE_SINGLE_COIL

    def _validate(self, err: _Err) -> None:
        _check_word(self.address, err, "coil address")
        _check(isinstance(self.value, bool), err, "a coil value is True or False")

    def _data(self) -> bytes:
        return self.address.to_bytes(2, "big") + (b"\xff\x00" if self.value else b"\x00\x00")


@dataclass(frozen=True, slots=True)
class WriteSingleCoilRequest(_WriteSingleCoil):
    direction: ClassVar[Direction] = Direction.REQUEST


@dataclass(frozen=True, slots=True)
class _WriteSingleRegister(_Pdu):
    address: int
    value: int
    function_code: ClassVar[int] = FunctionCode.WRITE_SINGLE_REGISTER

    def _validate(self, err: _Err) -> None:
        _check_word(self.address, err, "register address")
        _check_word(self.value, err)

    def _data(self) -> bytes:
        return self.address.to_bytes(2, "big") + self.value.to_bytes(2, "big")


@dataclass(frozen=True, slots=True)
class WriteSingleRegisterRequest(_WriteSingleRegister):
    direction: ClassVar[Direction] = Direction.REQUEST


@dataclass(frozen=True, slots=True)
class WriteMultipleRegistersRequest(_Pdu):
    address: int
    values: tuple[int, ...]
    function_code: ClassVar[int] = FunctionCode.WRITE_MULTIPLE_REGISTERS
    direction: ClassVar[Direction] = Direction.REQUEST

    def _validate(self, err: _Err) -> None:
        _check(isinstance(self.values, tuple), err, "values must be a tuple of register values")
        _check_range(self.address, len(self.values), MAX_WRITE_REGISTERS, err, "quantity")
        _check_words(self.values, err)

    def _data(self) -> bytes:
        n = len(self.values)
        return struct.pack(">HHB", self.address, n, 2 * n) + _pack_words(self.values)


# --- responses -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReadCoilsResponse(_Pdu):
    """Coil states, first coil first. On the wire they are packed 8 to a byte, LSB first, and the
    last byte is padded with zeros; a decoded response therefore always holds a multiple of 8
    bits — the master trims to the quantity it asked for."""

    bits: tuple[bool, ...]
    function_code: ClassVar[int] = FunctionCode.READ_COILS
    direction: ClassVar[Direction] = Direction.RESPONSE

    def _validate(self, err: _Err) -> None:
        _check(isinstance(self.bits, tuple), err, "bits must be a tuple of bools")
        _check(1 <= len(self.bits) <= MAX_COILS + 7, err, f"1..{MAX_COILS} coils")
        _check(all(isinstance(b, bool) for b in self.bits), err, "bits must be bools")

    def _data(self) -> bytes:
        n_bytes = (len(self.bits) + 7) // 8
        packed = bytearray(n_bytes)
        for i, bit in enumerate(self.bits):
            if bit:
                packed[i >> 3] |= 1 << (i & 7)
        return bytes((n_bytes,)) + bytes(packed)


@dataclass(frozen=True, slots=True)
class _ReadRegistersResponse(_Pdu):
    registers: tuple[int, ...]
    direction: ClassVar[Direction] = Direction.RESPONSE

    def _validate(self, err: _Err) -> None:
        _check(isinstance(self.registers, tuple), err, "registers must be a tuple")
        n = len(self.registers)
        _check(1 <= n <= MAX_READ_REGISTERS, err, f"1..{MAX_READ_REGISTERS} registers")
        _check_words(self.registers, err)

    def _data(self) -> bytes:
        return bytes((2 * len(self.registers),)) + _pack_words(self.registers)


@dataclass(frozen=True, slots=True)
class ReadHoldingRegistersResponse(_ReadRegistersResponse):
    function_code: ClassVar[int] = FunctionCode.READ_HOLDING_REGISTERS


@dataclass(frozen=True, slots=True)
class ReadInputRegistersResponse(_ReadRegistersResponse):
    function_code: ClassVar[int] = FunctionCode.READ_INPUT_REGISTERS


@dataclass(frozen=True, slots=True)
class WriteSingleCoilResponse(_WriteSingleCoil):
    direction: ClassVar[Direction] = Direction.RESPONSE


@dataclass(frozen=True, slots=True)
class WriteSingleRegisterResponse(_WriteSingleRegister):
    direction: ClassVar[Direction] = Direction.RESPONSE


@dataclass(frozen=True, slots=True)
class WriteMultipleRegistersResponse(_ReadRequest):
    function_code: ClassVar[int] = FunctionCode.WRITE_MULTIPLE_REGISTERS
    direction: ClassVar[Direction] = Direction.RESPONSE
    limit: ClassVar[int] = MAX_WRITE_REGISTERS


@dataclass(frozen=True, slots=True)
class ExceptionResponse(_Pdu):
    """An abnormal reply: ``function`` is the requested function code (1..0x7F), sent as
    ``function | 0x80``. It is a valid frame, not an error; see :func:`raise_for_exception`."""

    function: int
    exception: ExceptionCode
    direction: ClassVar[Direction] = Direction.RESPONSE

    def _validate(self, err: _Err) -> None:
        _check(
            isinstance(self.function, int) and 1 <= self.function <= 0x7F,
            err,
            "function must be 1..0x7F",
        )
        code = self.exception
        _check(isinstance(code, int) and 0 <= code <= 0xFF, err, "exception code must be 0..255")
        if not isinstance(code, ExceptionCode):  # accept a plain int, keep the Enum
            object.__setattr__(self, "exception", ExceptionCode(code))

    @property
    def function_code(self) -> int:  # type: ignore[override]
        return self.function | 0x80

    def _data(self) -> bytes:
        return bytes((self.exception,))


Request = (
    ReadCoilsRequest
    | ReadHoldingRegistersRequest
    | ReadInputRegistersRequest
    | WriteSingleCoilRequest
    | WriteSingleRegisterRequest
    | WriteMultipleRegistersRequest
)
Response = (
    ReadCoilsResponse
    | ReadHoldingRegistersResponse
    | ReadInputRegistersResponse
    | WriteSingleCoilResponse
    | WriteSingleRegisterResponse
    | WriteMultipleRegistersResponse
    | ExceptionResponse
)
Pdu = Request | Response

FUNCTION_NAMES: dict[int, str] = {fc: fc.name.lower() for fc in FunctionCode}


# --- decoding ------------------------------------------------------------------------------


def _build(cls: Callable[..., Any], *args: Any) -> Any:
    """Construct a decoded PDU, turning its validation failure into the peer's fault."""
    try:
        return cls(*args)
    except LocalProtocolError as exc:
        raise RemoteProtocolError(f"invalid {cls.__name__}: {exc}") from None


def _u16(data: bytes, offset: int) -> int:
    return (data[offset] << 8) | data[offset + 1]


def _expect_len(data: bytes, length: int, what: str) -> None:
    if len(data) != length:
        raise RemoteProtocolError(f"{what}: PDU is {len(data)} bytes, expected {length}")


def _registers(data: bytes, start: int, count: int) -> tuple[int, ...]:
    return struct.unpack_from(f">{count}H", data, start)


_READ_REQUESTS = {
    0x01: ReadCoilsRequest,
    0x03: ReadHoldingRegistersRequest,
    0x04: ReadInputRegistersRequest,
}


def decode_request_pdu(data: bytes) -> Request:
    """Decode a request PDU (function code first). The whole of ``data`` must be the PDU."""
    if not data:
        raise RemoteProtocolError("empty PDU")
    fc = data[0]
    if fc in _READ_REQUESTS:
        _expect_len(data, 5, "read request")
        return _build(_READ_REQUESTS[fc], _u16(data, 1), _u16(data, 3))
    if fc == 0x05:
        _expect_len(data, 5, "write single coil")
        return _build(WriteSingleCoilRequest, _u16(data, 1), _coil_value(_u16(data, 3)))
    if fc == 0x06:
        _expect_len(data, 5, "write single register")
        return _build(WriteSingleRegisterRequest, _u16(data, 1), _u16(data, 3))
    if fc == 0x10:
        if len(data) < 6:
            raise RemoteProtocolError("write multiple registers: PDU too short")
        count, byte_count = _u16(data, 3), data[5]
        if byte_count != 2 * count:
            raise RemoteProtocolError(f"byte count {byte_count} does not match quantity {count}")
        _expect_len(data, 6 + byte_count, "write multiple registers")
        return _build(WriteMultipleRegistersRequest, _u16(data, 1), _registers(data, 6, count))
    raise RemoteProtocolError(f"unsupported function code 0x{fc:02X}")


def _coil_value(word: int) -> bool:
    if word == COIL_ON:
        return True
    if word == COIL_OFF:
        return False
    raise RemoteProtocolError(f"coil value 0x{word:04X} is neither FF00 nor 0000")


def decode_response_pdu(data: bytes) -> Response:
    """Decode a response PDU (function code first), normal or exception."""
    if not data:
        raise RemoteProtocolError("empty PDU")
    fc = data[0]
    if fc & 0x80:
        _expect_len(data, 2, "exception response")
        return _build(ExceptionResponse, fc & 0x7F, ExceptionCode(data[1]))
    if fc == 0x01:
        if len(data) < 2:
            raise RemoteProtocolError("read coils response: PDU too short")
        _expect_len(data, 2 + data[1], "read coils response")
        bits = tuple(bool(byte >> i & 1) for byte in data[2:] for i in range(8))
        return _build(ReadCoilsResponse, bits)
    if fc in (0x03, 0x04):
        if len(data) < 2:
            raise RemoteProtocolError("read registers response: PDU too short")
        byte_count = data[1]
        if byte_count % 2:
            raise RemoteProtocolError(f"odd byte count {byte_count} in a register response")
        _expect_len(data, 2 + byte_count, "read registers response")
        cls = ReadHoldingRegistersResponse if fc == 3 else ReadInputRegistersResponse
        return _build(cls, _registers(data, 2, byte_count // 2))
    if fc == 0x05:
        _expect_len(data, 5, "write single coil response")
        return _build(WriteSingleCoilResponse, _u16(data, 1), _coil_value(_u16(data, 3)))
    if fc == 0x06:
        _expect_len(data, 5, "write single register response")
        return _build(WriteSingleRegisterResponse, _u16(data, 1), _u16(data, 3))
    if fc == 0x10:
        _expect_len(data, 5, "write multiple registers response")
        return _build(WriteMultipleRegistersResponse, _u16(data, 1), _u16(data, 3))
    raise RemoteProtocolError(f"unsupported function code 0x{fc:02X}")


def decode_pdu(data: bytes, direction: Direction) -> Pdu:
    if Direction(direction) is Direction.REQUEST:
        return decode_request_pdu(data)
    return decode_response_pdu(data)


def pdu_length(head: bytes | bytearray, start: int, direction: Direction) -> int:
    """Length of the PDU starting at ``head[start]`` (its function code), from as few bytes as
    possible: ``0`` means "need more bytes to tell", ``-1`` "cannot be the start of a PDU we
    frame" (unknown function code, or a length header no valid PDU has — checked here so that a
    stream decoder hunting through garbage does not wait for a frame that cannot exist)."""
    avail = len(head) - start
    if avail < 1:
        return 0
    fc = head[start]
    if direction is Direction.REQUEST:
        if fc in (0x01, 0x03, 0x04, 0x05, 0x06):
            return 5
        if fc == 0x10:
            if avail < 6:
                return 0
            count, byte_count = head[start + 3] << 8 | head[start + 4], head[start + 5]
            if not 1 <= count <= MAX_WRITE_REGISTERS or byte_count != 2 * count:
                return -1
            return 6 + byte_count
        return -1
    if fc in (0x05, 0x06, 0x10):
        return 5
    if fc in (0x01, 0x03, 0x04):
        if avail < 2:
            return 0
        byte_count = head[start + 1]
        if fc == 0x01:
            ok = 1 <= byte_count <= (MAX_COILS + 7) // 8
        else:
            ok = 2 <= byte_count <= 2 * MAX_READ_REGISTERS and not byte_count % 2
        return 2 + byte_count if ok else -1
    if fc > 0x80:
        return 2
    return -1


def raise_for_exception(response: Response) -> Response:
    """Return ``response`` unless it is an exception response, which becomes MeterRefused."""
    if isinstance(response, ExceptionResponse):
        raise MeterRefused(response.exception, response)
    return response


def matches(request: Request, response: Response) -> bool:
    """Whether ``response`` is a possible answer to ``request`` (same function, right size)."""
    if isinstance(response, ExceptionResponse):
        return response.function == request.function_code
    if response.function_code != request.function_code:
        return False
    if isinstance(request, ReadHoldingRegistersRequest | ReadInputRegistersRequest):
        return len(response.registers) == request.count  # type: ignore[union-attr]
    if isinstance(request, ReadCoilsRequest):
        return len(response.bits) == 8 * ((request.count + 7) // 8)  # type: ignore[union-attr]
    if isinstance(request, WriteMultipleRegistersRequest):
        return (response.address, response.count) == (  # type: ignore[union-attr]
            request.address,
            len(request.values),
        )
    return (response.address, response.value) == (  # type: ignore[union-attr]
        request.address,
        request.value,
    )
