"""Master → slave requests: one frozen dataclass per command, FACTS §2.

The master builds a request and calls :func:`encode_request`; the slave (the simulator) calls
:func:`parse_request` on a received :class:`Frame`. Every request knows its ``function``, builds
its DATA (``payload()``) and parses it back (``from_payload``). Times are passed in as naive
datetimes in the meter's local time: nothing here reads a clock.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

from openprepaid.protocol.dlt645.codes import BaudRate, ControlCommand, Function
from openprepaid.protocol.dlt645.fields import (
    Password,
    check_di,
    check_operator,
    deadline_from_bytes,
    deadline_to_bytes,
    di_from_wire,
    di_to_wire,
    operator_from_bytes,
    operator_to_bytes,
)
from openprepaid.protocol.dlt645.formats import Bcd, Timestamp
from openprepaid.protocol.dlt645.frame import (
    BROADCAST_ADDRESS,
    WILDCARD_ADDRESS,
    Frame,
    address_from_wire,
    address_to_wire,
    encode_parts,
    is_byte,
)
from openprepaid.protocol.dlt645.identifiers import lookup
from openprepaid.protocol.errors import LocalProtocolError, RemoteProtocolError

_COUNT = Bcd(1)
_SINCE = Timestamp(5)  # load-profile start: mm hh DD MM YY
WILDCARD = 99
DEFAULT_PASSWORD = Password()  # level 02, 000000
CIPHER_LEVEL = Password(0x98)  # State-Grid level 98: ciphertext + MAC


class _Request(ABC):
    """What every request has: ``address``, ``function``, ``payload()``, ``from_payload()``."""

    __slots__ = ()
    function: ClassVar[Function]
    address: str

    def payload(self) -> bytes:
        return b""

    def to_frame(self) -> Frame:
        return Frame(self.address, int(self.function), self.payload())

    @classmethod
    @abstractmethod
    def from_payload(cls, address: str, data: bytes) -> Any: ...


def _expect_length(data: bytes, lengths: tuple[int, ...], what: str) -> None:
    if len(data) not in lengths:
        wanted = " or ".join(str(n) for n in lengths)
        raise RemoteProtocolError(f"{what} carries {wanted} data bytes, got {len(data)}")


@dataclass(frozen=True, slots=True)
class ReadRequest(_Request):
    """C=11. ``count`` (N) and ``since`` (mm hh DD MM YY) select load-profile records [M]."""

    function: ClassVar[Function] = Function.READ
    address: str
    di: int
    count: int | None = None
    since: dt.datetime | None = None

    def __post_init__(self) -> None:
        if self.count is None and self.since is None:  # the common plain read
            check_di(self.di)
            return
        check_di(self.di)
        if self.count is not None:
            _COUNT.encode(self.count)
        if self.since is not None:
            _SINCE.encode(self.since.replace(second=0, microsecond=0))
        if self.since is not None and self.count is None:
            raise LocalProtocolError("a load-profile read with a start time needs a count")

    def payload(self) -> bytes:
        data = self.di.to_bytes(4, "little")  # di_to_wire(), inlined on this hot path
        if self.count is not None:
            data += _COUNT.encode(self.count)
        if self.since is not None:
            data += _SINCE.encode(self.since.replace(second=0, microsecond=0))
        return data

    @classmethod
    def from_payload(cls, address: str, data: bytes) -> ReadRequest:
        _expect_length(data, (4, 5, 10), "a read request")
        count = since = None
        if len(data) >= 5:
            count = _COUNT.decode(data[4:5])
            if count is None:
                raise RemoteProtocolError("the record count N is not BCD")
        if len(data) == 10:
            since = _SINCE.decode(data[5:10])
            if since is None:
                raise RemoteProtocolError("the load-profile start time is not a valid time")
        return cls(address, di_from_wire(data), None if count is None else int(count), since)


@dataclass(frozen=True, slots=True)
class ReadFollowUpRequest(_Request):
    """C=12: DI + frame sequence number."""

    function: ClassVar[Function] = Function.READ_FOLLOW_UP
    address: str
    di: int
    seq: int

    def __post_init__(self) -> None:
        check_di(self.di)
        if not is_byte(self.seq):
            raise LocalProtocolError("the frame sequence number is one byte")

    def payload(self) -> bytes:
        return di_to_wire(self.di) + bytes((self.seq,))

    @classmethod
    def from_payload(cls, address: str, data: bytes) -> ReadFollowUpRequest:
        _expect_length(data, (5,), "a follow-up read")
        return cls(address, di_from_wire(data), data[4])


@dataclass(frozen=True, slots=True)
class ReadAddressRequest(_Request):
    """C=13, to the wildcard address AA…AA; no data."""

    function: ClassVar[Function] = Function.READ_ADDRESS
    address: str = WILDCARD_ADDRESS

    @classmethod
    def from_payload(cls, address: str, data: bytes) -> ReadAddressRequest:
        _expect_length(data, (0,), "a read-address request")
        return cls(address)


@dataclass(frozen=True, slots=True)
class WriteRequest(_Request):
    """C=14: DI + PA P0P1P2 + C0..C3 + value bytes (use :meth:`for_value` for typed values)."""

    function: ClassVar[Function] = Function.WRITE
    address: str
    di: int
    value: bytes
    password: Password = DEFAULT_PASSWORD
    operator: str = "00000000"

    def __post_init__(self) -> None:
        check_di(self.di)
        check_operator(self.operator)
        if len(self.value) > 255 - 12:
            raise LocalProtocolError("the value is too long for one frame")

    @classmethod
    def for_value(
        cls, address: str, di: int, value: Any, password: Password, operator: str = "00000000"
    ) -> WriteRequest:
        """A write of ``value`` encoded in the DI's format from the identifier table."""
        return cls(address, di, lookup(di).encode(value), password, operator)

    def decoded_value(self) -> Any:
        return lookup(self.di).decode(self.value)

    def payload(self) -> bytes:
        return (
            di_to_wire(self.di)
            + self.password.to_bytes()
            + operator_to_bytes(self.operator)
            + self.value
        )

    @classmethod
    def from_payload(cls, address: str, data: bytes) -> WriteRequest:
        if len(data) < 12:
            raise RemoteProtocolError(f"a write carries at least 12 data bytes, got {len(data)}")
        return cls(
            address,
            di_from_wire(data),
            data[12:],
            Password.from_bytes(data[4:8]),
            operator_from_bytes(data[8:12]),
        )


