"""Slave → master replies, normal and abnormal, FACTS §2.

The slave (simulator) builds a reply and calls :func:`encode_reply`; the master calls
:func:`parse_reply` on a received :class:`Frame`. Abnormal replies are valid replies, not
errors: :class:`AbnormalReply` carries :class:`ErrorFlags` (ERR) and
:class:`SecurityAbnormalReply` carries :class:`SecurityErrorFlags` (SERR); ``refusal()`` turns
either into a :class:`MeterRefused` to raise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from openprepaid.protocol.dlt645.codes import (
    ABNORMAL_BIT,
    DIRECTION_BIT,
    FOLLOW_UP_BIT,
    FUNCTION_MASK,
    BaudRate,
    ErrorFlags,
    Function,
    SecurityErrorFlags,
)
from openprepaid.protocol.dlt645.fields import Password, check_di, di_from_wire, di_to_wire
from openprepaid.protocol.dlt645.frame import (
    Frame,
    address_from_wire,
    address_to_wire,
    encode_frame,
    is_byte,
)
from openprepaid.protocol.dlt645.identifiers import DataIdentifier, lookup
from openprepaid.protocol.errors import LocalProtocolError, MeterRefused, RemoteProtocolError

#: Functions whose normal reply has no data (L=0).
ACK_FUNCTIONS = frozenset(
    {
        Function.WRITE,
        Function.WRITE_ADDRESS,
        Function.FREEZE,
        Function.CLEAR_DEMAND,
        Function.CLEAR_METER,
        Function.CLEAR_EVENTS,
        Function.CONTROL,
    }
)


def _expect(data: bytes, length: int, what: str) -> None:
    if len(data) != length:
        raise RemoteProtocolError(f"{what} carries {length} data bytes, got {len(data)}")


@dataclass(frozen=True, slots=True)
class ReadReply:
    """91 (B1 when ``follow_up``): DI + the item's raw value bytes."""

    function: ClassVar[Function] = Function.READ
    address: str
    di: int
    data: bytes
    follow_up: bool = False

    def __post_init__(self) -> None:
        check_di(self.di)

    @property
    def identifier(self) -> DataIdentifier:
        return lookup(self.di)

    @property
    def value(self) -> Any:
        """The decoded value (``RemoteProtocolError`` if the bytes do not fit the DI's format)."""
        return lookup(self.di).format.decode(self.data)

    @classmethod
    def of(cls, address: str, di: int, value: Any, *, follow_up: bool = False) -> ReadReply:
        """A reply carrying ``value`` encoded in the DI's format (slave side)."""
        return cls(address, di, lookup(di).encode(value), follow_up)

    def to_frame(self) -> Frame:
        control = DIRECTION_BIT | self.function | (FOLLOW_UP_BIT if self.follow_up else 0)
        return Frame(self.address, control, di_to_wire(self.di) + self.data)

    @classmethod
    def from_frame(cls, frame: Frame) -> ReadReply:
        data = frame.data
        if len(data) < 4:
            raise RemoteProtocolError("a read reply carries at least the 4-byte DI")
        # Trusted: a 4-byte DI is always in range, so skip the dataclass checks (hot path).
        reply = object.__new__(cls)
        _set(reply, "address", frame.address)
        _set(reply, "di", int.from_bytes(data[:4], "little"))
        _set(reply, "data", data[4:])
        _set(reply, "follow_up", bool(frame.control & FOLLOW_UP_BIT))
        return reply


@dataclass(frozen=True, slots=True)
class ReadFollowUpReply:
    """92 (B2 when more follow): DI + data + frame sequence number."""

    function: ClassVar[Function] = Function.READ_FOLLOW_UP
    address: str
    di: int
    data: bytes
    seq: int
    follow_up: bool = False

    def __post_init__(self) -> None:
        check_di(self.di)
        if not is_byte(self.seq):
            raise LocalProtocolError("the frame sequence number is one byte")

    def to_frame(self) -> Frame:
        control = DIRECTION_BIT | self.function | (FOLLOW_UP_BIT if self.follow_up else 0)
        return Frame(self.address, control, di_to_wire(self.di) + self.data + bytes((self.seq,)))

    @classmethod
    def from_frame(cls, frame: Frame) -> ReadFollowUpReply:
        if len(frame.data) < 5:
            raise RemoteProtocolError("a follow-up reply carries at least DI + sequence number")
        data = frame.data
        return cls(frame.address, di_from_wire(data), data[4:-1], data[-1], frame.follow_up)


