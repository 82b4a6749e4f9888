"""How a simulated DL/T 645-2007 prepaid meter answers a request frame.

The request is decoded by the protocol core (:func:`parse_request`) and the reply built from its
reply classes; this module only decides *what* the meter says.

Addressing: frames to the meter's own address; to the wildcard ``AAAAAAAAAAAA`` or a shortened
address whose leading bytes are ``AA`` only reads and read-address (the reply carries the real
address); the broadcast ``999999999999`` only for time sync (C=08), which is never answered.

Passwords: a write (14) or plain control (1C) needs level 02 or 04 with that level's code
(defaults ``123456`` / ``000000``, :data:`~openprepaid.simulator.meter.DEFAULT_PASSWORDS`);
otherwise ERR ``UNAUTHORIZED``. The ciphered 1C (level 98) goes to the security module; it has
no SERR, so a refusal is ERR ``UNAUTHORIZED`` too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from openprepaid.protocol.dlt645.codes import ErrorFlags, Function
from openprepaid.protocol.dlt645.formats import MeterDate
from openprepaid.protocol.dlt645.frame import BROADCAST_ADDRESS, WILDCARD_ADDRESS, Frame
from openprepaid.protocol.dlt645.identifiers import lookup
from openprepaid.protocol.dlt645.replies import (
    AbnormalReply,
    Ack,
    ReadAddressReply,
    ReadReply,
    SecurityAbnormalReply,
    SecurityReply,
)
from openprepaid.protocol.dlt645.requests import (
    BroadcastTimeRequest,
    ChangeBaudRequest,
    CipheredControlRequest,
    ControlRequest,
    ReadAddressRequest,
    ReadRequest,
    SecurityRequest,
    WriteRequest,
    parse_request,
)
from openprepaid.protocol.dlt645.status import STATUS_WORDS
from openprepaid.protocol.errors import ProtocolError
from openprepaid.protocol.security.messages import (
    AuthenticationAccepted,
    SecurityRefusal,
    WalletAccepted,
)
from openprepaid.simulator.tou import MAX_SWITCHES, TouTable, TouTableError

if TYPE_CHECKING:
    from openprepaid.simulator.meter import SimMeter

_READ = int(Function.READ)
_WILDCARD_FUNCTIONS = frozenset({_READ, int(Function.READ_ADDRESS)})
_DATE, _TIME = 0x04000101, 0x04000102
_TIME_DIS = frozenset({_DATE, _TIME})
_CIPHER_LEVEL = 0x98
_THRESHOLD_DIS = {
    0x04001001: "alarm_1",
    0x04001002: "alarm_2",
    0x04001003: "overdraft_limit",
    0x04001004: "hoarding_limit",
    0x04001005: "close_allowed_limit",
}
_DAY_TABLE = 0x04010001
_ZERO_STATUS = tuple(flags(0) for flags in STATUS_WORDS)


class _NoData(Exception):
    """The meter has no such item."""


def handle_frame(meter: SimMeter, frame: Frame, now: dt.datetime) -> Frame | None:
    """The reply frame of ``meter`` to ``frame`` at true simulated time ``now``, or ``None``."""
    address = frame.address
    if address != meter.address:
        if address == BROADCAST_ADDRESS:
            if frame.control == Function.BROADCAST_TIME:
                _broadcast_time(meter, frame, now)
            return None
        if address != WILDCARD_ADDRESS and not _shortened_match(address, meter.address):
            return None
        if frame.control not in _WILDCARD_FUNCTIONS:  # only reads are heard by AA pads
            return None
    if frame.control == _READ and len(frame.data) == 4:  # the common plain read, first
        return _read(meter, int.from_bytes(frame.data, "little"), now)
    try:
        request = parse_request(frame)
    except ProtocolError:
        return None  # a garbled request is not answered
    own = meter.address
    if isinstance(request, ReadRequest):
        if request.count is not None:  # load-profile records: not kept
            return AbnormalReply(own, Function.READ, ErrorFlags.NO_REQUEST_DATA).to_frame()
        return _read(meter, request.di, now)
    if isinstance(request, ReadAddressRequest):
        return ReadAddressReply(own).to_frame()
    if isinstance(request, BroadcastTimeRequest):
        meter.set_meter_time(request.time, now)
        return None
    if isinstance(request, WriteRequest):
        return _write(meter, request, now).to_frame()
    if isinstance(request, ControlRequest):
        return _control(meter, request, now).to_frame()
    if isinstance(request, CipheredControlRequest):
        return _ciphered_control(meter, request, now).to_frame()
    if isinstance(request, SecurityRequest):
        return _security(meter, request, now).to_frame()
    if isinstance(request, ChangeBaudRequest):
        error = ErrorFlags.BAUD_RATE_NOT_CHANGEABLE
        return AbnormalReply(own, Function.CHANGE_BAUD, error).to_frame()
    return AbnormalReply(own, Function(request.function), ErrorFlags.OTHER).to_frame()


def _shortened_match(address: str, own: str) -> bool:
    """``AAAA12345678``-style addresses: AA pads stand for any leading bytes."""
    for i in range(0, 12, 2):
        pair = address[i : i + 2]
        if pair != "AA" and pair != own[i : i + 2]:
            return False
    return True


def _broadcast_time(meter: SimMeter, frame: Frame, now: dt.datetime) -> None:
    try:
        request = parse_request(frame)
    except ProtocolError:
        return
    if isinstance(request, BroadcastTimeRequest):
        meter.set_meter_time(request.time, now)


# --- reads ----------------------------------------------------------------------------------


def _read(meter: SimMeter, di: int, now: dt.datetime) -> Frame:
    meter.advance(now)
    cache = meter.read_cache
    cached = cache.get(di)
    if cached is not None and cached[0] == meter.version:
        data = cached[1]
    else:
        try:
            value = _value(meter, di, now)
        except _NoData:
            return AbnormalReply(
                meter.address, Function.READ, ErrorFlags.NO_REQUEST_DATA
            ).to_frame()
        data = lookup(di).format.encode(value)
        if di not in _TIME_DIS:
            cache[di] = (meter.version, data)
    return ReadReply(meter.address, di, data).to_frame()


def _value(meter: SimMeter, di: int, now: dt.datetime) -> Any:
    simple = _SIMPLE.get(di)
    if simple is not None:
        return simple(meter, now)
    di3, di2, di1, di0 = di.to_bytes(4, "big")
    if di3 == 0x00 and di2 <= 0x02 and di0 == 0x00:
        ticks = meter.energy_ticks(di2)
        if di1 == 0xFF:
            return tuple(Decimal(t).scaleb(-2) for t in ticks)
        if di1 <= 4:
            return Decimal(ticks[di1]).scaleb(-2)
        raise _NoData
    if di3 == 0x02 and di0 == 0x00 and di2 in (0x01, 0x02, 0x03, 0x05, 0x06):
        return _variable(meter, di2, di1, now)
    if di3 == 0x04 and di2 == 0x05 and di1 == 0x01:
        if 1 <= di0 <= 4:
            return Decimal(meter.prices[di0 - 1]).scaleb(-4)
        if di0 == 0xFF:
            return tuple(Decimal(p).scaleb(-4) for p in meter.prices)
    raise _NoData


def _variable(meter: SimMeter, kind: int, phase: int, now: dt.datetime) -> Any:
    instant = meter.instant(now)
    three = len(instant.voltage_dv) == 3
    if kind in (0x01, 0x02):  # voltage, current: phases only
        items = instant.voltage_dv if kind == 0x01 else instant.current_ma
        scale = -1 if kind == 0x01 else -3
        if phase == 0xFF and three:
            return tuple(Decimal(v).scaleb(scale) for v in items)
        if 1 <= phase <= len(items):
            return Decimal(items[phase - 1]).scaleb(scale)
        raise _NoData
    if kind == 0x03:  # active power, kW: total then phases
        powers = (instant.power_w, *instant.phase_power_w) if three else (instant.power_w,) * 2
        if phase == 0xFF and three:
            return tuple(Decimal(p).scaleb(-3) for p in powers)
        if phase < len(powers):
            return Decimal(powers[phase]).scaleb(-3)
        raise _NoData
    if phase != 0:
        raise _NoData
    if kind == 0x05:
        return Decimal(instant.apparent_va).scaleb(-3)
    return Decimal(instant.power_factor).scaleb(-3)


def _status_words(meter: SimMeter) -> tuple[Any, ...]:
    words = list(_ZERO_STATUS)
    words[0] = meter.status_word_1()
    words[2] = meter.status_word_3()
    return tuple(words)


def _meter_date(meter: SimMeter, now: dt.datetime) -> MeterDate:
    moment = meter.meter_time(now)
    return MeterDate(moment.date(), (moment.weekday() + 1) % 7)


_SIMPLE: dict[int, Callable[[Any, dt.datetime], Any]] = {
    0x00900200: lambda m, now: Decimal(max(m.balance_fen, 0)).scaleb(-2),
    0x00900201: lambda m, now: Decimal(max(-m.balance_fen, 0)).scaleb(-2),
    0x02800002: lambda m, now: Decimal("50.00"),
    0x03300D00: lambda m, now: m.cover_open_count,
    0x03330201: lambda m, now: m.security.purchase_count % 10000,
    _DATE: _meter_date,
    _TIME: lambda m, now: m.meter_time(now).time().replace(microsecond=0),
    0x04000401: lambda m, now: m.address,
    0x04000402: lambda m, now: m.spec.meter_number,
    0x0400040E: lambda m, now: m.security.customer_number or "0" * 12,
    0x040005FF: lambda m, now: {
        f"status_word_{n}": word for n, word in enumerate(_status_words(m), start=1)
    },
    0x04001001: lambda m, now: Decimal(m.thresholds["alarm_1"]).scaleb(-2),
    0x04001002: lambda m, now: Decimal(m.thresholds["alarm_2"]).scaleb(-2),
    0x04001003: lambda m, now: Decimal(m.thresholds["overdraft_limit"]).scaleb(-2),
    0x04001004: lambda m, now: Decimal(m.hoarding_limit_fen).scaleb(-2),
    0x04001005: lambda m, now: Decimal(m.thresholds["close_allowed_limit"]).scaleb(-2),
    _DAY_TABLE: lambda m, now: m.tou.to_fields(),
    **{
        0x04000500 + n: (lambda m, now, n=n: _status_words(m)[n - 1])
        for n in range(1, len(STATUS_WORDS) + 1)
    },
}


# --- writes and control ---------------------------------------------------------------------


def _password_ok(meter: SimMeter, level: int, code: str) -> bool:
    expected = meter.passwords.get(level)
    return level in (0x02, 0x04) and expected is not None and expected == code


def _write(meter: SimMeter, request: WriteRequest, now: dt.datetime) -> Ack | AbnormalReply:
    own = meter.address
    if not _password_ok(meter, request.password.level, request.password.code):
        return AbnormalReply(own, Function.WRITE, ErrorFlags.UNAUTHORIZED)
    try:
        error = _apply_write(meter, request.di, request.decoded_value(), now)
    except (ProtocolError, TypeError, KeyError, ValueError):
        error = ErrorFlags.OTHER
    if error is not None:
        return AbnormalReply(own, Function.WRITE, error)
    return Ack(own, Function.WRITE)


def _apply_write(meter: SimMeter, di: int, value: Any, now: dt.datetime) -> ErrorFlags | None:
    if value is None:
        return ErrorFlags.OTHER
    if 0x04050101 <= di <= 0x04050104:
        meter.set_price(di - 0x04050100, int(Decimal(value).scaleb(4)), now)
    elif di in _THRESHOLD_DIS:
        meter.set_threshold(_THRESHOLD_DIS[di], int(Decimal(value).scaleb(2)), now)
    elif di == _DATE:
        shown = meter.meter_time(now)
        meter.set_meter_time(dt.datetime.combine(value.date, shown.time()), now)
    elif di == _TIME:
        shown = meter.meter_time(now)
        meter.set_meter_time(dt.datetime.combine(shown.date(), value), now)
    elif di == _DAY_TABLE:
        if len(value) > MAX_SWITCHES:
            return ErrorFlags.TOO_MANY_DAY_SEGMENTS
        try:
            table = TouTable.from_fields(value)
        except TouTableError:
            return ErrorFlags.OTHER
        meter.set_tou(table, now)
    else:
        return ErrorFlags.OTHER
    return None


def _control(meter: SimMeter, request: ControlRequest, now: dt.datetime) -> Ack | AbnormalReply:
    own = meter.address
    if not _password_ok(meter, request.password.level, request.password.code):
        return AbnormalReply(own, Function.CONTROL, ErrorFlags.UNAUTHORIZED)
    if request.valid_until < meter.meter_time(now):
        return AbnormalReply(own, Function.CONTROL, ErrorFlags.OTHER)
    meter.command(request.command, now)
    return Ack(own, Function.CONTROL)


def _ciphered_control(
    meter: SimMeter, request: CipheredControlRequest, now: dt.datetime
) -> Ack | AbnormalReply:
    own = meter.address
    if request.password.level != _CIPHER_LEVEL:
        return AbnormalReply(own, Function.CONTROL, ErrorFlags.UNAUTHORIZED)
    outcome = meter.remote_control(request.ciphertext, now)
    if isinstance(outcome, SecurityRefusal):
        return AbnormalReply(own, Function.CONTROL, ErrorFlags.UNAUTHORIZED)
    if outcome.deadline < meter.meter_time(now):
        return AbnormalReply(own, Function.CONTROL, ErrorFlags.OTHER)
    meter.command(outcome.action, now)
    return Ack(own, Function.CONTROL)


def _security(
    meter: SimMeter, request: SecurityRequest, now: dt.datetime
) -> SecurityReply | SecurityAbnormalReply:
    own = meter.address
    outcome = meter.security_request(request.di, request.data, now)
    if isinstance(outcome, AuthenticationAccepted):
        return SecurityReply(own, request.di, outcome.reply)
    if isinstance(outcome, WalletAccepted):
        return SecurityReply(own, request.di, b"")
    return SecurityAbnormalReply(own, outcome.flags)