@dataclass(frozen=True, slots=True)
class WriteAddressRequest(_Request):
    """C=15: the new address, sent to AA…AA."""

    function: ClassVar[Function] = Function.WRITE_ADDRESS
    new_address: str
    address: str = WILDCARD_ADDRESS

    def __post_init__(self) -> None:
        Frame(self.new_address, 0)  # validates the address text
        if "A" in self.new_address:
            raise LocalProtocolError("the new address must be 12 digits")

    def payload(self) -> bytes:
        return address_to_wire(self.new_address)

    @classmethod
    def from_payload(cls, address: str, data: bytes) -> WriteAddressRequest:
        _expect_length(data, (6,), "a write-address request")
        new = address_from_wire(data)
        if not new.isdigit():
            raise RemoteProtocolError(f"new address {new} is not BCD")
        return cls(new, address)


@dataclass(frozen=True, slots=True)
class BroadcastTimeRequest(_Request):
    """C=08: ``ss mm hh DD MM YY``; normally to 99…99, and never answered."""

    function: ClassVar[Function] = Function.BROADCAST_TIME
    time: dt.datetime
    address: str = BROADCAST_ADDRESS

    def __post_init__(self) -> None:
        deadline_to_bytes(self.time)  # a datetime in 2000–2099, or LocalProtocolError

    def payload(self) -> bytes:
        return deadline_to_bytes(self.time)

    @classmethod
    def from_payload(cls, address: str, data: bytes) -> BroadcastTimeRequest:
        _expect_length(data, (6,), "a broadcast time")
        return cls(deadline_from_bytes(data), address)