@dataclass(frozen=True, slots=True)
class ReadAddressReply:
    """93: the meter's address, in the header and in DATA."""

    function: ClassVar[Function] = Function.READ_ADDRESS
    address: str

    def __post_init__(self) -> None:
        Frame(self.address, 0)

    def to_frame(self) -> Frame:
        return Frame(self.address, DIRECTION_BIT | self.function, address_to_wire(self.address))

    @classmethod
    def from_frame(cls, frame: Frame) -> ReadAddressReply:
        _expect(frame.data, 6, "a read-address reply")
        address = address_from_wire(frame.data)
        if not address.isdigit():
            raise RemoteProtocolError(f"reported address {address} is not BCD")
        return cls(address)


@dataclass(frozen=True, slots=True)
class Ack:
    """A normal reply without data: 94 write, 95 write address, 96 freeze, 99/9A/9B clears,
    9C control."""

    address: str
    function: Function

    def __post_init__(self) -> None:
        if self.function not in ACK_FUNCTIONS:
            raise LocalProtocolError(f"{self.function.label} replies are not empty")

    def to_frame(self) -> Frame:
        return Frame(self.address, DIRECTION_BIT | self.function)

    @classmethod
    def from_frame(cls, frame: Frame) -> Ack:
        _expect(frame.data, 0, f"a {frame.function.label if frame.function else ''} reply")
        return cls(frame.address, Function(frame.function_code))


@dataclass(frozen=True, slots=True)
class ChangeBaudReply:
    """97: echoes the characteristic word."""

    function: ClassVar[Function] = Function.CHANGE_BAUD
    address: str
    baud: BaudRate

    def to_frame(self) -> Frame:
        return Frame(self.address, DIRECTION_BIT | self.function, bytes((BaudRate(self.baud),)))

    @classmethod
    def from_frame(cls, frame: Frame) -> ChangeBaudReply:
        _expect(frame.data, 1, "a change-baud reply")
        try:
            return cls(frame.address, BaudRate(frame.data[0]))
        except ValueError:
            raise RemoteProtocolError(f"{frame.data[0]:02X} is not a baud word") from None


@dataclass(frozen=True, slots=True)
class ChangePasswordReply:
    """98: the new password PA P0P1P2 [M]."""

    function: ClassVar[Function] = Function.CHANGE_PASSWORD
    address: str
    password: Password

    def to_frame(self) -> Frame:
        return Frame(self.address, DIRECTION_BIT | self.function, self.password.to_bytes())

    @classmethod
    def from_frame(cls, frame: Frame) -> ChangePasswordReply:
        _expect(frame.data, 4, "a change-password reply")
        try:
            return cls(frame.address, Password.from_bytes(frame.data))
        except LocalProtocolError as exc:
            raise RemoteProtocolError(str(exc)) from None


@dataclass(frozen=True, slots=True)
class MultiFunctionOutputReply:
    """9D: echoes the output selector."""

    function: ClassVar[Function] = Function.MULTI_FUNCTION_OUTPUT
    address: str
    output: int

    def to_frame(self) -> Frame:
        return Frame(self.address, DIRECTION_BIT | self.function, bytes((self.output,)))

    @classmethod
    def from_frame(cls, frame: Frame) -> MultiFunctionOutputReply:
        _expect(frame.data, 1, "a multi-function output reply")
        return cls(frame.address, frame.data[0])


@dataclass(frozen=True, slots=True)
class SecurityReply:
    """83: DI + payload (for the security module to check)."""

    function: ClassVar[Function] = Function.SECURITY
    address: str
    di: int
    data: bytes = b""

    def __post_init__(self) -> None:
        check_di(self.di)

    def to_frame(self) -> Frame:
        return Frame(self.address, DIRECTION_BIT | self.function, di_to_wire(self.di) + self.data)

    @classmethod
    def from_frame(cls, frame: Frame) -> SecurityReply:
        if len(frame.data) < 4:
            raise RemoteProtocolError("a security reply carries at least the 4-byte DI")
        return cls(frame.address, di_from_wire(frame.data), frame.data[4:])