@dataclass(frozen=True, slots=True)
class FreezeRequest(_Request):
    """C=16: ``mm hh DD MM``; ``None`` is the 99 wildcard (all ``None`` = freeze now).

    Monthly: month=None; daily: month=day=None; hourly: only ``minute``.
    """

    function: ClassVar[Function] = Function.FREEZE
    address: str
    month: int | None = None
    day: int | None = None
    hour: int | None = None
    minute: int | None = None

    def __post_init__(self) -> None:
        for name, top in (("month", 12), ("day", 31), ("hour", 23), ("minute", 59)):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= top:
                raise LocalProtocolError(f"freeze {name} {value} out of range")

    def payload(self) -> bytes:
        fields = (self.minute, self.hour, self.day, self.month)
        return bytes(int(f"{WILDCARD if v is None else v:02d}", 16) for v in fields)

    @classmethod
    def from_payload(cls, address: str, data: bytes) -> FreezeRequest:
        _expect_length(data, (4,), "a freeze request")
        text = data.hex()
        if not text.isdigit():
            raise RemoteProtocolError(f"freeze time {text} is not BCD")
        minute, hour, day, month = (int(text[i : i + 2]) for i in range(0, 8, 2))
        values = [None if v == WILDCARD else v for v in (month, day, hour, minute)]
        try:
            return cls(address, *values)
        except LocalProtocolError as exc:
            raise RemoteProtocolError(str(exc)) from None


@dataclass(frozen=True, slots=True)
class ChangeBaudRequest(_Request):
    """C=17: the characteristic word."""

    function: ClassVar[Function] = Function.CHANGE_BAUD
    address: str
    baud: BaudRate

    def payload(self) -> bytes:
        return bytes((BaudRate(self.baud),))

    @classmethod
    def from_payload(cls, address: str, data: bytes) -> ChangeBaudRequest:
        _expect_length(data, (1,), "a change-baud request")
        try:
            return cls(address, BaudRate(data[0]))
        except ValueError:
            raise RemoteProtocolError(f"{data[0]:02X} is not a baud characteristic word") from None


@dataclass(frozen=True, slots=True)
class ChangePasswordRequest(_Request):
    """C=18: DI 04000C01 + new level, old PA P0P1P2, new PA P0P1P2."""

    function: ClassVar[Function] = Function.CHANGE_PASSWORD
    address: str
    old: Password
    new: Password

    def __post_init__(self) -> None:
        if not 0 <= self.new.level <= 9:
            raise LocalProtocolError("password levels 0–9 have a password DI (04000C01..0A)")

    @property
    def di(self) -> int:
        return 0x04000C01 + self.new.level

    def payload(self) -> bytes:
        return di_to_wire(self.di) + self.old.to_bytes() + self.new.to_bytes()

    @classmethod
    def from_payload(cls, address: str, data: bytes) -> ChangePasswordRequest:
        _expect_length(data, (12,), "a change-password request")
        new = Password.from_bytes(data[8:12])
        if di_from_wire(data) != 0x04000C01 + new.level:
            raise RemoteProtocolError("the DI does not match the new password's level")
        try:
            return cls(address, Password.from_bytes(data[4:8]), new)
        except LocalProtocolError as exc:
            raise RemoteProtocolError(str(exc)) from None


@dataclass(frozen=True, slots=True)
class _AuthorisedRequest(_Request):
    """PA P0P1P2 + C0..C3 (the clear commands)."""

    address: str
    password: Password = DEFAULT_PASSWORD
    operator: str = "00000000"

    def __post_init__(self) -> None:
        check_operator(self.operator)

    def payload(self) -> bytes:
        return self.password.to_bytes() + operator_to_bytes(self.operator)

    @classmethod
    def from_payload(cls, address: str, data: bytes) -> Any:
        _expect_length(data, (8,), f"a {cls.function.label} request")
        return cls(address, Password.from_bytes(data[:4]), operator_from_bytes(data[4:8]))


@dataclass(frozen=True, slots=True)
class ClearDemandRequest(_AuthorisedRequest):
    function: ClassVar[Function] = Function.CLEAR_DEMAND


@dataclass(frozen=True, slots=True)
class ClearMeterRequest(_AuthorisedRequest):
    function: ClassVar[Function] = Function.CLEAR_METER


ALL_EVENTS = 0xFFFFFFFF


@dataclass(frozen=True, slots=True)
class ClearEventsRequest(_Request):
    """C=1B: PA P0P1P2 + C0..C3 + DI (FFFFFFFF = every event)."""

    function: ClassVar[Function] = Function.CLEAR_EVENTS
    address: str
    password: Password = DEFAULT_PASSWORD
    operator: str = "00000000"
    di: int = ALL_EVENTS

    def __post_init__(self) -> None:
        check_operator(self.operator)
        check_di(self.di)

    def payload(self) -> bytes:
        return self.password.to_bytes() + operator_to_bytes(self.operator) + di_to_wire(self.di)

    @classmethod
    def from_payload(cls, address: str, data: bytes) -> ClearEventsRequest:
        _expect_length(data, (12,), "an event-clear request")
        return cls(
            address,
            Password.from_bytes(data[:4]),
            operator_from_bytes(data[4:8]),
            di_from_wire(data[8:12]),
        )


@dataclass(frozen=True, slots=True)
class ControlRequest(_Request):
    """C=1C plain form: PA P0P1P2 + C0..C3 + N1 N2 + deadline ``ss mm hh DD MM YY`` (L=16)."""

    function: ClassVar[Function] = Function.CONTROL
    address: str
    command: ControlCommand
    valid_until: dt.datetime
    password: Password = DEFAULT_PASSWORD
    operator: str = "00000000"
    reserved: int = 0  # N2

    def __post_init__(self) -> None:
        check_operator(self.operator)
        if not is_byte(self.reserved):
            raise LocalProtocolError("N2 is one byte")
        deadline_to_bytes(self.valid_until)

    def payload(self) -> bytes:
        return (
            self.password.to_bytes()
            + operator_to_bytes(self.operator)
            + bytes((ControlCommand(self.command), self.reserved))
            + deadline_to_bytes(self.valid_until)
        )

    @classmethod
    def from_payload(cls, address: str, data: bytes) -> ControlRequest | CipheredControlRequest:
        if len(data) != 16:
            return CipheredControlRequest.from_payload(address, data)
        try:
            command = ControlCommand(data[8])
        except ValueError:
            raise RemoteProtocolError(f"N1 = {data[8]:02X} is not a control command") from None
        return cls(
            address,
            command,
            deadline_from_bytes(data[10:16]),
            Password.from_bytes(data[:4]),
            operator_from_bytes(data[4:8]),
            data[9],
        )


@dataclass(frozen=True, slots=True)
class CipheredControlRequest(_Request):
    """C=1C State-Grid form (level 98): PA P0P1P2 + C0..C3 + ciphertext with MAC (from the
    security module), which the meter's ESAM decrypts to N1..N8."""

    function: ClassVar[Function] = Function.CONTROL
    address: str
    ciphertext: bytes
    password: Password = CIPHER_LEVEL
    operator: str = "00000000"

    def __post_init__(self) -> None:
        check_operator(self.operator)
        if len(self.ciphertext) > 255 - 8 or len(self.ciphertext) == 8:
            raise LocalProtocolError("the ciphertext cannot be 8 bytes (that is the plain form)")

    def payload(self) -> bytes:
        return self.password.to_bytes() + operator_to_bytes(self.operator) + self.ciphertext

    @classmethod
    def from_payload(cls, address: str, data: bytes) -> CipheredControlRequest:
        if len(data) < 8:
            raise RemoteProtocolError(
                f"a control request carries at least 8 bytes, not {len(data)}"
            )
        return cls(address, data[8:], Password.from_bytes(data[:4]), operator_from_bytes(data[4:8]))