@dataclass(frozen=True, slots=True)
class AbnormalReply:
    """D1, D2, D4, D6 … DC: the meter refuses; ``error`` is the ERR byte."""

    address: str
    function: Function
    error: ErrorFlags

    def __post_init__(self) -> None:
        if self.function is Function.SECURITY:
            raise LocalProtocolError("security refusals carry SERR: use SecurityAbnormalReply")

    def refusal(self) -> MeterRefused:
        return MeterRefused(self.error, self)

    def to_frame(self) -> Frame:
        control = DIRECTION_BIT | ABNORMAL_BIT | self.function
        return Frame(self.address, control, bytes((self.error.value,)))

    @classmethod
    def from_frame(cls, frame: Frame) -> AbnormalReply:
        _expect(frame.data, 1, "an abnormal reply")
        return cls(frame.address, Function(frame.function_code), ErrorFlags(frame.data[0]))


@dataclass(frozen=True, slots=True)
class SecurityAbnormalReply:
    """C3: a security command refused; ``error`` is the two-byte SERR (LSB first)."""

    function: ClassVar[Function] = Function.SECURITY
    address: str
    error: SecurityErrorFlags

    def refusal(self) -> MeterRefused:
        return MeterRefused(self.error, self)

    def to_frame(self) -> Frame:
        control = DIRECTION_BIT | ABNORMAL_BIT | self.function
        return Frame(self.address, control, self.error.value.to_bytes(2, "little"))

    @classmethod
    def from_frame(cls, frame: Frame) -> SecurityAbnormalReply:
        _expect(frame.data, 2, "an abnormal security reply")
        return cls(frame.address, SecurityErrorFlags(int.from_bytes(frame.data, "little")))


Reply = (
    ReadReply
    | ReadFollowUpReply
    | ReadAddressReply
    | Ack
    | ChangeBaudReply
    | ChangePasswordReply
    | MultiFunctionOutputReply
    | SecurityReply
    | AbnormalReply
    | SecurityAbnormalReply
)

_NORMAL: dict[int, Any] = {
    Function.READ: ReadReply,
    Function.READ_FOLLOW_UP: ReadFollowUpReply,
    Function.READ_ADDRESS: ReadAddressReply,
    Function.CHANGE_BAUD: ChangeBaudReply,
    Function.CHANGE_PASSWORD: ChangePasswordReply,
    Function.MULTI_FUNCTION_OUTPUT: MultiFunctionOutputReply,
    Function.SECURITY: SecurityReply,
    **dict.fromkeys(ACK_FUNCTIONS, Ack),
}
_FOLLOW_UP_ALLOWED = (Function.READ, Function.READ_FOLLOW_UP)
_FUNCTIONS = {int(f): f for f in Function}
_set = object.__setattr__


def encode_reply(reply: Reply, preamble: int = 0) -> bytes:
    """The wire bytes of ``reply`` (meters vary: some send 4 FE first, many none)."""
    return encode_frame(reply.to_frame(), preamble)


def parse_reply(frame: Frame) -> Reply:
    """The typed reply in ``frame`` (master side); ``RemoteProtocolError`` if it is none."""
    control = frame.control
    if not control & DIRECTION_BIT:
        raise RemoteProtocolError(f"control {control:02X} is a request, not a reply")
    function = _FUNCTIONS.get(control & FUNCTION_MASK)
    if function is Function.READ and not control & ABNORMAL_BIT:
        return ReadReply.from_frame(frame)  # the common case first
    abnormal = control & ABNORMAL_BIT
    if function is None or (function is Function.BROADCAST_TIME and not abnormal):
        # Time sync is never answered, except refused when addressed (SY03A: C8 + ERR 04).
        raise RemoteProtocolError(f"control {control:02X} is not a known reply")
    if control & FOLLOW_UP_BIT and function not in _FOLLOW_UP_ALLOWED:
        raise RemoteProtocolError(f"control {control:02X}: only reads have follow-ups")
    if abnormal:
        if control & FOLLOW_UP_BIT:
            raise RemoteProtocolError(f"control {control:02X} is not a known reply")
        if function is Function.SECURITY:
            return SecurityAbnormalReply.from_frame(frame)
        return AbnormalReply.from_frame(frame)
    return _NORMAL[function].from_frame(frame)