@dataclass(frozen=True, slots=True)
class MultiFunctionOutputRequest(_Request):
    """C=1D: 00 second pulse, 01 demand period, 02 time-segment switch."""

    function: ClassVar[Function] = Function.MULTI_FUNCTION_OUTPUT
    address: str
    output: int

    def __post_init__(self) -> None:
        if not is_byte(self.output):
            raise LocalProtocolError("the output selector is one byte")

    def payload(self) -> bytes:
        return bytes((self.output,))

    @classmethod
    def from_payload(cls, address: str, data: bytes) -> MultiFunctionOutputRequest:
        _expect_length(data, (1,), "a multi-function output request")
        return cls(address, data[0])


@dataclass(frozen=True, slots=True)
class SecurityRequest(_Request):
    """C=03 (2013 ESAM commands): DI + C0..C3 + payload from the security module."""

    function: ClassVar[Function] = Function.SECURITY
    address: str
    di: int
    data: bytes = b""
    operator: str = "00000000"

    def __post_init__(self) -> None:
        check_di(self.di)
        check_operator(self.operator)
        if len(self.data) > 255 - 8:
            raise LocalProtocolError("the security payload is too long for one frame")

    def payload(self) -> bytes:
        return di_to_wire(self.di) + operator_to_bytes(self.operator) + self.data

    @classmethod
    def from_payload(cls, address: str, data: bytes) -> SecurityRequest:
        if len(data) < 8:
            raise RemoteProtocolError(
                f"a security request has at least 8 data bytes, not {len(data)}"
            )
        return cls(address, di_from_wire(data), data[8:], operator_from_bytes(data[4:8]))


Request = (
    ReadRequest
    | ReadFollowUpRequest
    | ReadAddressRequest
    | WriteRequest
    | WriteAddressRequest
    | BroadcastTimeRequest
    | FreezeRequest
    | ChangeBaudRequest
    | ChangePasswordRequest
    | ClearDemandRequest
    | ClearMeterRequest
    | ClearEventsRequest
    | ControlRequest
    | CipheredControlRequest
    | MultiFunctionOutputRequest
    | SecurityRequest
)

_BY_FUNCTION: dict[int, Any] = {
    cls.function: cls
    for cls in (
        ReadRequest,
        ReadFollowUpRequest,
        ReadAddressRequest,
        WriteRequest,
        WriteAddressRequest,
        BroadcastTimeRequest,
        FreezeRequest,
        ChangeBaudRequest,
        ChangePasswordRequest,
        ClearDemandRequest,
        ClearMeterRequest,
        ClearEventsRequest,
        ControlRequest,
        MultiFunctionOutputRequest,
        SecurityRequest,
    )
}


def encode_request(request: Request, preamble: int = 4) -> bytes:
    """The wire bytes of ``request`` (with ``preamble`` FE wake-up bytes)."""
    return encode_parts(request.address, request.function, request.payload(), preamble)


def parse_request(frame: Frame) -> Request:
    """The typed request in ``frame`` (slave side); ``RemoteProtocolError`` if it is none."""
    if frame.is_response:
        raise RemoteProtocolError(f"control {frame.control:02X} is a response, not a request")
    cls = _BY_FUNCTION.get(frame.function_code) if not frame.control & 0x60 else None
    if cls is None:
        raise RemoteProtocolError(f"control {frame.control:02X} is not a known request")
    try:
        return cls.from_payload(frame.address, frame.data)
    except LocalProtocolError as exc:  # a field the request's own checks reject
        raise RemoteProtocolError(str(exc)) from None
